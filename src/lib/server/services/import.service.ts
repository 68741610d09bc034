import fs from 'node:fs';
import Papa from 'papaparse';
import type { ImportRejectsTable, ImportsTable } from '../db/schema';
import { importsRepo } from '../repositories/imports.repo';
import { settingsRepo } from '../repositories/settings.repo';
import { toCsvLine } from '../../shared/csv';
import { leadInputSchema, UTM_KEYS, type LeadInputRaw, type Touch } from '../../shared/lead';
import {
  ATTR_PREFIX,
  importMappingSchema,
  SKIP,
  suggestMapping,
  type ImportMapping,
  type ImportReject,
  type ImportSummary,
  type ImportTarget
} from '../../shared/import';
import type { ChannelResolver } from './channels.service';
import { InputError, NotFoundError, type Actor, type Deps } from './deps';
import { createBatchWriter, type PlannedRow } from './import-batch';

export const LAST_MAPPING_KEY = 'import.lastMapping';
// 1,000 rows a transaction: 2,000 ran ~10% faster but peaked at 304 MB (VmHWM) on the 1M-row bench, over the 300 MB budget.
export const DEFAULT_BATCH_SIZE = 1000;
/** Rows the preview shows; enough to judge a mapping, small enough for any file. */
const PREVIEW_ROWS = 10;
const REJECTS_PAGE = 1000;

/**
 * CSV import: streams the file through papaparse, normalizes each row with the capture rules,
 * dedupes against the base and within the file, and writes batches of rows, each in one
 * transaction. A failed batch leaves every earlier batch committed and the import row says
 * which row it stopped at, so a re-run of the rest is possible and nothing is half-written.
 */
export interface StartImportRequest {
  filePath: string;
  filename: string;
  mapping: ImportMapping;
  channelName?: string;
  actor: Actor;
  /** Rows per transaction; small values are for tests that need several batches. */
  batchSize?: number;
}

export interface CsvPreview {
  headers: string[];
  rows: string[][];
  suggested: ImportMapping;
}

/**
 * `sqlite` is the raw handle of the same connection; when given, batches take the prepared-statement
 * path (see import-batch.ts). Without it the import runs through Kysely only.
 */
