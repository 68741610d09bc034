import type { Db } from '../db/database';
import type { UsersTable } from '../db/schema';
import { parseJson } from './json';

export type Role = 'admin' | 'marketer' | 'sales';
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  isManager: boolean;
  territory: string | null;
  specializations: string[];
  locale: string;
  active: boolean;
  createdAt: number;
}

export function toUser(r: UsersTable): User {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role as Role,
    isManager: !!r.is_manager,
    territory: r.territory,
    specializations: parseJson<string[]>(r.specializations, []),
    locale: r.locale,
    active: !!r.active,
    createdAt: r.created_at
  };
}

export const usersRepo = {
  async count(db: Db): Promise<number> {
    const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  },
  findByEmail(db: Db, email: string) {
    return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  },
  findById(db: Db, id: string) {
    return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  },
  async insert(db: Db, row: UsersTable) {
    await db.insertInto('users').values(row).execute();
  },
  async update(db: Db, id: string, patch: Partial<UsersTable>) {
    await db.updateTable('users').set(patch).where('id', '=', id).execute();
  },
  async list(db: Db): Promise<User[]> {
    const rows = await db.selectFrom('users').selectAll().orderBy('created_at').execute();
    return rows.map(toUser);
  }
};
