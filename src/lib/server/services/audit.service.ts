import { auditRepo, type AuditEntry } from '../repositories/audit.repo';
import type { Deps } from './deps';

export function createAuditService(deps: Deps) {
  return {
    record: (e: AuditEntry) => auditRepo.record(deps.db, deps.ids.newId(), deps.clock.now(), e),
    list: (limit?: number, before?: number) => auditRepo.list(deps.db, limit, before)
  };
}
