import type { Db } from '../db/database';
import { parseJson } from './json';

export const settingsRepo = {
  async get<T>(db: Db, key: string, fallback: T): Promise<T> {
    const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return r ? parseJson<T>(r.value, fallback) : fallback;
  },
  async set(db: Db, key: string, value: unknown, now: number) {
    const v = JSON.stringify(value);
    await db
      .insertInto('settings')
      .values({ key, value: v, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: v, updated_at: now }))
      .execute();
  }
};
