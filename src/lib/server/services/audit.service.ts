import { auditRepo, type AuditEntry } from '../repositories/audit.repo';
import type { Deps } from './deps';

export function createAuditService(deps: Deps) {
  return {
    record: (e: AuditEntry) => auditRepo.record(deps.db, deps.ids.newId(), deps.clock.now(), e),
    list: (limit?: number, before?: number) => auditRepo.list(deps.db, limit, before),
    /** One page, newest first, and the cursor of the next (older) page or null at the beginning. */
    async page(limit: number, cursor?: { at: number; id: string }) {
      const rows = await auditRepo.listPage(deps.db, limit + 1, cursor);
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next: rows.length > limit && last ? { at: last.at, id: last.id } : null };
    }
  };
}
