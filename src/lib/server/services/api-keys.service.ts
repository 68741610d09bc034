import { createHash } from 'node:crypto';
import { z } from 'zod';
import { apiKeysRepo } from '../repositories/api-keys.repo';
import { auditRepo } from '../repositories/audit.repo';
import { InputError, type Actor, type Deps } from './deps';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
export const apiKeyNameSchema = z.string().trim().min(1, 'is required').max(100);

/**
 * API keys are 256-bit random secrets shown once and stored as SHA-256: a slow hash buys nothing
 * against a secret that cannot be guessed, and a fast one keeps `POST /api/v1/events` quick.
 * Verified keys are cached briefly so a busy integration does not hit the table on every call.
 */
export function createApiKeysService(deps: Deps) {
  const { db, clock, ids, random } = deps;
  const cache = new Map<string, { id: string; name: string; until: number }>();
  const lastTouched = new Map<string, number>();

  return {
    async create(actor: Actor, nameRaw: string) {
      const name = apiKeyNameSchema.safeParse(nameRaw);
      if (!name.success) throw new InputError([{ field: 'name', message: name.error.issues[0].message }]);
      const prefix = random.bytes(4).toString('hex');
      const key = `nrt_${prefix}_${random.bytes(32).toString('base64url')}`;
      const id = ids.newId();
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        await apiKeysRepo.insert(trx, { id, name: name.data, prefix: `nrt_${prefix}`, key_hash: sha256(key), created_by: actor.id, created_at: now, last_used_at: null, revoked_at: null });
        await auditRepo.record(trx, ids.newId(), now, { actorId: actor.id, actorLabel: actor.label, action: 'api_key.create', entity: 'api_key', entityId: id, details: { name: name.data, prefix: `nrt_${prefix}` } });
      });
      return { id, key, name: name.data };
    },

    list: () => apiKeysRepo.list(db),

    async revoke(actor: Actor, id: string) {
      const done = await apiKeysRepo.revoke(db, id, clock.now());
      cache.clear();
      if (done) await auditRepo.record(db, ids.newId(), clock.now(), { actorId: actor.id, actorLabel: actor.label, action: 'api_key.revoke', entity: 'api_key', entityId: id });
      return done;
    },

    /** The key's identity for a bearer token, or null. */
    async verify(token: string | null | undefined): Promise<{ id: string; name: string } | null> {
      if (!token || !token.startsWith('nrt_') || token.length > 200) return null;
      const h = sha256(token);
      const now = clock.now();
      const hit = cache.get(h);
      if (hit && hit.until > now) return hit;
      const row = await apiKeysRepo.findActiveByHash(db, h);
      if (!row) return null;
      cache.set(h, { ...row, until: now + 30_000 });
      if ((lastTouched.get(row.id) ?? 0) < now - 60_000) {
        lastTouched.set(row.id, now);
        await apiKeysRepo.touch(db, row.id, now);
      }
      return row;
    }
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
