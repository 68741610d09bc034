import type SQLite from 'better-sqlite3';
import { scoringRepo } from '../repositories/scoring.repo';
import { settingsRepo } from '../repositories/settings.repo';
import { auditRepo } from '../repositories/audit.repo';
import { parseJson } from '../repositories/json';
import { labStatements, scoringLabRepo, type LabStatements } from '../repositories/scoring-lab.repo';
import { ConflictError, InputError, NotFoundError, type Actor, type Deps } from './deps';
import { SETTINGS_KEY, type ScoringService } from './scoring.service';
import {
  scoringRulesInputSchema,
  type ScoringRule,
  type ScoringRulesInput,
  type ScoringSettings
} from '../../shared/scoring';
import { compileRules, fitDeltaScorer, replayEngagement, type CompiledRules } from '../scoring/replay';
import { draftFit, ledgerByLead, readPage, rescoreLead } from '../scoring/lab-scan';
import { EventStore } from '../scoring/event-store';
import { parseEventFacts, type EventFactColumns } from '../scoring/event-facts';
import { createLabEventReader } from '../repositories/lab-event-reader';
import { summarize, type BacktestLead, type WhatIfScan } from '../scoring/what-if';

/** Leads per rescore transaction: each page is one commit and one progress step. */
const RESCORE_PAGE = 2_000;
/** A scan is reused while the data and the rules are unchanged, but never for longer than this. */
const SCAN_TTL_MS = 60_000;
/** The in-memory events are read afresh this often, in the background (see EventStore for why). */
const EVENTS_RELOAD_MS = 5 * 60_000;
const EVENT_CHUNK = 100_000;
/** Reads spanning at least this many rowids are shared with the worker thread. */
const PARALLEL_FROM = 200_000;
/**
 * The worker's share of a shared read: this thread also reads the leads (about a third of its
 * time on 100,000 leads and 900,000 events), so the worker takes the larger part.
 */
const WORKER_SHARE = 0.7;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A refresh of the lab's events: `dispatched` once the worker thread has its part (the scan reads the leads meanwhile). */
interface EventsLoad {
  dispatched: Promise<void>;
  done: Promise<EventStore>;
}

export interface LabOptions {
  /** Leads per rescore transaction (tests use small pages to see several). */
  rescorePage?: number;
  /** Event reads spanning this many rowids are shared with the worker thread (tests use small ones). */
  parallelFrom?: number;
  /** How old the in-memory events may get before a background reload (tests use 0). */
  eventsReloadMs?: number;
}

/**
 * The scoring lab: a draft of rules and thresholds is previewed over every lead (histograms, who
 * moves in or out of MQL, a backtest against customers and sales rejections), then saved as a new
 * rule-set version and applied to everyone by a background rescore that writes the ledger. Any
 * earlier version can be brought back the same way.
 */
