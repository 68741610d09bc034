import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { ThrottledError } from '../../src/lib/server/services/auth.service';
import { usersRepo } from '../../src/lib/server/repositories/users.repo';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

const ip = { ip: '10.0.0.1' };

describe('first admin, passwords and sessions', () => {
  it('offers set-up only on an empty base, stores an argon2id hash and audits it', async () => {
    expect(await app.services.auth.needsSetup()).toBe(true);
    const id = await app.services.auth.setupFirstAdmin({ name: 'Анна', email: 'Anna@Example.RU', password: 'correct-horse-1' });
    const row = await usersRepo.findById(app.deps.db, id);
    expect(row).toMatchObject({ email: 'anna@example.ru', role: 'admin' });
    expect(row!.password_hash).toMatch(/^\$argon2id\$/);
    expect(row!.password_hash).not.toContain('correct-horse-1');
    await expect(app.services.auth.setupFirstAdmin({ name: 'B', email: 'b@x.ru', password: 'correct-horse-2' })).rejects.toThrow(/already done/);
    expect((await app.services.audit.list()).map((a) => a.action)).toContain('user.setup_admin');
  });

  it('refuses a short password and a bad email, naming the field', async () => {
    await expect(app.services.auth.setupFirstAdmin({ name: 'A', email: 'nope', password: 'short' })).rejects.toMatchObject({
      issues: expect.arrayContaining([expect.objectContaining({ field: 'email' }), expect.objectContaining({ field: 'password' })])
    });
  });

  it('signs in with the right password only, and a session token validates until it expires', async () => {
    await app.makeUser('sales', 'rep@x.ru');
    expect(await app.services.auth.signIn('rep@x.ru', 'wrong-password', ip)).toBeNull();
    const s = await app.services.auth.signIn('REP@x.ru', 'password-123456', ip);
    expect(s?.user.role).toBe('sales');
    expect(await app.services.auth.validateSession(s!.token)).toMatchObject({ email: 'rep@x.ru' });
    expect(await app.services.auth.validateSession('forged-token')).toBeNull();
    app.clock.advance(31 * 86_400_000);
    expect(await app.services.auth.validateSession(s!.token)).toBeNull();
  });

  it('throttles sign-in per account after repeated failures, even with the right password', async () => {
    await app.makeUser('marketer', 'm@x.ru');
    for (let i = 0; i < 5; i++) expect(await app.services.auth.signIn('m@x.ru', 'bad-password', { ip: `10.0.0.${i}` })).toBeNull();
    await expect(app.services.auth.signIn('m@x.ru', 'password-123456', { ip: '10.0.1.1' })).rejects.toBeInstanceOf(ThrottledError);
    app.clock.advance(16 * 60_000);
    expect(await app.services.auth.signIn('m@x.ru', 'password-123456', ip)).not.toBeNull();
  });

  it('throttles sign-in per IP across many accounts', async () => {
    for (let i = 0; i < 30; i++) await app.services.auth.signIn(`nobody${i}@x.ru`, 'bad-password', ip);
    await expect(app.services.auth.signIn('someone@x.ru', 'whatever-pass', ip)).rejects.toBeInstanceOf(ThrottledError);
  });

  it('ends the sessions of a deactivated user', async () => {
    const { id } = await app.makeUser('sales', 'gone@x.ru');
    const { actor } = await app.makeUser('admin');
    const s = await app.services.auth.signIn('gone@x.ru', 'password-123456', ip);
    await app.services.auth.updateUser(actor, id, { active: false });
    expect(await app.services.auth.validateSession(s!.token)).toBeNull();
    expect(await app.services.auth.signIn('gone@x.ru', 'password-123456', ip)).toBeNull();
  });
});
