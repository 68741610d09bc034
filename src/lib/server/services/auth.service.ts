import { createHash } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { z } from 'zod';
import { usersRepo, toUser, type Role, type User } from '../repositories/users.repo';
import { sessionsRepo } from '../repositories/sessions.repo';
import { auditRepo } from '../repositories/audit.repo';
import { RateLimiter } from '../http/rate-limit';
import { ConflictError, InputError, NotFoundError, type Actor, type Deps } from './deps';

export const ROLES = ['admin', 'marketer', 'sales'] as const;

export const newUserSchema = z.object({
  email: z.email('is not a valid email address').transform((s) => s.trim().toLowerCase()),
  name: z.string().trim().min(1, 'is required').max(200),
  password: z.string().min(10, 'must be at least 10 characters').max(200),
  role: z.enum(ROLES),
  isManager: z.boolean().default(false),
  territory: z.string().trim().max(100).optional(),
  specializations: z.array(z.string().trim().min(1).max(100)).max(20).default([]),
  locale: z.enum(['en', 'ru']).default('ru')
});
export type NewUser = z.input<typeof newUserSchema>;

export const userPatchSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  role: z.enum(ROLES).optional(),
  isManager: z.boolean().optional(),
  territory: z.string().trim().max(100).nullable().optional(),
  specializations: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
  active: z.boolean().optional(),
  password: z.string().min(10, 'must be at least 10 characters').max(200).optional()
});

export class ThrottledError extends Error {
  constructor(public readonly retryAfterMs: number) {
    super('Too many sign-in attempts; try again later');
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const DAY = 86_400_000;
// argon2id with OWASP's second recommended profile (19 MiB, 2 passes).
const ARGON = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export function createAuthService(deps: Deps, opts: { sessionTtlDays: number }) {
  const { db, clock, ids, random } = deps;
  // Per account and per address: a guesser is slowed on one account and on many.
  const perAccount = new RateLimiter(5, 15 * 60_000, () => clock.now());
  const perIp = new RateLimiter(30, 15 * 60_000, () => clock.now());
  const ttl = opts.sessionTtlDays * DAY;
  // A fixed hash to verify against when the account does not exist, so timing does not reveal it.
  let dummyHash: Promise<string> | undefined;

  async function createUserRow(input: z.output<typeof newUserSchema>) {
    if (await usersRepo.findByEmail(db, input.email)) throw new ConflictError(`A user with email ${input.email} already exists`);
    const now = clock.now();
    const id = ids.newId();
    await usersRepo.insert(db, {
      id,
      email: input.email,
      name: input.name,
      password_hash: await hash(input.password, ARGON),
      role: input.role,
      is_manager: input.isManager ? 1 : 0,
      territory: input.territory ?? null,
      specializations: JSON.stringify(input.specializations),
      locale: input.locale,
      active: 1,
      created_at: now,
      updated_at: now
    });
    return id;
  }

  return {
    hashPassword: (p: string) => hash(p, ARGON),

    async needsSetup() {
      return (await usersRepo.count(db)) === 0;
    },

    /** The first admin, only while the base has no users at all. */
    async setupFirstAdmin(raw: unknown) {
      const parsed = newUserSchema.safeParse({ ...(raw as object), role: 'admin' });
      if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
      if (!(await this.needsSetup())) throw new ConflictError('Set-up is already done');
      const id = await createUserRow(parsed.data);
      await auditRepo.record(db, ids.newId(), clock.now(), {
        actorId: id,
        actorLabel: parsed.data.email,
        action: 'user.setup_admin',
        entity: 'user',
        entityId: id
      });
      return id;
    },

    async createUser(actor: Actor, raw: NewUser) {
      const parsed = newUserSchema.safeParse(raw);
      if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
      const id = await createUserRow(parsed.data);
      await auditRepo.record(db, ids.newId(), clock.now(), {
        actorId: actor.id,
        actorLabel: actor.label,
        action: 'user.create',
        entity: 'user',
        entityId: id,
        details: { email: parsed.data.email, role: parsed.data.role }
      });
      return id;
    },

    async updateUser(actor: Actor, id: string, patch: z.input<typeof userPatchSchema>) {
      const p = userPatchSchema.parse(patch);
      const existing = await usersRepo.findById(db, id);
      if (!existing) throw new NotFoundError('No such user');
      const row: Record<string, unknown> = { updated_at: clock.now() };
      if (p.name !== undefined) row.name = p.name;
      if (p.role !== undefined) row.role = p.role;
      if (p.isManager !== undefined) row.is_manager = p.isManager ? 1 : 0;
      if (p.territory !== undefined) row.territory = p.territory;
      if (p.specializations !== undefined) row.specializations = JSON.stringify(p.specializations);
      if (p.active !== undefined) row.active = p.active ? 1 : 0;
      if (p.password !== undefined) row.password_hash = await hash(p.password, ARGON);
      await db.transaction().execute(async (trx) => {
        await usersRepo.update(trx, id, row);
        if (p.active === false || p.password !== undefined) await sessionsRepo.deleteForUser(trx, id);
        const { password: _pw, ...shown } = p;
        await auditRepo.record(trx, ids.newId(), clock.now(), {
          actorId: actor.id,
          actorLabel: actor.label,
          action: 'user.update',
          entity: 'user',
          entityId: id,
          details: { ...shown, ...(p.password ? { password: 'changed' } : {}) }
        });
      });
    },

    /** Checks the password; answers a new session token or null. Throttled per account and per IP. */
    async signIn(emailRaw: string, password: string, meta: { ip: string; userAgent?: string }) {
      const email = emailRaw.trim().toLowerCase();
      if (perAccount.blocked(email)) throw new ThrottledError(perAccount.hit(email).retryAfterMs);
      if (perIp.blocked(meta.ip)) throw new ThrottledError(perIp.hit(meta.ip).retryAfterMs);
      const user = await usersRepo.findByEmail(db, email);
      dummyHash ??= hash('not-a-password', ARGON);
      const ok = user ? await verify(user.password_hash, password) : (await verify(await dummyHash, password), false);
      if (!ok || !user || !user.active) {
        perAccount.hit(email);
        perIp.hit(meta.ip);
        return null;
      }
      perAccount.reset(email);
      const token = random.bytes(32).toString('base64url');
      const now = clock.now();
      await sessionsRepo.insert(db, {
        id: sha256(token),
        user_id: user.id,
        created_at: now,
        expires_at: now + ttl,
        ip: meta.ip,
        user_agent: meta.userAgent?.slice(0, 300) ?? null
      });
      return { token, user: toUser(user), expiresAt: now + ttl };
    },

    /** The signed-in user for a cookie token, sliding the expiry once a day. */
    async validateSession(token: string): Promise<User | null> {
      const id = sha256(token);
      const row = await sessionsRepo.findWithUser(db, id);
      const now = clock.now();
      if (!row || row.session_expires_at < now || !row.active) {
        if (row) await sessionsRepo.delete(db, id);
        return null;
      }
      if (row.session_expires_at - now < ttl - DAY) await sessionsRepo.extend(db, id, now + ttl);
      return toUser(row);
    },

    async signOut(token: string) {
      await sessionsRepo.delete(db, sha256(token));
    },

    listUsers: () => usersRepo.list(db),

    async setLocale(userId: string, locale: 'en' | 'ru') {
      await usersRepo.update(db, userId, { locale, updated_at: clock.now() });
    }
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
export type { Role, User };
