import { workflowSchema, triggerSchema, type Workflow, type WorkflowInput } from '../../shared/workflow';
import { checkWorkflow, blocking, type TemplateStatus } from '../../shared/workflow-check';
import { analysePaths } from '../../shared/workflow-paths';
import { compileWorkflow, ENTER_ACTION } from '../engine/compiler';
import { validateTemplate } from '../email/render';
import { workflowDraftsRepo } from '../repositories/workflow-drafts.repo';
import { workflowsRepo } from '../repositories/workflows.repo';
import { templatesRepo, type TemplateRow } from '../repositories/templates.repo';
import { auditRepo } from '../repositories/audit.repo';
import { parseJson } from '../repositories/json';
import { ConflictError, InputError, NotFoundError, type Actor, type Deps } from './deps';
import type { z } from 'zod';

/** A draft bigger than this is not a flow anyone drew. */
const MAX_DRAFT_CHARS = 2_000_000;

export interface NewFlow {
  name: string;
  slug: string;
  trigger: z.input<typeof triggerSchema>;
}

/**
 * The designer's drafts: one working copy per flow, apart from the published versions. Every
 * save names the revision it was based on; a save based on an older one is refused with who saved
 * in between and when, so autosave never silently overwrites a colleague's work.
 */
export function createWorkflowDrafts(deps: Deps) {
  const { db, clock, ids } = deps;

  async function requireFlow(slug: string) {
    const flow = await workflowsRepo.findBySlug(db, slug);
    if (!flow) throw new NotFoundError(`No workflow ${slug}`);
    return flow;
  }

  async function liveDefinition(versionId: string | null) {
    if (!versionId) return null;
    const v = await workflowsRepo.findVersion(db, versionId);
    return v ? { version: v.version, definition: parseJson<Workflow | null>(v.definition, null) } : null;
  }

  /** Every template by slug; the ones the flow sends are compiled, so a broken one shows now. */
  function templateStatuses(rows: TemplateRow[], used: Set<string>): (TemplateStatus & { title: string })[] {
    return rows.map((t) => {
      const issue = used.has(t.slug) ? validateTemplate(t)[0] : undefined;
      return { name: t.slug, title: t.name, error: issue ? `${issue.field}, line ${issue.line}: ${issue.message}` : null };
    });
  }

  const usedTemplates = (def: unknown) =>
    new Set(Object.values(((def as WorkflowInput | null)?.nodes ?? {}) as Record<string, { kind?: string; template?: string }>).flatMap((n) => (n?.kind === 'send_email' && n.template ? [n.template] : [])));

  async function draftOf(flow: { id: string; current_version_id: string | null }) {
    const row = await workflowDraftsRepo.findWithAuthor(db, flow.id);
    if (row) return { definition: parseJson<WorkflowInput | null>(row.definition, null), revision: row.revision, updatedBy: row.author_name || row.author_email || row.updated_label, updatedAt: row.updated_at };
    const live = await liveDefinition(flow.current_version_id);
    return { definition: live?.definition ?? null, revision: 0, updatedBy: null, updatedAt: null };
  }

  async function load(slug: string) {
    const flow = await requireFlow(slug);
    const draft = await draftOf(flow);
    const live = await liveDefinition(flow.current_version_id);
    const templates = templateStatuses(await templatesRepo.list(db), usedTemplates(draft.definition));
    return {
      workflow: { id: flow.id, slug: flow.slug, name: flow.name, status: flow.status, liveVersion: live?.version ?? null },
      draft,
      templates
    };
  }

  async function create(actor: Actor, input: NewFlow) {
    const def: WorkflowInput = { slug: input.slug, name: input.name, trigger: input.trigger, reentry: { mode: 'never' }, goals: [], start: '', nodes: {} };
    // The settings are checked now; the empty graph is what the designer is for.
    const parsed = workflowSchema.pick({ slug: true, name: true, trigger: true }).safeParse({ slug: def.slug, name: def.name, trigger: def.trigger });
    if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      if (await workflowsRepo.findBySlug(trx, input.slug)) throw new ConflictError(`A flow with the address "${input.slug}" already exists`);
      const id = ids.newId();
      // No version yet: nothing triggers the flow until it is published.
      await workflowsRepo.insert(trx, { id, slug: input.slug, name: input.name, status: 'active', current_version_id: null, trigger_type: null, trigger_key: null, created_at: now, updated_at: now });
      await workflowDraftsRepo.insert(trx, { workflow_id: id, definition: JSON.stringify(def), revision: 1, updated_by: actor.id, updated_label: actor.label, updated_at: now });
      await auditRepo.record(trx, ids.newId(), now, { actorId: actor.id, actorLabel: actor.label, action: 'workflow.create', entity: 'workflow', entityId: id, details: { slug: input.slug } });
      return { slug: input.slug, revision: 1 };
    });
  }

  async function saveDraft(actor: Actor, slug: string, definition: unknown, baseRevision: number) {
    const flow = await requireFlow(slug);
    const text = JSON.stringify(definition);
    if (text.length > MAX_DRAFT_CHARS) throw new InputError([{ field: 'definition', message: 'the flow is too large' }]);
    if ((definition as { slug?: unknown }).slug !== slug) throw new InputError([{ field: 'definition.slug', message: `this draft belongs to "${slug}"` }]);
    const now = clock.now();
    const patch = { definition: text, revision: baseRevision + 1, updated_by: actor.id, updated_label: actor.label, updated_at: now };
    const saved =
      baseRevision === 0
        ? await workflowDraftsRepo.insert(db, { workflow_id: flow.id, ...patch }).then(
            () => true,
            () => false
          )
        : await workflowDraftsRepo.updateIfRevision(db, flow.id, baseRevision, patch);
    if (!saved) {
      const theirs = await workflowDraftsRepo.findWithAuthor(db, flow.id);
      const who = theirs ? theirs.author_name || theirs.author_email || theirs.updated_label : 'someone';
      throw new ConflictError(`${who} saved this flow at ${new Date(theirs?.updated_at ?? now).toISOString()} (revision ${theirs?.revision ?? '?'})`);
    }
    return { revision: patch.revision, updatedAt: now };
  }

  /** The validator with real template compile results, and the path analysis when the flow compiles. */
  async function check(slug: string, definition: unknown) {
    await requireFlow(slug);
    const used = usedTemplates(definition);
    const templates = templateStatuses(await templatesRepo.list(db), used);
    const problems = checkWorkflow(definition, { templates });
    const paths = blocking(problems).length ? { paths: [], skipped: 'problems' } : analysePaths(definition, { compile: compileWorkflow, enterAction: ENTER_ACTION });
    return { problems, paths };
  }

  return { load, create, saveDraft, check };
}

export type WorkflowDrafts = ReturnType<typeof createWorkflowDrafts>;
