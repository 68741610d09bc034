import type { Db } from '../db/database';
import type SQLite from 'better-sqlite3';
import type { EventsTable, ImportRejectsTable, ImportsTable, LeadIdentitiesTable, LeadsTable } from '../db/schema';

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
  rejects(db: Db, importId: string, limit?: number, offset = 0) {
    let q = db.selectFrom('import_rejects').selectAll().where('import_id', '=', importId).orderBy('row_number');
    if (limit !== undefined) q = q.limit(limit).offset(offset);
    return q.execute();
  },
  /** The leads a batch's duplicates point at, in one query (the import's dedupe read). */
  leadsByIds(db: Db, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('leads').selectAll().where('id', 'in', ids).execute();
  },

  /**
   * Prepared statements for the import's SQLite hot path (see import-batch.ts for why it is raw).
   * Lookups take a JSON array so a whole batch is one statement whatever its size.
   */
  sqliteBatchStatements(sqlite: SQLite.Database) {
    const identities = sqlite.prepare<[string, string]>(
      `SELECT kind, value, lead_id FROM lead_identities
        WHERE (kind = 'email' AND value IN (SELECT value FROM json_each(?)))
           OR (kind = 'phone' AND value IN (SELECT value FROM json_each(?)))`
    );
    const leads = sqlite.prepare(`SELECT * FROM leads WHERE id IN (SELECT value FROM json_each(?))`);
    // Positional parameters: binding by name costs a property lookup per column per row.
    const identity = sqlite.prepare(
      `INSERT INTO lead_identities (kind, value, lead_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, value) DO NOTHING`
    );
    const event = sqlite.prepare(
      `INSERT INTO events (id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
    );
    const reject = sqlite.prepare(`INSERT INTO import_rejects (import_id, row_number, field, reason, raw) VALUES (@import_id, @row_number, @field, @reason, @raw)`);
    // Column sets vary (a lead row's keys, an update's patch), so statements are cached by them.
    const byColumns = new Map<string, SQLite.Statement>();
    const cached = (key: string, make: () => string) => {
      let st = byColumns.get(key);
      if (!st) byColumns.set(key, (st = sqlite.prepare(make())));
      return st;
    };
    const setClause = (cols: string[]) => cols.map((c) => `"${c}" = @${c}`).join(', ');
    return {
      findIdentities(emails: string[], phones: string[]) {
        return identities.all(JSON.stringify(emails), JSON.stringify(phones)) as Pick<LeadIdentitiesTable, 'kind' | 'value' | 'lead_id'>[];
      },
      leadsByIds(ids: string[]) {
        return ids.length ? (leads.all(JSON.stringify(ids)) as LeadsTable[]) : [];
      },
      insertLead(row: LeadsTable) {
        const values = Object.values(row);
        const key = `i:${Object.keys(row).join(',')}`;
        cached(key, () => `INSERT INTO leads (${Object.keys(row).map((c) => `"${c}"`).join(', ')}) VALUES (${values.map(() => '?').join(', ')})`).run(values);
      },
      updateLead(id: string, patch: Partial<LeadsTable>) {
        const cols = Object.keys(patch).filter((c) => c !== 'id');
        if (!cols.length) return;
        cached(`u:${cols.join(',')}`, () => `UPDATE leads SET ${setClause(cols)} WHERE id = @id`).run({ ...patch, id });
      },
      insertIdentity(r: LeadIdentitiesTable) {
        identity.run(r.kind, r.value, r.lead_id, r.created_at);
      },
      insertEvent(e: EventsTable) {
        event.run(e.id, e.lead_id, e.type, e.properties, e.source, e.actor_id, e.occurred_at, e.received_at, e.dedupe_key);
      },
      insertReject(row: ImportRejectsTable) {
        reject.run(row);
      },
      updateImport(id: string, patch: Partial<ImportsTable>) {
        const cols = Object.keys(patch).filter((c) => c !== 'id');
        if (!cols.length) return;
        cached(`m:${cols.join(',')}`, () => `UPDATE imports SET ${setClause(cols)} WHERE id = @id`).run({ ...patch, id });
      }
    };
  }
};
