import fs from 'node:fs';
import path from 'node:path';
import type { App } from '../app';
import { InputError, NotFoundError, type Actor } from '../services/deps';
import { normalizeEmail } from '../../shared/lead';
import { leadsRepo } from '../repositories/leads.repo';
import { workflowsRepo } from '../repositories/workflows.repo';

/** Whatever the CLI publishes or enrolls is recorded under this actor. */
const CLI_ACTOR: Actor = { id: null, label: 'cli' };

const USAGE = `usage:
  npm run cli -- workflow publish <file.json>            validate and publish a new version
  npm run cli -- workflow enroll <slug> --email <email>  enroll one lead by hand
  npm run cli -- workflow stats <slug>                   leads per node, finished, goal, exited, failed
  npm run cli -- workflow export <slug>                  print the current version's JSON
  npm run cli -- workflow export <slug> --out <dir>      write <dir>/<slug>/workflow.json and its emails/ (publish reads it back)`;

/**
 * `npm run cli -- workflow <publish|enroll|stats|export>`. Results go to stdout as JSON a script
 * can parse; refusals go to stderr with the JSON path of each problem and exit code 1.
 */
export async function run(app: App, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const engine = app.services.engine;
  try {
    switch (sub) {
      case 'publish': {
        const file = rest[0];
        if (!file || rest.length > 1) return usage('publish takes one JSON file');
        const raw = readJson(file);
        if (typeof raw === 'string') return refuse([{ field: '(file)', message: raw }]);
        // A flow folder's own emails come along, so its send steps find their templates.
        await engine.loadEmailTemplates(path.join(path.dirname(file), 'emails'));
        const r = await engine.publish(CLI_ACTOR, raw);
        print({ workflowId: r.workflowId, version: r.version });
        return 0;
      }
      case 'enroll': {
        const slug = rest[0];
        const email = optionValue(rest, '--email');
        if (!slug || slug.startsWith('--') || email === undefined) return usage('enroll needs a slug and --email <email>');
        const normalized = normalizeEmail(email);
        if (!normalized.ok) return refuse([{ field: 'email', message: normalized.reason }]);
        const hit = (await leadsRepo.findIdsByIdentities(app.deps.db, [normalized.value], []))[0];
        if (!hit) return refuse([{ field: 'email', message: `no lead with email ${normalized.value}` }]);
        const [step] = await engine.enroll(CLI_ACTOR, slug, [hit.lead_id]);
        // A null step means the flow's re-entry rule kept the lead out.
        print(step ? { enrolled: true, leadId: hit.lead_id, instanceId: step.instanceId, status: step.status, node: step.node } : { enrolled: false, leadId: hit.lead_id, reason: 'the re-entry rule does not allow this lead in again' });
        return step ? 0 : 1;
      }
      case 'stats': {
        if (!rest[0]) return usage('stats needs a slug');
        print(await engine.stats(rest[0]));
        return 0;
      }
      case 'export': {
        if (!rest[0]) return usage('export needs a slug');
        const out = optionValue(rest, '--out');
        if (out !== undefined) {
          if (!out) return usage('--out needs a directory');
          print(await app.services.flowRuntime.files.exportToDir(rest[0], path.resolve(out)));
          return 0;
        }
        const flow = await workflowsRepo.findBySlug(app.deps.db, rest[0]);
        if (!flow?.current_version_id) throw new NotFoundError(`No workflow ${rest[0]}`);
        const v = await workflowsRepo.findVersion(app.deps.db, flow.current_version_id);
        print(JSON.parse(v!.definition));
        return 0;
      }
      default:
        return usage(sub ? `unknown sub-command ${sub}` : 'a sub-command is required');
    }
  } catch (e) {
    if (e instanceof InputError) return refuse(e.issues);
    if (e instanceof NotFoundError) return refuse([{ field: 'slug', message: e.message }]);
    throw e;
  }
}

function readJson(file: string): unknown {
  const p = path.resolve(file);
  if (!fs.existsSync(p)) return `no such file: ${file}`;
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    return `not valid JSON: ${(e as Error).message}`;
  }
}

function optionValue(args: string[], name: string): string | undefined {
  const eq = args.find((a) => a.startsWith(`${name}=`));
  if (eq) return eq.slice(name.length + 1);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

/** One line per problem, `path: message`, so the author can find each in the file. */
function refuse(issues: { field: string; message: string }[]): number {
  for (const i of issues) console.error(`${i.field}: ${i.message}`);
  return 1;
}

function usage(problem: string): number {
  console.error(problem);
  console.error(USAGE);
  return 2;
}
