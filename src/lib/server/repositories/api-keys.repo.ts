import type { Db } from '../db/database';
import type { ApiKeysTable } from '../db/schema';

export const apiKeysRepo = {
  async insert(db: Db, row: ApiKeysTable) {
    await db.insertInto('api_keys').values(row).execute();
  },
  findActiveByHash(db: Db, hash: string) {
    return db
      .selectFrom('api_keys')
      .select(['id', 'name'])
      .where('key_hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  },
  list(db: Db) {
    return db
      .selectFrom('api_keys')
      .select(['id', 'name', 'prefix', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
      .orderBy('created_at', 'desc')
      .execute();
  },
  async revoke(db: Db, id: string, at: number) {
    const r = await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
  async touch(db: Db, id: string, at: number) {
    await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
};
