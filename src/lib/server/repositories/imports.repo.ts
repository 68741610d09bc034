import type { Db } from '../db/database';
import type { ImportRejectsTable, ImportsTable } from '../db/schema';

export const importsRepo = {
  async insert(db: Db, row: ImportsTable) {
    await db.insertInto('imports').values(row).execute();
  },
  async update(db: Db, id: string, patch: Partial<ImportsTable>) {
    await db.updateTable('imports').set(patch).where('id', '=', id).execute();
  },
  findById(db: Db, id: string) {
    return db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
  },
  list(db: Db, limit = 50) {
    return db.selectFrom('imports').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
  },
  async addRejects(db: Db, rows: ImportRejectsTable[]) {
    for (let i = 0; i < rows.length; i += 500) {
      await db.insertInto('import_rejects').values(rows.slice(i, i + 500)).execute();
    }
  },
  rejects(db: Db, importId: string, limit?: number) {
    let q = db.selectFrom('import_rejects').selectAll().where('import_id', '=', importId).orderBy('row_number');
    if (limit !== undefined) q = q.limit(limit);
    return q.execute();
  },
  /** The leads a batch's duplicates point at, in one query (the import's dedupe read). */
  leadsByIds(db: Db, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('leads').selectAll().where('id', 'in', ids).execute();
  }
};
