import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from './db.js';
import { RegistryError, badInput } from './errors.js';
import { sha256 } from './graph.js';

/**
 * What a service token may do: `publish` (publish, rollback), `check`, `read` (fetch, log, diff,
 * usage queries) and `report` (the gateway sending usage). The bootstrap admin token has every
 * scope and alone may make and revoke tokens.
 */
export const SCOPES = ['publish', 'check', 'read', 'report'] as const;
export type Scope = (typeof SCOPES)[number];
export interface Caller {
  name: string;
  scopes: Set<Scope | 'admin'>;
}

export function tokenAuthority(pool: Pool, adminToken: string | undefined) {
  const adminHash = adminToken ? Buffer.from(sha256(adminToken), 'hex') : undefined;
  // Token look-ups are cached briefly: the gateway reports usage every few seconds.
  const cache = new Map<string, { caller: Caller | null; until: number }>();

  async function authenticate(authorization: string | undefined): Promise<Caller> {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new RegistryError('UNAUTHENTICATED', 'Send a service token: "Authorization: Bearer <token>".');
    const hash = sha256(token);
    if (adminHash && timingSafeEqual(adminHash, Buffer.from(hash, 'hex'))) return { name: 'admin', scopes: new Set([...SCOPES, 'admin']) };
    const cached = cache.get(hash);
    let caller = cached && cached.until > Date.now() ? cached.caller : undefined;
    if (caller === undefined) {
      const { rows } = await pool.query<{ name: string; scopes: Scope[] }>('select name, scopes from service_tokens where token_hash = $1 and revoked_at is null', [hash]);
      caller = rows[0] ? { name: rows[0].name, scopes: new Set(rows[0].scopes) } : null;
      if (cache.size > 1000) cache.clear();
      cache.set(hash, { caller, until: Date.now() + 5000 });
    }
    if (!caller) throw new RegistryError('UNAUTHENTICATED', 'The service token is unknown or revoked.');
    return caller;
  }

  return {
    authenticate,
    require(caller: Caller, scope: Scope | 'admin') {
      if (!caller.scopes.has(scope)) throw new RegistryError('FORBIDDEN', `The token "${caller.name}" lacks the "${scope}" scope.`);
    },
    async create(name: unknown, scopes: unknown) {
      if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) throw badInput('name', 'A token name is 1 to 64 letters, digits, ".", "_" or "-".');
      const list = Array.isArray(scopes) ? scopes : [];
      const unknown = list.filter((s) => !SCOPES.includes(s as Scope));
      if (list.length === 0 || unknown.length)
        throw badInput('scopes', `Scopes must be a non-empty list of ${SCOPES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}.`);
      const token = `reg_${randomBytes(24).toString('base64url')}`;
      const { rowCount } = await pool.query('insert into service_tokens (name, token_hash, scopes) values ($1, $2, $3) on conflict (name) where revoked_at is null do nothing', [
        name,
        sha256(token),
        [...new Set(list)],
      ]);
      if (!rowCount) throw badInput('name', `A token named "${name}" exists already: revoke it first or choose another name.`);
      return { name, scopes: [...new Set(list)], token };
    },
    async revoke(name: string) {
      const { rowCount } = await pool.query('update service_tokens set revoked_at = now() where name = $1 and revoked_at is null', [name]);
      if (!rowCount) throw new RegistryError('NOT_FOUND', `No active token is named "${name}".`, { field: 'name' });
      cache.clear();
    },
  };
}
export type TokenAuthority = ReturnType<typeof tokenAuthority>;
