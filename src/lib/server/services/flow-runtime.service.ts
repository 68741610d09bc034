import type { Config } from '../config';
import type { Engine } from '../engine/engine';
import { auditRepo } from '../repositories/audit.repo';
import type { Actor, Deps } from './deps';
import { createWorkflowFiles } from './workflow-files';
import { createWorkflowLive } from './workflow-live';
import { createWorkflowPublish } from './workflow-publish';
import { createWorkflowSimulator } from './workflow-simulator';

/**
 * What runs a flow from the designer: the simulator, publish with impact and migration, the live
 * counts, version restore and import/export. The engine comes lazily because app.ts builds it in
 * the same object literal as this service.
 */
export function createFlowRuntime(deps: Deps, config: Config, engineOf: () => Engine) {
  const live = createWorkflowLive(deps);
  const files = createWorkflowFiles(deps);
  let publisher: ReturnType<typeof createWorkflowPublish> | undefined;
  let simulator: ReturnType<typeof createWorkflowSimulator> | undefined;
  const publish = () => (publisher ??= createWorkflowPublish(deps, engineOf()));

  return {
    live,
    files,
    get publish() {
      return publish();
    },
    simulate(input: Parameters<ReturnType<typeof createWorkflowSimulator>>[0]) {
      simulator ??= createWorkflowSimulator(deps, config, engineOf());
      return simulator(input);
    },
    /** Records an export in the audit log: a flow and its templates left the workspace. */
    async audited(actor: Actor, action: string, slug: string, details: Record<string, unknown> = {}) {
      await auditRepo.record(deps.db, deps.ids.newId(), deps.clock.now(), { actorId: actor.id, actorLabel: actor.label, action, entity: 'workflow', entityId: slug, details: { slug, ...details } });
    }
  };
}

export type FlowRuntime = ReturnType<typeof createFlowRuntime>;
