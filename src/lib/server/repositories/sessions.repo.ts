import type { Db } from '../db/database';
import type { SessionsTable } from '../db/schema';

export const sessionsRepo = {
  async insert(db: Db, row: SessionsTable) {
    await db.insertInto('sessions').values(row).execute();
  },
  findWithUser(db: Db, id: string) {
    return db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .select(['sessions.expires_at as session_expires_at', 'sessions.id as session_id'])
      .where('sessions.id', '=', id)
      .executeTakeFirst();
  },
  async extend(db: Db, id: string, expiresAt: number) {
    await db.updateTable('sessions').set({ expires_at: expiresAt }).where('id', '=', id).execute();
  },
  async delete(db: Db, id: string) {
    await db.deleteFrom('sessions').where('id', '=', id).execute();
  },
  async deleteForUser(db: Db, userId: string) {
    await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  },
  async deleteExpired(db: Db, now: number) {
    await db.deleteFrom('sessions').where('expires_at', '<', now).execute();
  }
};
