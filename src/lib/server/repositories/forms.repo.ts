import type { Db } from '../db/database';
import type { FormsTable } from '../db/schema';

export const formsRepo = {
  async insert(db: Db, row: FormsTable) {
    await db.insertInto('forms').values(row).execute();
  },
  async update(db: Db, id: string, patch: Partial<FormsTable>) {
    await db.updateTable('forms').set(patch).where('id', '=', id).execute();
  },
  findById(db: Db, id: string) {
    return db.selectFrom('forms').selectAll().where('id', '=', id).executeTakeFirst();
  },
  findBySlug(db: Db, slug: string) {
    return db.selectFrom('forms').selectAll().where('slug', '=', slug).executeTakeFirst();
  },
  list(db: Db) {
    return db.selectFrom('forms').selectAll().orderBy('created_at', 'desc').execute();
  },
  async submissionCounts(db: Db): Promise<Map<string, number>> {
    const rows = await db
      .selectFrom('events')
      .select([(eb) => eb.fn<string>('json_extract', ['properties', eb.val('$.formId')]).as('form_id'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('type', '=', 'form_submitted')
      .groupBy('form_id')
      .execute();
    return new Map(rows.map((r) => [r.form_id, Number(r.n)]));
  }
};
