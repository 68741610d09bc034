import fs from 'node:fs';
import path from 'node:path';
import type { App } from '../app';
import { InputError, type Actor } from '../services/deps';
import { importMappingSchema, type ImportMapping } from '../../shared/import';

const CLI_ACTOR: Actor = { id: null, label: 'cli' };
const USAGE = `usage: npm run cli -- import <file.csv> [--channel <name>] [--mapping '{"Email":"email",...}'] [--batch <rows>]`;

/**
 * `npm run cli -- import <file.csv>`: the same import the UI runs, to the end, printing one JSON
 * summary (with the first 20 rejects) a script can parse. Exits 1 when the import failed, so a
 * cron job notices; rejected rows alone are not a failure.
 */
export async function run(app: App, args: string[]): Promise<number> {
  const { positional, options } = parseArgs(args);
  const file = positional[0];
  if (!file || positional.length > 1) return usage(file ? `unexpected argument ${positional[1]}` : 'a CSV file is required');
  const filePath = path.resolve(file);
  if (!fs.existsSync(filePath)) return usage(`no such file: ${file}`);

  const imports = app.services.imports;
  try {
    let mapping: ImportMapping;
    if (options.mapping !== undefined) {
      let json: unknown;
      try {
        json = JSON.parse(options.mapping);
      } catch {
        return usage('--mapping is not valid JSON');
      }
      const parsed = importMappingSchema.safeParse(json);
      if (!parsed.success) return usage(`--mapping: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(mapping)'}: ${i.message}`).join('; ')}`);
      mapping = parsed.data as ImportMapping;
    } else {
      mapping = (await imports.preview(filePath)).suggested;
    }
    const batchSize = options.batch !== undefined ? Number(options.batch) : undefined;
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) return usage('--batch must be a positive whole number');
    const summary = await imports.run({ filePath, filename: path.basename(filePath), mapping, channelName: options.channel, actor: CLI_ACTOR, batchSize });
    const rejects = await imports.rejects(summary.id, 20);
    console.log(
      JSON.stringify(
        {
          importId: summary.id,
          total: summary.total,
          created: summary.created,
          updated: summary.updated,
          rejected: summary.rejected,
          status: summary.status,
          ...(summary.stoppedAtRow !== null ? { stoppedAtRow: summary.stoppedAtRow, error: summary.error } : {}),
          mapping,
          rejects: rejects.map((r) => ({ row: r.row, field: r.field, reason: r.reason }))
        },
        null,
        2
      )
    );
    return summary.status === 'failed' ? 1 : 0;
  } catch (e) {
    if (e instanceof InputError) return usage(e.message);
    throw e;
  }
}

function parseArgs(args: string[]) {
  const positional: string[] = [];
  const options: Record<string, string | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options[a.slice(2, eq)] = a.slice(eq + 1);
      else options[a.slice(2)] = args[++i];
    } else positional.push(a);
  }
  return { positional, options };
}

function usage(problem: string): number {
  console.error(problem);
  console.error(USAGE);
  return 2;
}