export function createImportService(deps: Deps, channels: ChannelResolver, sqlite?: import('better-sqlite3').Database) {
  const { db, clock, ids } = deps;
  const writer = createBatchWriter(deps, sqlite);
  /** Imports this process is running; a `running` row not in here was cut off by a restart. */
  const active = new Set<string>();

  async function preview(filePath: string): Promise<CsvPreview> {
    const records: string[][] = [];
    for await (const { cells } of csvRecords(filePath)) {
      if (isBlank(cells)) continue;
      records.push(cells);
      if (records.length > PREVIEW_ROWS) break;
    }
    if (records.length === 0) throw new InputError([{ field: 'file', message: 'is empty: no header row found' }]);
    const headers = uniqueHeaders(records[0]);
    const remembered = await settingsRepo.get<ImportMapping>(db, LAST_MAPPING_KEY, {});
    return { headers, rows: records.slice(1), suggested: suggestMapping(headers, remembered) };
  }

  /** Creates the import row and starts reading; `done` settles when the file is through. */
  async function start(req: StartImportRequest): Promise<{ importId: string; done: Promise<ImportSummary> }> {
    const parsed = importMappingSchema.safeParse(req.mapping);
    if (!parsed.success)
      throw new InputError(parsed.error.issues.map((i) => ({ field: `mapping${i.path.length ? '.' + i.path.join('.') : ''}`, message: i.message })));
    const mapping = parsed.data as ImportMapping;
    const size = (await fs.promises.stat(req.filePath).catch(() => null))?.size;
    if (size === undefined) throw new NotFoundError('The uploaded file is gone; upload it again');
    const batchSize = Math.max(1, Math.min(req.batchSize ?? DEFAULT_BATCH_SIZE, 10_000));
    const now = clock.now();
    const channelId = await channels.resolve(db, { source: 'import', channelName: req.channelName });
    const importId = ids.newId();
    await importsRepo.insert(db, {
      id: importId,
      filename: req.filename,
      channel_id: channelId,
      mapping: JSON.stringify(mapping),
      status: 'running',
      total_rows: 0,
      created_count: 0,
      updated_count: 0,
      rejected_count: 0,
      progress: 0,
      stopped_at_row: null,
      error: null,
      created_by: req.actor.id,
      created_at: now,
      finished_at: null
    });
    await settingsRepo.set(db, LAST_MAPPING_KEY, mapping, now);
    active.add(importId);
    const done = writer
      .session(() => runFile({ importId, filePath: req.filePath, size, mapping, channelId, actor: req.actor, batchSize }))
      .finally(() => active.delete(importId));
    return { importId, done };
  }

  async function runFile(args: {
    importId: string;
    filePath: string;
    size: number;
    mapping: ImportMapping;
    channelId: string;
    actor: Actor;
    batchSize: number;
  }): Promise<ImportSummary> {
    const { importId } = args;
    const counts = { total: 0, created: 0, updated: 0, rejected: 0 };
    let batch: PlannedRow[] = [];
    let rejects: ImportRejectsTable[] = [];
    let columns: Column[] | undefined;
    let rowNumber = 0;
    let firstPendingRow = 2;

    const flush = async (progress: number) => {
      const res = await writer.write({ importId, channelId: args.channelId, actor: args.actor, rows: batch, rejects, now: clock.now() }, (c) => ({
        total_rows: counts.total + c.total,
        created_count: counts.created + c.created,
        updated_count: counts.updated + c.updated,
        rejected_count: counts.rejected + c.rejected,
        progress,
        // While running this is the next row to import, committed with the batch, so a server
        // that dies mid-file still leaves the right answer to "where did it stop?".
        stopped_at_row: rowNumber + 1
      }));
      counts.total += res.total;
      counts.created += res.created;
      counts.updated += res.updated;
      counts.rejected += res.rejected;
      batch = [];
      rejects = [];
      firstPendingRow = rowNumber + 1;
    };

    try {
      for await (const { cells, bytesRead } of csvRecords(args.filePath)) {
        rowNumber++;
        if (!columns) {
          columns = columnsFor(uniqueHeaders(cells), args.mapping);
          firstPendingRow = rowNumber + 1;
          continue;
        }
        if (isBlank(cells)) continue;
        const planned = normalizeRow(cells, columns, rowNumber, importId);
        if ('reject' in planned) rejects.push(...planned.reject);
        else batch.push(planned);
        if (batch.length + rejects.length >= args.batchSize) await flush(args.size ? bytesRead / args.size : 1);
      }
      if (batch.length || rejects.length) await flush(1);
      await importsRepo.update(db, importId, { status: 'done', progress: 1, stopped_at_row: null, finished_at: clock.now() });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await importsRepo.update(db, importId, { status: 'failed', stopped_at_row: firstPendingRow, error: message.slice(0, 2000), finished_at: clock.now() });
    }
    return (await status(importId))!;
  }

  async function settleOrphan(r: ImportsTable): Promise<ImportsTable> {
    if (r.status !== 'running' || active.has(r.id)) return r;
    const patch = {
      status: 'failed' as const,
      stopped_at_row: r.stopped_at_row ?? 2,
      error: 'the server stopped during the import',
      finished_at: r.finished_at ?? clock.now()
    };
    await importsRepo.update(db, r.id, patch);
    return { ...r, ...patch };
  }

  async function status(importId: string): Promise<ImportSummary | undefined> {
    const r = await importsRepo.findById(db, importId);
    return r ? toSummary(await settleOrphan(r)) : undefined;
  }

  return {
    preview,
    start,
    /** Runs an import to the end (the CLI's way); the UI uses `start` and polls `status`. */
    async run(req: StartImportRequest): Promise<ImportSummary> {
      const { done } = await start(req);
      return done;
    },
    status,
    async list(limit = 20): Promise<ImportSummary[]> {
      const rows = await importsRepo.list(db, limit);
      return Promise.all(rows.map(async (r) => toSummary(await settleOrphan(r))));
    },
    async rejects(importId: string, limit?: number): Promise<ImportReject[]> {
      const rows = await importsRepo.rejects(db, importId, limit);
      return rows.map((r) => ({ row: r.row_number, field: r.field, reason: r.reason, raw: parseRaw(r.raw) }));
    },
    /**
     * The rejects report, line by line, read a page at a time so a file with many bad rows is
     * never held whole. `;` and a BOM because that is what a Russian Excel opens without asking;
     * cells that would run as formulas are neutralized.
     */
    async *rejectsCsv(importId: string): AsyncGenerator<string> {
      yield '\uFEFF' + toCsvLine(['row', 'column', 'reason', 'raw row'], ';') + '\r\n';
      for (let offset = 0; ; offset += REJECTS_PAGE) {
        const page = await importsRepo.rejects(db, importId, REJECTS_PAGE, offset);
        for (const r of page) yield toCsvLine([r.row_number, r.field, r.reason, toCsvLine(parseRaw(r.raw), ';')], ';') + '\r\n';
        if (page.length < REJECTS_PAGE) return;
      }
    },
    async lastMapping(): Promise<ImportMapping> {
      return settingsRepo.get<ImportMapping>(db, LAST_MAPPING_KEY, {});
    }
  };
}

