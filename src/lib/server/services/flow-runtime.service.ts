import type { Config } from '../config';
import type { Engine } from '../engine/engine';
import { auditRepo } from '../repositories/audit.repo';
import { workflowsRepo } from '../repositories/workflows.repo';
import type { Actor, Deps } from './deps';
import { createWorkflowFiles } from './workflow-files';
import { createWorkflowLive } from './workflow-live';
import { createWorkflowPublish } from './workflow-publish';
import { createWorkflowSimulator } from './workflow-simulator';
import { createWorkflowDrafts } from './workflow-drafts.service';

/**
 * What runs a flow from the designer: the simulator, publish with impact and migration, the live
 * counts, version restore and import/export. The engine comes lazily because app.ts builds it in
 * the same object literal as this service.
 */
export function createFlowRuntime(deps: Deps, config: Config, engineOf: () => Engine) {
  const live = createWorkflowLive(deps);
  const files = createWorkflowFiles(deps);
  // The canvas engineer's drafts: a restored version or an imported file becomes the flow's draft.
  const drafts = createWorkflowDrafts(deps);

  /** Writes a definition as the flow's draft over whatever draft it has (the user chose to). */
  async function replaceDraft(actor: Actor, slug: string, definition: unknown) {
    const { draft } = await drafts.load(slug);
    return drafts.saveDraft(actor, slug, definition, draft.revision);
  }
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
    /** Any published version becomes the flow's draft again, to edit and publish as a new version. */
    async restoreVersion(actor: Actor, slug: string, version: number) {
      const definition = await publish().versionDefinition(slug, version);
      const saved = await replaceDraft(actor, slug, definition);
      await this.audited(actor, 'workflow.restore_draft', slug, { version });
      return saved;
    },

    /**
     * Imports a flow file as a draft (a new flow, or the draft of the flow with its slug); nothing
     * goes live until someone publishes it from the designer, with the impact dialog. The file is
     * checked whole first: one problem and nothing is stored.
     */
    async importFlow(actor: Actor, raw: unknown) {
      const { workflow, templates } = await files.check(raw);
      const added = await files.addMissingTemplates(deps.db, templates);
      const exists = await workflowsRepo.findBySlug(deps.db, workflow.slug);
      if (!exists) await drafts.create(actor, { name: workflow.name, slug: workflow.slug, trigger: workflow.trigger });
      const saved = await replaceDraft(actor, workflow.slug, workflow);
      await this.audited(actor, 'workflow.import', workflow.slug, { created: !exists, templatesAdded: added.added });
      return { slug: workflow.slug, created: !exists, revision: saved.revision, templatesAdded: added.added, templatesKept: added.kept };
    },

    /** Records an export in the audit log: a flow and its templates left the workspace. */
    async audited(actor: Actor, action: string, slug: string, details: Record<string, unknown> = {}) {
      await auditRepo.record(deps.db, deps.ids.newId(), deps.clock.now(), { actorId: actor.id, actorLabel: actor.label, action, entity: 'workflow', entityId: slug, details: { slug, ...details } });
    }
  };
}

export type FlowRuntime = ReturnType<typeof createFlowRuntime>;
