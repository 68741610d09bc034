import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import { createTestApp, type TestApp } from '../support/test-app';
import { appRouter } from '../../src/lib/server/trpc/router';
import { createCallerFactory, type Meta } from '../../src/lib/server/trpc/init';
import { toUser, type Role } from '../../src/lib/server/repositories/users.repo';
import { usersRepo } from '../../src/lib/server/repositories/users.repo';

const ROLES: Role[] = ['admin', 'marketer', 'sales'];
const createCaller = createCallerFactory(appRouter);
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: Meta } }>);

let app: TestApp;
const users: Partial<Record<Role, Awaited<ReturnType<typeof toUser>>>> = {};

beforeAll(async () => {
  app = await createTestApp();
  for (const role of ROLES) {
    const { id } = await app.makeUser(role);
    users[role] = toUser((await usersRepo.findById(app.deps.db, id))!);
  }
});
afterAll(() => app.close());

/** Calls a procedure by its dotted path with no input; answers the tRPC error code or 'ok'. */
async function call(path: string, role: Role | null): Promise<string> {
  const caller = createCaller({ app, user: role ? users[role]! : null, ip: '127.0.0.1' }) as unknown as Record<string, unknown>;
  const fn = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (input?: unknown) => Promise<unknown>;
  try {
    await fn(undefined);
    return 'ok';
  } catch (e) {
    return e instanceof TRPCError ? e.code : `threw ${String(e)}`;
  }
}

describe('every tRPC procedure declares and enforces its roles', () => {
  it('declares roles on every procedure that is not public', () => {
    const undeclared = procedures.filter(([, p]) => !p._def.meta?.public && !p._def.meta?.roles?.length).map(([k]) => k);
    expect(undeclared).toEqual([]);
    expect(procedures.length).toBeGreaterThan(20);
  });

  it('refuses a signed-out caller on every non-public procedure', async () => {
    for (const [path, p] of procedures) {
      if (p._def.meta?.public) continue;
      expect(await call(path, null), path).toBe('UNAUTHORIZED');
    }
  });

  for (const role of ROLES) {
    it(`refuses ${role} exactly what it may not do`, async () => {
      for (const [path, p] of procedures) {
        if (p._def.meta?.public) continue;
        const allowed = p._def.meta!.roles!.includes(role);
        const code = await call(path, role);
        if (allowed) expect(code, `${path} as ${role}`).not.toMatch(/FORBIDDEN|UNAUTHORIZED/);
        else expect(code, `${path} as ${role}`).toBe('FORBIDDEN');
      }
    });
  }

  it('matches the product rules for the sensitive areas', () => {
    const rolesOf = (path: string) => [...(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: Meta } }>)[path]._def.meta!.roles!].sort();
    expect(rolesOf('users.create')).toEqual(['admin']);
    expect(rolesOf('apiKeys.create')).toEqual(['admin']);
    expect(rolesOf('audit.list')).toEqual(['admin']);
    expect(rolesOf('leads.merge')).toEqual(['admin', 'marketer']);
    expect(rolesOf('leads.delete')).toEqual(['admin', 'marketer']);
    expect(rolesOf('forms.create')).toEqual(['admin', 'marketer']);
    expect(rolesOf('leads.list')).toEqual(['admin', 'marketer', 'sales']);
  });
});