export type ImportService = ReturnType<typeof createImportService>;

interface Column {
  index: number;
  header: string;
  target: ImportTarget;
}

/** Reads CSV records one at a time with backpressure; `bytesRead` drives the progress bar. */
async function* csvRecords(filePath: string): AsyncGenerator<{ cells: string[]; bytesRead: number }> {
  // Decoding to text before papaparse keeps a Cyrillic letter split across two chunks whole.
  const file = fs.createReadStream(filePath, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  const parser = Papa.parse(Papa.NODE_STREAM_INPUT, { delimiter: headerDelimiter, skipEmptyLines: false });
  file.on('error', (e) => parser.destroy(e));
  file.pipe(parser);
  try {
    for await (const cells of parser as AsyncIterable<string[]>) yield { cells, bytesRead: file.bytesRead };
  } finally {
    file.destroy();
    parser.destroy();
  }
}

/**
 * `;` or `,`, whichever the header line uses more (outside quotes). The header is the one line
 * every file has; papaparse's own guess needs several rows and misreads a two-line file.
 */
export function headerDelimiter(text: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted) {
      if (ch === '\n' || ch === '\r') break;
      if (ch === ';') semicolons++;
      else if (ch === ',') commas++;
    }
  }
  return semicolons > commas ? ';' : ',';
}

function isBlank(cells: string[]) {
  return cells.every((c) => c.trim() === '');
}

/** Mapping is by header, so headers must be unique and non-empty; repeats get a number. */
export function uniqueHeaders(cells: string[]): string[] {
  const seen = new Map<string, number>();
  return cells.map((c, i) => {
    const base = c.replace(/^\uFEFF/, '').trim() || `Column ${i + 1}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base} (${n})`;
  });
}

function columnsFor(headers: string[], mapping: ImportMapping): Column[] {
  return headers
    .map((header, index) => ({ header, index, target: mapping[header] ?? SKIP }))
    .filter((c) => c.target !== SKIP);
}

const UTM = new Set<string>(UTM_KEYS);

/**
 * One CSV record -> a normalized lead input, or the reasons it is refused. Uses the same schema
 * as every other entry point, so an imported lead is stored exactly as a captured one. Cells that
 * look like formulas are kept as the text they are; exports neutralize them on the way out.
 */
function normalizeRow(cells: string[], columns: Column[], row: number, importId: string): PlannedRow | { reject: ImportRejectsTable[] } {
  const raw: Record<string, unknown> = {};
  const touch: Touch = {};
  let attributes: Record<string, string> | undefined;
  for (const c of columns) {
    const v = cells[c.index] ?? '';
    if (c.target.startsWith(ATTR_PREFIX)) {
      const t = v.trim();
      if (t) (attributes ??= {})[c.target.slice(ATTR_PREFIX.length)] = t;
    } else if (UTM.has(c.target)) {
      const t = v.trim();
      if (t) touch[c.target as keyof Touch] = t.slice(0, 200) as never;
    } else raw[c.target] = v;
  }
  if (attributes) raw.attributes = attributes;
  const r = leadInputSchema.safeParse(raw as LeadInputRaw);
  if (r.success) return { row, input: r.data, touch: Object.keys(touch).length ? touch : undefined };
  const rawText = JSON.stringify(cells);
  const seen = new Set<string>();
  const reject: ImportRejectsTable[] = [];
  for (const issue of r.error.issues) {
    const target = issue.path[0] === 'attributes' ? `${ATTR_PREFIX}${String(issue.path[1])}` : String(issue.path[0] ?? '');
    const column = columns.find((c) => c.target === target)?.header ?? target ?? '(row)';
    const key = `${column}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reject.push({ import_id: importId, row_number: row, field: column, reason: issue.message, raw: rawText });
  }
  return { reject };
}

function parseRaw(raw: string): string[] {
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.map(String) : [String(raw)];
  } catch {
    return [raw];
  }
}

function toSummary(r: ImportsTable): ImportSummary {
  return {
    id: r.id,
    filename: r.filename,
    channelId: r.channel_id,
    status: r.status,
    total: r.total_rows,
    created: r.created_count,
    updated: r.updated_count,
    rejected: r.rejected_count,
    progress: r.progress,
    stoppedAtRow: r.stopped_at_row,
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at
  };
}

