import type { Db } from '../db/database';
import { parseJson } from './json';

export interface AuditEntry {
  actorId: string | null;
  actorLabel: string;
  action: string;
  entity: string;
  entityId?: string | null;
  details?: Record<string, unknown>;
}

export const auditRepo = {
  async record(db: Db, id: string, at: number, e: AuditEntry) {
    await db
      .insertInto('audit_log')
      .values({
        id,
        at,
        actor_id: e.actorId,
        actor_label: e.actorLabel,
        action: e.action,
        entity: e.entity,
        entity_id: e.entityId ?? null,
        details: JSON.stringify(e.details ?? {})
      })
      .execute();
  },
  async list(db: Db, limit = 200, before?: number) {
    let q = db.selectFrom('audit_log').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(limit);
    if (before) q = q.where('at', '<', before);
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, details: parseJson<Record<string, unknown>>(r.details, {}) }));
  },
  /**
   * Newest first, strictly older than the cursor by (at, id): several entries written in the same
   * millisecond (a merge, a batch) are neither skipped nor repeated across pages.
   */
  async listPage(db: Db, limit: number, cursor?: { at: number; id: string }) {
    let q = db.selectFrom('audit_log').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(limit);
    if (cursor)
      q = q.where((eb) => eb.or([eb('at', '<', cursor.at), eb.and([eb('at', '=', cursor.at), eb('id', '<', cursor.id)])]));
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, details: parseJson<Record<string, unknown>>(r.details, {}) }));
  }
};
