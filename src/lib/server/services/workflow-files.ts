import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { workflowSchema, type Workflow } from '../../shared/workflow';
import { checkGraph } from '../engine/graph-check';
import { validateTemplate } from '../email/render';
import { templatesRepo, type TemplateRow } from '../repositories/templates.repo';
import { workflowsRepo } from '../repositories/workflows.repo';
import { flowRuntimeRepo } from '../repositories/flow-runtime.repo';
import { InputError, NotFoundError, type Deps } from './deps';
import { templateInput } from './templates.service';

/** A template as it travels in an export: everything but its database id and timestamp. */
const exportedTemplate = templateInput;
export type ExportedTemplate = z.infer<typeof exportedTemplate>;

/** The export file: the flow in the `workflows/<slug>/workflow.json` format, with its email templates. */
export interface FlowBundle {
  format: typeof BUNDLE_FORMAT;
  workflow: Workflow;
  templates: ExportedTemplate[];
}
export const BUNDLE_FORMAT = 'nurture.workflow/1';

type Issue = { field: string; message: string };

const templatesOf = (wf: Workflow) => [...new Set(Object.values(wf.nodes).flatMap((n) => (n.kind === 'send_email' ? [n.template] : [])))];

/**
 * Export and import of flows. An export is the flow's JSON (exactly what `workflow.json` holds)
 * plus the templates its emails use; on disk the templates become `emails/<slug>.liquid` (subject
 * line, then the text part) and `emails/<slug>.html` (front matter, `---`, the HTML), the format
 * the shipped flows use and start-up loads. An import is checked whole before anything is stored:
 * every problem is reported by its path, and one problem means nothing changes.
 */
export function createWorkflowFiles(deps: Pick<Deps, 'db' | 'clock' | 'ids'>) {
  const { db, clock, ids } = deps;

  async function bundle(slug: string, version?: number): Promise<FlowBundle> {
    const flow = await workflowsRepo.findBySlug(db, slug);
    if (!flow) throw new NotFoundError(`No workflow ${slug}`);
    const v =
      version !== undefined
        ? await flowRuntimeRepo.versionByNumber(db, flow.id, version)
        : flow.current_version_id
          ? await workflowsRepo.findVersion(db, flow.current_version_id)
          : undefined;
    if (!v) throw new NotFoundError(`${slug} has no published version to export`);
    const workflow = workflowSchema.parse(JSON.parse(v.definition));
    const rows = await templatesRepo.bySlugs(db, templatesOf(workflow));
    const templates = rows.sort((a, b) => a.slug.localeCompare(b.slug)).map((t) => exportedTemplate.parse(t));
    return { format: BUNDLE_FORMAT, workflow, templates };
  }

  /**
   * Checks an uploaded file: a bundle from `bundle()` or a bare `workflow.json`. Answers the flow
   * and the templates to add; throws InputError listing every problem by path.
   */
  async function check(raw: unknown): Promise<{ workflow: Workflow; templates: ExportedTemplate[] }> {
    const isBundle = typeof raw === 'object' && raw !== null && 'workflow' in raw;
    const prefix = isBundle ? 'workflow.' : '';
    const issues: Issue[] = [];
    const parsed = workflowSchema.safeParse(isBundle ? (raw as { workflow: unknown }).workflow : raw);
    if (!parsed.success) for (const i of parsed.error.issues) issues.push({ field: prefix + (i.path.join('.') || '(root)'), message: i.message });
    else for (const p of checkGraph(parsed.data)) issues.push({ field: prefix + p.path, message: p.message });

    const templates: ExportedTemplate[] = [];
    const rawTemplates = isBundle ? (raw as { templates?: unknown }).templates ?? [] : [];
    if (!Array.isArray(rawTemplates)) issues.push({ field: 'templates', message: 'must be a list' });
    else
      rawTemplates.forEach((t, i) => {
        const r = exportedTemplate.safeParse(t);
        if (!r.success) for (const x of r.error.issues) issues.push({ field: `templates.${i}.${x.path.join('.')}`, message: x.message });
        else {
          for (const x of validateTemplate(r.data)) issues.push({ field: `templates.${i}.${x.field}`, message: `line ${x.line}, column ${x.column}: ${x.message}` });
          templates.push(r.data);
        }
      });
    if (parsed.success) {
      const carried = new Set(templates.map((t) => t.slug));
      const stored = new Set((await templatesRepo.bySlugs(db, templatesOf(parsed.data))).map((t) => t.slug));
      for (const [id, n] of Object.entries(parsed.data.nodes))
        if (n.kind === 'send_email' && !carried.has(n.template) && !stored.has(n.template))
          issues.push({ field: `${prefix}nodes.${id}.template`, message: `email template "${n.template}" is neither in the file nor in this workspace` });
    }
    if (issues.length) throw new InputError(issues);
    return { workflow: parsed.data!, templates };
  }

  /** Adds the file's templates this workspace lacks; a template it has already is kept as it is. */
  async function addMissingTemplates(trx: typeof db, templates: ExportedTemplate[]) {
    const added: string[] = [];
    const kept: string[] = [];
    for (const t of templates) {
      const row: TemplateRow = { id: ids.newId(), ...t, updated_at: clock.now() };
      if (await templatesRepo.insertIfAbsent(trx, row)) added.push(t.slug);
      else kept.push(t.slug);
    }
    return { added, kept };
  }

  return {
    bundle,
    check,
    addMissingTemplates,

    /** Writes `<dir>/<slug>/workflow.json` and `<dir>/<slug>/emails/*` (what the CLI export does). */
    async exportToDir(slug: string, dir: string) {
      const b = await bundle(slug);
      const root = path.join(dir, b.workflow.slug);
      fs.mkdirSync(path.join(root, 'emails'), { recursive: true });
      fs.writeFileSync(path.join(root, 'workflow.json'), JSON.stringify(b.workflow, null, 2) + '\n');
      const files = ['workflow.json'];
      for (const t of b.templates) {
        fs.writeFileSync(path.join(root, 'emails', `${t.slug}.liquid`), `subject: ${t.subject}\n${t.body}`);
        files.push(`emails/${t.slug}.liquid`);
        if (t.html) {
          const front = [t.preheader ? `preheader: ${t.preheader}` : '', `kind: ${t.kind}`, t.topic ? `topic: ${t.topic}` : ''].filter(Boolean).join('\n');
          fs.writeFileSync(path.join(root, 'emails', `${t.slug}.html`), `${front}\n---\n${t.html}`);
          files.push(`emails/${t.slug}.html`);
        }
      }
      return { dir: root, files };
    }
  };
}

export type WorkflowFiles = ReturnType<typeof createWorkflowFiles>;
