import { generateSigningSecret, isValidSigningSecret, openSecret, sealSecret } from './secrets.js';

/**
 * A subscription's signing secrets: the current one, and during a rotation
 * the previous one until its grace period ends. Deliveries are signed with
 * every valid secret (space-separated `v1,` signatures), so receivers can
 * switch secrets without missing a delivery.
 */
export const DEFAULT_ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;
export const MAX_ROTATION_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

/** The secret columns, of an entity or of a store row. */
export interface SecretColumns {
  /** The subscription's id (the additional data of its sealed values): `id` of a subscription, `webhookSubscriptionId` of a delivery. */
  id?: string;
  webhookSubscriptionId?: string;
  secretEncrypted?: string | null;
  previousSecretEncrypted?: string | null;
  previousSecretExpiresAt?: Date | string | null;
}

/**
 * Every secret a delivery made at `now` must be signed with, current first.
 * Throws when the current secret is missing or cannot be opened (wrong
 * HOOKGRAPH_SECRET_KEY): signing with nothing would be worse.
 */
export function validSigningSecrets(row: SecretColumns, secretKey: Buffer, now: Date = new Date()): string[] {
  const current = row.secretEncrypted;
  const id = row.webhookSubscriptionId ?? row.id;
  if (!current || !id) throw new Error('subscription has no signing secret loaded (its id and sealed secret are needed)');
  const secrets = [openSecret(secretKey, current, id)];
  const previous = row.previousSecretEncrypted;
  const expiresRaw = row.previousSecretExpiresAt;
  if (previous && expiresRaw && new Date(expiresRaw).getTime() > now.getTime()) secrets.push(openSecret(secretKey, previous, id));
  return secrets;
}

/** A new sealed secret for the subscription `id`: the supplied one if valid, else a generated one. */
export function newSecret(secretKey: Buffer, id: string, supplied?: string | null): { plain: string; sealed: string } {
  const plain = supplied ?? generateSigningSecret();
  if (!isValidSigningSecret(plain)) throw new Error('invalid signing secret');
  return { plain, sealed: sealSecret(secretKey, plain, id) };
}

/**
 * The columns after a rotation at `now`: the current secret becomes the
 * previous one, valid for `graceMs` (0 ends it at once).
 */
export function rotatedColumns(
  currentSealed: string,
  secretKey: Buffer,
  id: string,
  now: Date,
  graceMs: number,
  supplied?: string | null,
): { plain: string; secretEncrypted: string; previousSecretEncrypted: string | null; previousSecretExpiresAt: Date | null } {
  const next = newSecret(secretKey, id, supplied);
  return {
    plain: next.plain,
    secretEncrypted: next.sealed,
    previousSecretEncrypted: graceMs > 0 ? currentSealed : null,
    previousSecretExpiresAt: graceMs > 0 ? new Date(now.getTime() + graceMs) : null,
  };
}