export function createScoringLabService(
  deps: Deps,
  scoring: ScoringService,
  sqlite: SQLite.Database,
  opts: LabOptions = {}
) {
  const { db, clock, ids } = deps;
  let stmts: LabStatements | null = null;
  // Prepared lazily: the statements name tables that exist only once migrations have run.
  const statements = () => (stmts ??= labStatements(sqlite));
  let scanCache: { key: string; at: number; scan: WhatIfScan } | null = null;
  let running: { id: string; done: Promise<void> } | null = null;
  let events: { store: EventStore; loadedAt: number; merged: number } | null = null;
  let loading: EventsLoad | null = null;
  let reloading: Promise<void> | null = null;
  // A second connection can only share a database file; an in-memory base is read by this thread alone.
  const reader = sqlite.memory ? null : createLabEventReader(sqlite.name);

  function parseDraft(raw: unknown): ScoringRulesInput {
    const parsed = scoringRulesInputSchema.safeParse(raw);
    if (!parsed.success)
      throw new InputError(
        parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(root)', message: i.message }))
      );
    return parsed.data;
  }

  /** Runs `fn` on the raw handle while holding Kysely's one connection: no Kysely query interleaves. */
  function onConnection<T>(fn: (s: LabStatements) => T): Promise<T> {
    return db.connection().execute(async () => fn(statements()));
  }

  /**
   * The events, from the in-memory store: refreshed with the rows appended since the last look,
   * read afresh at once when a merge has moved events between leads, and rebuilt in the background
   * when older than EVENTS_RELOAD_MS. Callers share one refresh at a time (two would append the
   * same rows twice).
   */
  function refreshEvents(): EventsLoad {
    if (!loading) {
      let dispatched = () => {};
      const load: EventsLoad = {
        dispatched: new Promise<void>((resolve) => (dispatched = resolve)),
        done: loadEvents(() => dispatched()).finally(() => {
          dispatched();
          if (loading === load) loading = null;
        })
      };
      loading = load;
    }
    return loading;
  }

  async function loadEvents(dispatched: () => void): Promise<EventStore> {
    const [merged, through] = await onConnection((s) => [s.mergedCount(), s.maxEventRowid()]);
    // A merge moved events between leads: the store is wrong now, so this answer waits for a new one.
    if (!events || events.merged !== merged) events = { store: new EventStore(), loadedAt: performance.now(), merged };
    // Merely old (late machine flags it cannot see): answer from it and rebuild it beside.
    else if (performance.now() - events.loadedAt > (opts.eventsReloadMs ?? EVENTS_RELOAD_MS)) reloadInBackground(merged, through);
    await fillStore(events.store, through, dispatched);
    return events.store;
  }

  /**
   * A fresh store read in the background, swapped in when complete, so an admin who comes back to
   * the lab after EVENTS_RELOAD_MS gets the warm answer, not a cold read.
   */
  function reloadInBackground(merged: number, through: number) {
    if (reloading) return;
    const fresh = new EventStore();
    const loadedAt = performance.now();
    reloading = fillStore(fresh, through, () => {})
      .then(() => {
        // A merge meanwhile made the new store as stale as the old one: the next load starts over.
        if (events && events.merged === merged) events = { store: fresh, loadedAt, merged };
      })
      .catch((e: unknown) => console.error('[scoring-lab] background reload failed', e))
      .finally(() => {
        reloading = null;
      });
  }

  /** Reads the events after the store's last rowid up to `through` into it. */
  async function fillStore(store: EventStore, through: number, dispatched: () => void) {
    const from = store.lastRowid + 1;
    // A large read is shared with the worker thread: it takes the older part while this thread
    // reads the rest (and, in a scan, the leads), so the two cores work at once.
    let split = from - 1;
    let theirs: Promise<EventFactColumns | null> = Promise.resolve(null);
    if (reader && through - from >= (opts.parallelFrom ?? PARALLEL_FROM)) {
      split = from + Math.floor((through - from) * WORKER_SHARE);
      theirs = reader.read(from, split).catch((e: unknown) => {
        console.error('[scoring-lab] parallel event read failed; reading alone', e);
        return null;
      });
    }
    dispatched();
    // In rowid ranges, yielding between them, so a first load does not hold the server for seconds.
    const mine: EventFactColumns[] = [];
    for (let a = split + 1; a <= through; a += EVENT_CHUNK) {
      const b = Math.min(through, a + EVENT_CHUNK - 1);
      mine.push(parseEventFacts(await onConnection((s) => s.packedEventFacts(a, b))));
      await yieldToLoop();
    }
    const older = await theirs;
    if (split >= from && !older)
      mine.unshift(parseEventFacts(await onConnection((s) => s.packedEventFacts(from, split))));
    // Oldest rows first, so events at the same moment keep their stored order.
    if (older) store.append(older, split);
    for (const chunk of mine) store.append(chunk, through);
    store.lastRowid = Math.max(store.lastRowid, through);
  }

  /** Loads the events before the admin asks: the lab page calls this as it opens. */
  function warmUp() {
    if (!events) refreshEvents().done.catch((e: unknown) => console.error('[scoring-lab] warm-up failed', e));
  }

  async function scan(current: CompiledRules, draft: CompiledRules): Promise<WhatIfScan> {
    const started = performance.now();
    const now = clock.now();
    // The events first: once the worker thread has its part, this thread reads the leads.
    const loadingEvents = refreshEvents();
    await loadingEvents.dispatched;
    const { leads, outcomes, rejectedKnown } = await onConnection((s) => {
      const outcomes = new Map<string, { kind: 'customer' | 'rejected'; at: number }>();
      for (const c of s.customers()) outcomes.set(c.lead_id, { kind: 'customer', at: c.at });
      // A lead that became a customer counts as a customer even if a rep once rejected it.
      for (const r of s.rejected())
        if (!outcomes.has(r.lead_id)) outcomes.set(r.lead_id, { kind: 'rejected', at: r.at });
      return { leads: s.allLeads(), outcomes, rejectedKnown: s.hasHandoffs() };
    });
    const store = await loadingEvents.done;
    const n = leads.length;
    const out = {
      fitNow: new Int32Array(n),
      engagementNow: new Int32Array(n),
      fitDraft: new Int32Array(n),
      engagementDraft: new Int32Array(n),
      held: new Uint8Array(n)
    };
    const stages: string[] = new Array<string>(n);
    const backtest: BacktestLead[] = [];
    const fitDelta = fitDeltaScorer(current.fit, draft.fit);
    const view = store.view();
    const held = await onConnection((s) => s.heldAtMql('', '\uffff'));
    leads.forEach((lead, i) => {
      const events = view.of(lead.id);
      const outcome = outcomes.get(lead.id);
      const replay = replayEngagement(draft, events, now, !!outcome);
      const fit = draftFit(lead, fitDelta);
      out.fitNow[i] = lead.fit_score;
      out.engagementNow[i] = lead.engagement_score;
      out.fitDraft[i] = fit;
      out.engagementDraft[i] = replay.engagement;
      out.held[i] = held.has(lead.id) ? 1 : 0;
      stages[i] = lead.stage;
      if (outcome)
        backtest.push({
          ...outcome,
          createdAt: lead.created_at,
          fitNow: lead.fit_score,
          fitDraft: fit,
          stepsNow: replayEngagement(current, events, now, true).steps ?? [],
          stepsDraft: replay.steps ?? []
        });
    });
    return {
      count: n,
      ...out,
      stages,
      backtest,
      rejectedKnown,
      scannedAt: now,
      scanMs: Math.round(performance.now() - started)
    };
  }

  async function whatIf(raw: unknown) {
    const draft = parseDraft(raw);
    const current = await scoring.rules();
    const key = JSON.stringify([
      draft.rules,
      draft.settings.halfLifeDays,
      current,
      await onConnection((s) => s.dataVersion())
    ]);
    let cached =
      scanCache && scanCache.key === key && performance.now() - scanCache.at < SCAN_TTL_MS
        ? scanCache.scan
        : null;
    if (!cached) {
      cached = await scan(
        compileRules(current.rules, current.settings),
        compileRules(draft.rules, draft.settings)
      );
      scanCache = { key, at: performance.now(), scan: cached };
    }
    return {
      ...summarize(cached, current.settings, draft.settings),
      current: current.settings,
      draft: draft.settings
    };
  }

  /** Rescores every lead page by page; each page is one transaction that also advances the job. */
  async function rescoreAll(
    jobId: string,
    rules: ScoringRule[],
    settings: ScoringSettings,
    before: ScoringSettings
  ) {
    const compiled = compileRules(rules, settings);
    const pageSize = opts.rescorePage ?? RESCORE_PAGE;
    let after = '';
    try {
      for (;;) {
        const last = await onConnection((s) => {
          if (sqlite.inTransaction)
            throw new Error('rescore: a transaction is already open on the connection');
          return sqlite.transaction(() =>
            rescorePage(s, jobId, compiled, settings, before, after, pageSize)
          )();
        });
        if (last === null) break;
        after = last;
        await yieldToLoop();
      }
      await scoringLabRepo.finishJob(db, jobId, { status: 'done', finished_at: clock.now() });
    } catch (e) {
      console.error('[scoring-lab] rescore failed', e);
      await scoringLabRepo.finishJob(db, jobId, {
        status: 'failed',
        error: e instanceof Error ? e.message : String(e),
        finished_at: clock.now()
      });
    } finally {
      scanCache = null;
      scoring.invalidateRules();
    }
  }

  function rescorePage(
    s: LabStatements,
    jobId: string,
    rules: CompiledRules,
    settings: ScoringSettings,
    before: ScoringSettings,
    after: string,
    limit: number
  ): string | null {
    const page = readPage(s, rules.types, after, limit);
    if (!page) return null;
    const now = clock.now();
    const first = page.leads[0].id;
    const last = page.leads[page.leads.length - 1].id;
    const ledger = ledgerByLead(s.ledgerSums(first, last));
    const tally = { processed: page.leads.length, changed: 0, ledgerRows: 0, becameMql: 0, leftMql: 0 };
    for (const lead of page.leads) {
      const r = rescoreLead(
        lead,
        page.events.get(lead.id) ?? [],
        ledger.get(lead.id),
        rules,
        settings,
        { thresholds: before, held: page.held.has(lead.id) },
        now,
        ids.newId
      );
      for (const row of r.ledger) s.insertLedger(row);
      tally.ledgerRows += r.ledger.length;
      if (r.engagedAt !== null || r.engagement !== lead.engagement_score)
        s.setEngagement(lead.id, r.engagedAt, r.base);
      if (r.fit === lead.fit_score && r.engagement === lead.engagement_score && !r.stageEvent) continue;
      tally.changed++;
      s.updateLead(lead.id, r.fit, r.engagement, r.stage, now);
      if (r.stageEvent) {
        s.insertStageEvent(
          ids.newId(),
          lead.id,
          JSON.stringify({ field: 'stage', ...r.stageEvent, by: 'scoring' }),
          now
        );
        if (r.stageEvent.to === 'mql') tally.becameMql++;
        else tally.leftMql++;
      }
    }
    s.jobProgress(jobId, tally);
    return last;
  }

  /**
   * Stores the rules as a new version, makes them the live rules, and starts the rescore. The first
   * lab save also keeps the rules it replaces as version 1, so even that change can be undone.
   */
  async function apply(actor: Actor, input: ScoringRulesInput, note: string, restoredFrom: number | null) {
    if (running) throw new ConflictError('A rescore is still running; wait for it to finish');
    const now = clock.now();
    const previous = await scoring.rules();
    const jobId = ids.newId();
    const version = await db.transaction().execute(async (trx) => {
      let v = await scoringLabRepo.maxVersion(trx);
      if (v === 0) {
        v = 1;
        await scoringLabRepo.insertVersion(
          trx,
          versionRow(
            1,
            previous.rules,
            previous.settings,
            'rules before the first lab save',
            null,
            { id: null, label: 'system' },
            now
          )
        );
      }
      v++;
      const row = versionRow(v, input.rules, input.settings, note, restoredFrom, actor, now);
      await scoringLabRepo.insertVersion(trx, row);
      await scoringRepo.replaceRules(
        trx,
        input.rules.map((r) => ({ id: r.id, kind: r.kind, name: r.name, definition: JSON.stringify(r) })),
        now
      );
      await settingsRepo.set(trx, SETTINGS_KEY, input.settings, now);
      await auditRepo.record(trx, ids.newId(), now, {
        actorId: actor.id,
        actorLabel: actor.label,
        action: restoredFrom === null ? 'scoring.lab_save' : 'scoring.lab_rollback',
        entity: 'scoring',
        entityId: row.id,
        details: {
          version: v,
          restoredFrom,
          note,
          rules: input.rules.length,
          settings: input.settings,
          previousSettings: previous.settings
        }
      });
      await scoringLabRepo.insertJob(trx, {
        id: jobId,
        rule_set_id: row.id,
        status: 'running',
        total: await scoringLabRepo.countLeads(trx),
        processed: 0,
        changed: 0,
        ledger_rows: 0,
        became_mql: 0,
        left_mql: 0,
        error: null,
        started_by: actor.id,
        started_at: now,
        finished_at: null
      });
      return v;
    });
    scoring.invalidateRules();
    const done = rescoreAll(jobId, input.rules, input.settings, previous.settings).finally(() => {
      running = null;
    });
    running = { id: jobId, done };
    return { version, jobId, done };
  }

  function versionRow(
    version: number,
    rules: ScoringRule[],
    settings: ScoringSettings,
    note: string,
    restoredFrom: number | null,
    actor: Actor,
    now: number
  ) {
    return {
      id: ids.newId(),
      version,
      rules: JSON.stringify(rules),
      settings: JSON.stringify(settings),
      note,
      restored_from: restoredFrom,
      created_by: actor.id,
      created_label: actor.label,
      created_at: now
    };
  }

  const jobView = (j: Awaited<ReturnType<typeof scoringLabRepo.getJob>>) =>
    j && {
      id: j.id,
      status: j.status,
      total: j.total,
      processed: j.processed,
      changed: j.changed,
      ledgerRows: j.ledger_rows,
      becameMql: j.became_mql,
      leftMql: j.left_mql,
      error: j.error,
      startedAt: j.started_at,
      finishedAt: j.finished_at
    };

  return {
    whatIf,

    /** Stops the parallel reader's worker thread (the app calls this on close). */
    async close() {
      await reader?.close();
    },

    /** Saves the draft as the live rules (a new version) and starts rescoring every lead. */
    async save(actor: Actor, raw: unknown, note = '') {
      return apply(actor, parseDraft(raw), note.trim() || 'saved in the scoring lab', null);
    },

    /** Brings an earlier version back as a new version, and rescores. */
    async rollback(actor: Actor, version: number) {
      const row = await scoringLabRepo.getVersion(db, version);
      if (!row) throw new NotFoundError(`No rule-set version ${version}`);
      const input = parseDraft({ rules: parseJson(row.rules, []), settings: parseJson(row.settings, {}) });
      return apply(actor, input, `rollback to version ${version}`, version);
    },

    /** The lab page's starting point: the live rules, the versions, the last rescore. */
    async state() {
      warmUp();
      await scoringLabRepo.failAbandoned(db, running ? [running.id] : [], clock.now());
      const [current, versions, job] = await Promise.all([
        scoring.rules(),
        scoringLabRepo.listVersions(db),
        scoringLabRepo.latestJob(db)
      ]);
      const latest = versions[0]?.version ?? 0;
      return {
        ...current,
        versions: versions.map((v) => ({
          version: v.version,
          note: v.note,
          restoredFrom: v.restored_from,
          createdAt: v.created_at,
          createdBy: v.created_label,
          rules: parseJson<unknown[]>(v.rules, []).length,
          settings: parseJson<ScoringSettings>(v.settings, current.settings),
          live: v.version === latest
        })),
        job: jobView(job) ?? null
      };
    },

    async job(id: string) {
      const j = await scoringLabRepo.getJob(db, id);
      if (!j) throw new NotFoundError('No such rescore job');
      return jobView(j)!;
    }
  };
}

export type ScoringLabService = ReturnType<typeof createScoringLabService>;
