import Papa from 'papaparse';
import type { Db } from '../db/database';
import type { SegmentsTable } from '../db/schema';
import { segmentsRepo } from '../repositories/segments.repo';
import { eventsRepo } from '../repositories/events.repo';
import { auditRepo } from '../repositories/audit.repo';
import { parseJson } from '../repositories/json';
import { segmentDefinitionSchema, type SegmentDefinition } from '../../shared/segment';
import { normalizeEmail, normalizePhone } from '../../shared/lead';
import { compileSegment, dependenciesOf, keysChangedBy, type SegmentDependencies } from '../segments/compile';
import { leadsRepo } from '../repositories/leads.repo';
import type { LeadListQuery } from '../../shared/lead-query';
import { InputError, NotFoundError, type Actor, type Deps } from './deps';

/** A dynamic segment as the incremental index holds it. */
interface IndexedSegment {
  id: string;
  definition: SegmentDefinition;
  deps: SegmentDependencies;
}

interface SegmentIndex {
  all: IndexedSegment[];
  /** Segments by the dependency key that can change them (see compile.ts keysChangedBy). */
  byKey: Map<string, IndexedSegment[]>;
  timeDependent: IndexedSegment[];
  loadedAt: number;
}

export interface DispatchedLeadEvent {
  id: string;
  lead_id: string | null;
  type: string;
}

export interface SegmentsOptions {
  /** Enrolls leads in a flow by slug (services.engine.enroll); bound late in app.ts. */
  enroll?: (actor: Actor, slug: string, leadIds: string[]) => Promise<unknown[]>;
}

/** Another process (a separate worker) may have changed segments: re-read them this often. */
const INDEX_TTL_MS = 10_000;
/**
 * Time-dependent segments ("in the last 14 days", "no activity for 60 days", engagement that
 * decays, flow positions) can change with no event at all. Only those are re-checked, this often,
 * by a set difference in SQL; everything else is kept exact by the events themselves.
 */
const SWEEP_EVERY_MS = 5 * 60_000;
const WRITE_BATCH = 1000;
const SAMPLE_SIZE = 10;
const STATIC_CSV_MAX_ROWS = 200_000;
/** The most leads one "add the filtered list" takes; a bigger audience is a dynamic segment. */
const FROM_LIST_MAX = 10_000;

export function parseSegmentDefinition(raw: unknown): SegmentDefinition {
  const parsed = segmentDefinitionSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => ({ field: ['definition', ...i.path].join('.'), message: i.message })));
  return parsed.data;
}

