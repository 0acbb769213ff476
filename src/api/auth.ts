import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthChecker } from 'type-graphql';
import { ApiKeyScope } from '../domain/entities/ApiKey.js';
import * as apiKeys from '../store/api-keys.js';
import type { Sql } from '../store/db.js';
import { forbidden, unauthenticated } from './errors.js';
import type { Context } from './context.js';

/** Who is calling: the operator's root key, a tenant's API key, or nobody. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'invalid' }
  | { kind: 'root' }
  | { kind: 'key'; tenantId: string; keyId: string; scopes: readonly ApiKeyScope[] };

/** Role names used with `@Authorized(...)`: a scope, or ROOT for the operator. */
export const ROOT = 'ROOT';
export type Role = ApiKeyScope | typeof ROOT;

const KEY_PREFIX = 'hg_';

/** A new random API key (256 bits), its display prefix and its stored hash. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: key.slice(0, 10), hash: hashApiKey(key) };
}

export function generateRootKey(): string {
  return 'hgroot_' + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Extracts the key from `Bearer <key>` (scheme case-insensitive). */
export function bearerKey(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * Resolves an Authorization header to a principal. Keys are looked up on every
 * call (one indexed read), so a revoked key stops working at once.
 */
export async function authenticate(db: Sql, rootKey: string, header: unknown): Promise<Principal> {
  if (header === undefined || header === null || header === '') return { kind: 'anonymous' };
  const key = bearerKey(header);
  if (!key) return { kind: 'invalid' };
  if (sameSecret(key, rootKey)) return { kind: 'root' };
  if (!key.startsWith(KEY_PREFIX)) return { kind: 'invalid' };
  const grant = await apiKeys.byHash(db, hashApiKey(key));
  return grant ? { kind: 'key', tenantId: grant.tenantId, keyId: grant.id, scopes: grant.scopes } : { kind: 'invalid' };
}

/** Whether a key with `scopes` may act in `role`. ADMIN may do everything a tenant can. */
export function allows(scopes: readonly ApiKeyScope[], role: Role): boolean {
  if (role === ROOT) return false;
  return scopes.includes(ApiKeyScope.ADMIN) || scopes.includes(role);
}

/**
 * The one place where access is decided. `@Authorized()` needs any tenant key;
 * `@Authorized(roles)` needs one of them. No or bad key → UNAUTHENTICATED;
 * a valid key without the role → FORBIDDEN.
 */
export const authChecker: AuthChecker<Context, Role> = ({ context }, roles) => {
  const principal = context.principal;
  if (principal.kind === 'anonymous' || principal.kind === 'invalid') throw unauthenticated();
  if (principal.kind === 'root') {
    if (roles.includes(ROOT)) return true;
    throw forbidden('The root key only manages tenants; use a tenant API key.');
  }
  if (roles.length === 0 || roles.some((role) => allows(principal.scopes, role))) return true;
  throw forbidden(`This key lacks the scope for this operation (needs ${roles.join(' or ')}).`);
};

/** The tenant of the calling key; resolvers behind `@Authorized` may rely on it. */
export function tenantOf(context: Context): string {
  if (context.principal.kind !== 'key') throw unauthenticated();
  return context.principal.tenantId;
}
