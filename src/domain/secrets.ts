import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Signing secrets: `whsec_` + base64 of 24–64 random bytes (Standard Webhooks).
 * At rest they are sealed with AES-256-GCM under HOOKGRAPH_SECRET_KEY.
 */
export const SECRET_PREFIX = 'whsec_';

export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The raw key bytes of a `whsec_` secret, or undefined when it is not a valid one. */
export function signingSecretBytes(secret: string): Buffer | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length < 24 || bytes.length > 64) return undefined;
  return bytes;
}

export function isValidSigningSecret(secret: string): boolean {
  return signingSecretBytes(secret) !== undefined;
}

/*
 * Sealed format: `<version>.<iv>.<tag>.<ciphertext>`, base64url parts,
 * AES-256-GCM with a fresh 96-bit IV and a 16-byte tag.
 *  - v2 (written now): the subscription's row id is the additional data, so a
 *    sealed value copied into another row does not open there.
 *  - v1 (written before): no additional data; still opened, and re-sealed to
 *    v2 at startup (see src/db/seal-rows.ts).
 */
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals `plaintext` for the row `rowId` (v2). */
export function sealSecret(key: Buffer, plaintext: string, rowId: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(rowId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v2', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/** Opens a value sealed for the row `rowId`; throws when the key or row is wrong or the value was tampered with. */
export function openSecret(key: Buffer, sealed: string, rowId: string): string {
  const [version, iv, tag, ciphertext, extra] = sealed.split('.');
  if ((version !== 'v1' && version !== 'v2') || !iv || !tag || ciphertext === undefined || extra !== undefined) throw new Error('sealed secret has an unknown format');
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  // GCM would accept a truncated tag (down to 4 bytes): insist on the full 16.
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error('sealed secret has an unknown format');
  const decipher = createDecipheriv(ALGORITHM, key, ivBytes, { authTagLength: TAG_BYTES });
  if (version === 'v2') decipher.setAAD(Buffer.from(rowId, 'utf8'));
  decipher.setAuthTag(tagBytes);
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

/** Whether a sealed value is in an older format that should be sealed again. */
export function isOutdatedSeal(sealed: string): boolean {
  return !sealed.startsWith('v2.');
}