export function createSegmentsService(deps: Deps, opts: SegmentsOptions = {}) {
  const { db, clock, ids } = deps;
  let index: SegmentIndex | null = null;
  let lastSweepAt = -Infinity;
  const running = new Map<string, Promise<void>>();

  async function loadIndex(on: Db): Promise<SegmentIndex> {
    if (index && performance.now() - index.loadedAt < INDEX_TTL_MS) return index;
    const all: IndexedSegment[] = [];
    for (const r of await segmentsRepo.listDynamic(on)) {
      const parsed = segmentDefinitionSchema.safeParse(parseJson(r.definition ?? '', null));
      // A stored definition that no longer parses is skipped rather than stopping every segment.
      if (!parsed.success) {
        console.error(`[segments] segment ${r.id} skipped: ${parsed.error.message}`);
        continue;
      }
      all.push({ id: r.id, definition: parsed.data, deps: dependenciesOf(parsed.data) });
    }
    const byKey = new Map<string, IndexedSegment[]>();
    for (const s of all) for (const k of s.deps.keys) byKey.set(k, [...(byKey.get(k) ?? []), s]);
    index = { all, byKey, timeDependent: all.filter((s) => s.deps.timeDependent), loadedAt: performance.now() };
    evaluations = new Map();
    return index;
  }

  /** Membership writes and their timeline events, which the engine dispatches to flows next. */
  async function recordChanges(trx: Db, segmentId: string, entered: string[], left: string[], now: number) {
    const rows = [...entered.map((l) => [l, 'segment_entered'] as const), ...left.map((l) => [l, 'segment_left'] as const)];
    for (const [leadId, type] of rows)
      await eventsRepo.append(trx, { id: ids.newId(), lead_id: leadId, type, properties: JSON.stringify({ segmentId }), source: 'segments', actor_id: null, occurred_at: now, received_at: now, dedupe_key: null });
    await segmentsRepo.addCount(trx, segmentId, entered.length - left.length);
  }

  async function enter(trx: Db, segmentId: string, leadIds: string[], now: number) {
    const added = await segmentsRepo.addMembers(trx, segmentId, leadIds, now);
    await recordChanges(trx, segmentId, added, [], now);
    return added.length;
  }

  async function leave(trx: Db, segmentId: string, leadIds: string[], now: number) {
    const removed = await segmentsRepo.removeMembers(trx, segmentId, leadIds);
    await recordChanges(trx, segmentId, [], removed, now);
    return removed.length;
  }

  /**
   * Prepared evaluations by the set of segments and the second: windows move by the second, and
   * the same few sets of segments (one per kind of event) come back event after event.
   */
  let evaluations = new Map<string, ReturnType<typeof segmentsRepo.prepareEvaluation>>();
  let evaluationsAt = 0;
  function evaluationFor(on: Db, segments: IndexedSegment[], now: number) {
    const second = Math.floor(now / 1000) * 1000;
    if (second !== evaluationsAt || evaluations.size > 200) {
      evaluations = new Map();
      evaluationsAt = second;
    }
    const key = segments.map((s) => s.id).join(',');
    let hit = evaluations.get(key);
    if (!hit) evaluations.set(key, (hit = segmentsRepo.prepareEvaluation(on, segments.map((s) => compileSegment(s.definition, second, 'one')))));
    return hit;
  }

  /** Re-evaluates one lead against the given segments in one statement and applies the difference. */
  async function reevaluateLead(trx: Db, leadId: string, segments: IndexedSegment[], now: number) {
    if (!segments.length) return;
    const matches = await evaluationFor(trx, segments, now)(trx, leadId);
    const current = await segmentsRepo.segmentsOfLead(trx, leadId);
    for (let i = 0; i < segments.length; i++) {
      const want = matches?.[i] === 1;
      const have = current.has(segments[i].id);
      if (want && !have) await enter(trx, segments[i].id, [leadId], now);
      else if (!want && have) await leave(trx, segments[i].id, [leadId], now);
    }
  }

  /**
   * The dispatcher's hook, run inside its transaction after scoring: re-evaluates the event's
   * lead against only the segments the event could affect.
   */
  async function onEvent(trx: Db, e: DispatchedLeadEvent, props: Record<string, unknown>) {
    if (!e.lead_id || props.machine === true) return;
    const idx = await loadIndex(trx);
    const now = clock.now();
    if (e.type === 'lead_merged' && typeof props.mergedLeadId === 'string') {
      // The merged-away lead is a tombstone: it leaves quietly (no flow should start for it).
      for (const segmentId of await segmentsRepo.removeLeadEverywhere(trx, props.mergedLeadId)) await segmentsRepo.addCount(trx, segmentId, -1);
    }
    if (!idx.all.length) return;
    const keys = keysChangedBy(e.type, props);
    let affected: IndexedSegment[];
    if (keys.includes('*')) affected = idx.all;
    else {
      const set = new Set<IndexedSegment>();
      for (const k of keys) for (const s of idx.byKey.get(k) ?? []) set.add(s);
      affected = [...set];
    }
    await reevaluateLead(trx, e.lead_id, affected, now);
  }

  /**
   * Brings a segment's members in line with its definition: one set query for who should be in,
   * then the difference written in batches, each batch re-checked inside its own transaction (an
   * event dispatched meanwhile may have moved a lead already). Progress is stored as it goes.
   */
  async function reconcile(segmentId: string, opts: { showProgress: boolean }) {
    const seg = await segmentsRepo.findById(db, segmentId);
    if (!seg || seg.kind !== 'dynamic') return { entered: 0, left: 0 };
    const def = parseSegmentDefinition(parseJson(seg.definition ?? '', null));
    const started = clock.now();
    if (opts.showProgress) await segmentsRepo.update(db, segmentId, { status: 'computing', progress: 0 });
    const want = new Set(await segmentsRepo.matchingIds(db, compileSegment(def, started, 'set')));
    const have = new Set(await segmentsRepo.memberIds(db, segmentId));
    const toEnter = [...want].filter((id) => !have.has(id));
    const toLeave = [...have].filter((id) => !want.has(id));
    const leaving = new Set(toLeave);
    const todo = [...toEnter, ...toLeave];
    let entered = 0;
    let left = 0;
    for (let i = 0; i < todo.length; i += WRITE_BATCH) {
      const batch = todo.slice(i, i + WRITE_BATCH);
      await db.transaction().execute(async (trx) => {
        const now = clock.now();
        const matching = await segmentsRepo.matchingAmong(trx, batch, compileSegment(def, now, 'one'));
        entered += await enter(trx, segmentId, batch.filter((id) => !leaving.has(id) && matching.has(id)), now);
        left += await leave(trx, segmentId, batch.filter((id) => leaving.has(id) && !matching.has(id)), now);
        if (opts.showProgress) await segmentsRepo.update(trx, segmentId, { progress: Math.min(0.99, (i + batch.length) / todo.length) });
      });
    }
    await segmentsRepo.recountMembers(db, segmentId);
    const now = clock.now();
    await segmentsRepo.update(db, segmentId, opts.showProgress ? { status: 'ready', progress: 1, last_full_at: now } : { last_sweep_at: now });
    return { entered, left };
  }

  /** Starts a full recompute in the background (one at a time per segment); the page polls progress. */
  function startRecompute(segmentId: string): Promise<void> {
    const prior = running.get(segmentId) ?? Promise.resolve();
    const next = prior
      .then(() => reconcile(segmentId, { showProgress: true }))
      .then(
        () => undefined,
        async (e) => {
          console.error(`[segments] recompute of ${segmentId} failed: ${(e as Error).message}`);
          await segmentsRepo.update(db, segmentId, { status: 'ready' }).catch(() => undefined);
        }
      )
      .finally(() => {
        if (running.get(segmentId) === next) running.delete(segmentId);
      });
    running.set(segmentId, next);
    return next;
  }

  /** Re-checks the time-dependent segments only (see SWEEP_EVERY_MS). */
  async function sweep() {
    index = null;
    const idx = await loadIndex(db);
    let changed = 0;
    for (const s of idx.timeDependent) {
      const r = await reconcile(s.id, { showProgress: false });
      changed += r.entered + r.left;
    }
    return changed;
  }

  async function requireSegment(id: string): Promise<SegmentsTable> {
    const seg = await segmentsRepo.findById(db, id);
    if (!seg) throw new NotFoundError('No such segment');
    return seg;
  }

  async function requireStatic(id: string) {
    const seg = await requireSegment(id);
    if (seg.kind !== 'static') throw new InputError([{ field: 'segmentId', message: 'is a dynamic segment; its members follow its conditions' }]);
    return seg;
  }

  const view = (s: SegmentsTable) => ({
    id: s.id,
    name: s.name,
    description: s.description,
    kind: s.kind,
    definition: s.definition ? parseJson<SegmentDefinition | null>(s.definition, null) : null,
    memberCount: s.member_count,
    status: s.status,
    progress: s.progress,
    lastFullAt: s.last_full_at,
    createdAt: s.created_at,
    updatedAt: s.updated_at
  });

  async function audit(actor: Actor, action: string, entityId: string, details: Record<string, unknown>) {
    await auditRepo.record(db, ids.newId(), clock.now(), { actorId: actor.id, actorLabel: actor.label, action, entity: 'segment', entityId, details });
  }

  async function addStaticMembers(segmentId: string, leadIds: string[]) {
    const live = await segmentsRepo.existingLeadIds(db, [...new Set(leadIds)]);
    const added = await db.transaction().execute((trx) => enter(trx, segmentId, live, clock.now()));
    return { added, unknown: new Set(leadIds).size - live.length };
  }

  return {
    onEvent,
    sweep,
    /** For the worker loop: sweeps at most every SWEEP_EVERY_MS. */
    async sweepIfDue() {
      const now = clock.now();
      if (now - lastSweepAt < SWEEP_EVERY_MS) return 0;
      lastSweepAt = now;
      return sweep();
    },
    /** Full recompute, awaited (tests, the CLI, the bench). */
    recompute: (segmentId: string) => startRecompute(segmentId),
    /** Waits for background recomputes in flight. */
    async idle() {
      while (running.size) await Promise.all([...running.values()]);
    },

    /** The builder's live answer: how many leads match now, and a few of them. */
    async preview(raw: unknown) {
      const def = parseSegmentDefinition(raw);
      const started = performance.now();
      const pred = compileSegment(def, clock.now(), 'set');
      const { count, sample } = await segmentsRepo.preview(db, pred, SAMPLE_SIZE);
      return {
        count,
        ms: Math.round(performance.now() - started),
        sample: sample.map((l) => ({ id: l.id, name: l.name, email: l.email, company: l.company, stage: l.stage, fitScore: l.fit_score, engagementScore: l.engagement_score, city: l.city, ownerName: l.owner_name }))
      };
    },

    async list() {
      return (await segmentsRepo.list(db)).map(view);
    },
    async get(id: string) {
      return view(await requireSegment(id));
    },
    options: () => segmentsRepo.options(db),

    async create(actor: Actor, input: { name: string; description?: string; definition: unknown }) {
      const def = parseSegmentDefinition(input.definition);
      const now = clock.now();
      const id = ids.newId();
      await segmentsRepo.insert(db, { id, name: input.name.trim(), description: input.description?.trim() || null, kind: 'dynamic', definition: JSON.stringify(def), member_count: 0, status: 'computing', progress: 0, last_full_at: null, last_sweep_at: null, created_by: actor.id, created_at: now, updated_at: now });
      index = null;
      await audit(actor, 'segment.create', id, { name: input.name });
      void startRecompute(id);
      return { id };
    },

    async update(actor: Actor, id: string, input: { name: string; description?: string; definition: unknown }) {
      const seg = await requireSegment(id);
      const patch: Partial<SegmentsTable> = { name: input.name.trim(), description: input.description?.trim() || null, updated_at: clock.now() };
      if (seg.kind === 'dynamic') {
        patch.definition = JSON.stringify(parseSegmentDefinition(input.definition));
        patch.status = 'computing';
        patch.progress = 0;
      }
      await segmentsRepo.update(db, id, patch);
      index = null;
      await audit(actor, 'segment.update', id, { name: input.name });
      if (seg.kind === 'dynamic') void startRecompute(id);
      return { id };
    },

    async remove(actor: Actor, id: string) {
      const seg = await requireSegment(id);
      await running.get(id);
      await segmentsRepo.delete(db, id);
      index = null;
      await audit(actor, 'segment.delete', id, { name: seg.name });
    },

    /** A static list: members picked by hand (lead-list selection) or from a CSV. */
    async createStatic(actor: Actor, input: { name: string; description?: string; leadIds?: string[] }) {
      const now = clock.now();
      const id = ids.newId();
      await segmentsRepo.insert(db, { id, name: input.name.trim(), description: input.description?.trim() || null, kind: 'static', definition: null, member_count: 0, status: 'ready', progress: 1, last_full_at: now, last_sweep_at: null, created_by: actor.id, created_at: now, updated_at: now });
      await audit(actor, 'segment.create_static', id, { name: input.name });
      const r = input.leadIds?.length ? await addStaticMembers(id, input.leadIds) : { added: 0, unknown: 0 };
      return { id, ...r };
    },

    async addToStatic(actor: Actor, id: string, leadIds: string[]) {
      await requireStatic(id);
      const r = await addStaticMembers(id, leadIds);
      await audit(actor, 'segment.add_members', id, { added: r.added });
      return r;
    },

    /** The lead list's "add these to a static list": every lead the list's filters find, up to FROM_LIST_MAX. */
    async addLeadQueryToStatic(actor: Actor, id: string, q: LeadListQuery) {
      await requireStatic(id);
      const leadIds: string[] = [];
      for (let page = 1; leadIds.length < FROM_LIST_MAX; page++) {
        const { rows } = await leadsRepo.list(db, { ...q, page, pageSize: 200 });
        leadIds.push(...rows.map((r) => r.id));
        if (rows.length < 200) break;
      }
      const r = await addStaticMembers(id, leadIds.slice(0, FROM_LIST_MAX));
      await audit(actor, 'segment.add_members', id, { added: r.added, from: 'lead_list' });
      return { added: r.added, considered: Math.min(leadIds.length, FROM_LIST_MAX) };
    },

    async removeFromStatic(actor: Actor, id: string, leadIds: string[]) {
      await requireStatic(id);
      const removed = await db.transaction().execute((trx) => leave(trx, id, leadIds, clock.now()));
      await audit(actor, 'segment.remove_members', id, { removed });
      return { removed };
    },

    /**
     * Adds the leads a CSV names to a static list. The column is `email`, `phone` or `id` (by
     * header, any case), else the first column; rows that name no known lead are counted and shown.
     */
    async importStaticCsv(actor: Actor, id: string, csv: string) {
      await requireStatic(id);
      const parsed = Papa.parse<string[]>(csv.replace(/^\ufeff/, ''), { skipEmptyLines: 'greedy' });
      const rows = parsed.data;
      if (!rows.length) throw new InputError([{ field: 'file', message: 'is empty' }]);
      if (rows.length > STATIC_CSV_MAX_ROWS) throw new InputError([{ field: 'file', message: `has more than ${STATIC_CSV_MAX_ROWS} rows` }]);
      const header = rows[0].map((h) => h.trim().toLowerCase());
      let col = header.findIndex((h) => ['email', 'e-mail', 'почта', 'phone', 'телефон', 'id', 'lead_id'].includes(h));
      const hasHeader = col >= 0 || !rows[0].some((c) => /@|^\+?\d[\d\s()-]{5,}$/.test(c.trim()));
      if (col < 0) col = 0;
      const keys: string[] = [];
      const leadIds: string[] = [];
      const unmatched: string[] = [];
      for (const row of rows.slice(hasHeader ? 1 : 0)) {
        const cell = (row[col] ?? '').trim();
        if (!cell) continue;
        const email = cell.includes('@') ? normalizeEmail(cell) : null;
        const phone = !email ? normalizePhone(cell) : null;
        if (email?.ok) keys.push(email.value);
        else if (phone?.ok) keys.push(phone.value);
        else leadIds.push(cell);
      }
      const byIdentity = await segmentsRepo.leadIdsByIdentity(db, keys);
      for (const k of keys) if (!byIdentity.has(k)) unmatched.push(k);
      const known = new Set(await segmentsRepo.existingLeadIds(db, leadIds));
      for (const l of leadIds) if (!known.has(l)) unmatched.push(l);
      const r = await addStaticMembers(id, [...byIdentity.values(), ...known]);
      await audit(actor, 'segment.import_csv', id, { added: r.added, unmatched: unmatched.length });
      return { added: r.added, matched: byIdentity.size + known.size, unmatched: unmatched.length, unmatchedSample: unmatched.slice(0, 10) };
    },

    /** Enrolls every current member in a flow; leads already running in it are left as they are. */
    async startFlow(actor: Actor, id: string, slug: string) {
      await requireSegment(id);
      if (!opts.enroll) throw new Error('segments: no enroll function wired');
      let after = '';
      let members = 0;
      let enrolled = 0;
      for (;;) {
        const page = await segmentsRepo.membersPage(db, id, after, 500);
        if (!page.length) break;
        after = page[page.length - 1].id;
        members += page.length;
        const results = await opts.enroll(actor, slug, page.map((l) => l.id));
        enrolled += results.filter((r) => r !== null && r !== undefined).length;
      }
      await audit(actor, 'segment.start_flow', id, { slug, members, enrolled });
      return { members, enrolled };
    },

    membersPage: (id: string, afterLeadId = '', limit = 200) => segmentsRepo.membersPage(db, id, afterLeadId, limit)
  };
}

export type SegmentsService = ReturnType<typeof createSegmentsService>;
