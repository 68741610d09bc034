import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { workflowsRepo } from '../repositories/workflows.repo';
import { eventStatsRepo } from '../repositories/event-stats.repo';
import { settingsRepo } from '../repositories/settings.repo';
import { auditRepo } from '../repositories/audit.repo';
import { parseJson } from '../repositories/json';
import { workflowSchema, type Workflow } from '../../shared/workflow';
import { InputError, NotFoundError, type Actor, type Deps } from '../services/deps';
import { compileWorkflow, WorkflowCompileError } from './compiler';
import { propertiesMatch } from './conditions';
import { createExecutor, StaleInstanceError } from './executor';
import { localHandlers, PermanentEffectError, remoteHandlers, type EffectContext, type EmailSender, type HandoffAssigner } from './effects';
import { DeferredSend, UnsendableStep } from '../email/channel';
import { assertTemplatesUsable } from '../services/templates.service';
import { FACTS_CHANGED_EVENT } from './facts';
import { engineProfile } from './profile';
import type { ScoringService } from '../services/scoring.service';
import type { SegmentsService } from '../services/segments.service';

const CURSOR_KEY = 'engine.eventCursor';
/** Lead events that may change what a goal or branch sees. */
const FACT_EVENTS = new Set(['lead_captured', 'field_changed', 'stage_changed', 'owner_changed', 'score_changed', 'lead_merged']);
const MAX_ATTEMPTS = 8;
/**
 * How long one dispatch batch may hold the database connection before it commits and lets waiting
 * writes (API, tracking hits) in. 5 ms and 25 ms gave the same API p99 under saturation (51–54 ms,
 * CPU-bound), while 5 ms cost the engine a tenth of its enrollment rate in smaller commits.
 */
const DISPATCH_BUDGET_MS = 25;
/** Waiting this long for the write lock in a round means another connection is busy writing. */
const CONTENDED_WAIT_MS = 2;
const MAX_YIELD_MS = 100;
/** While yielding, the worker waits this many times as long as it held the lock: a quarter of the lock for it. */
const YIELD_FACTOR = 3;
/** A dispatch batch's budget beside a serving thread: each hit waits at most this long for the lock. */
const SHARED_BUDGET_MS = 5;
/** Events read per query inside a dispatch batch. */
const DISPATCH_CHUNK = 50;
/** Effects that leave the process (email, webhooks) in flight at once. */
const REMOTE_CONCURRENCY = 16;

export interface EngineOptions {
  /** The email channel; every app passes one (app.ts). */
  email: EmailSender;
  webhookAllowHosts?: string[];
  webhookTimeoutMs?: number;
  /** Scores events as they are dispatched and decays engagement from the worker loop (app.ts). */
  scoring?: Pick<ScoringService, 'onEvent' | 'applyDecayIfDue'>;
  /** Keeps segment membership current as events are dispatched, and sweeps time-dependent segments (app.ts). */
  segments?: Pick<SegmentsService, 'onEvent' | 'sweepIfDue'>;
  /** Assigns reps in the `handoff` step; its tick (SLA steps, notices) runs in the worker loop (app.ts). */
  handoff?: HandoffAssigner & { tick(): Promise<number> };
}

/** Backoff for a failed effect: 5 s, 10 s, 20 s ... capped at an hour. */
export const backoffMs = (attempt: number) => Math.min(3_600_000, 5000 * 2 ** Math.max(0, attempt - 1));

function triggerKeyOf(wf: Workflow): string | null {
  const t = wf.trigger;
  switch (t.type) {
    case 'form_submitted':
      return t.formSlug ?? null;
    case 'event':
      return t.eventType;
    case 'lifecycle_changed':
      return t.stage;
    case 'segment_entered':
      return t.segmentId;
    default:
      return null;
  }
}

/** The engine's use cases: publish, enroll, dispatch lead events, fire timers, run effects. */
export function createEngine(deps: Deps, opts: EngineOptions) {
  const { db, clock, ids } = deps;
  const ctx: EffectContext = {
    deps,
    email: opts.email,
    webhookAllowHosts: new Set(opts.webhookAllowHosts ?? []),
    webhookTimeoutMs: opts.webhookTimeoutMs ?? 10_000,
    handoff: opts.handoff
  };
  const executor = createExecutor(deps, (trx, effect, params) => localHandlers[effect.kind](trx, effect, params, ctx));

  /** Validates a definition, naming the JSON path of every problem; nothing is stored on failure. */
  function parseDefinition(raw: unknown): Workflow {
    const parsed = workflowSchema.safeParse(raw);
    if (!parsed.success)
      throw new InputError(parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(root)', message: i.message })));
    try {
      compileWorkflow(parsed.data);
    } catch (e) {
      if (e instanceof WorkflowCompileError) throw new InputError(e.problems.map((p) => ({ field: p.path, message: p.message })));
      throw e;
    }
    return parsed.data;
  }

  async function publish(actor: Actor, raw: unknown) {
    const wf = parseDefinition(raw);
    // A missing template or one with a Liquid error would fail every send: refuse it now, by path.
    await assertTemplatesUsable(db, [...new Set(Object.values(wf.nodes).flatMap((n) => (n.kind === 'send_email' ? [n.template] : [])))]);
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      let flow = await workflowsRepo.findBySlug(trx, wf.slug);
      if (!flow) {
        flow = { id: ids.newId(), slug: wf.slug, name: wf.name, status: 'active', current_version_id: null, trigger_type: null, trigger_key: null, created_at: now, updated_at: now };
        await workflowsRepo.insert(trx, flow);
      }
      const version = (await workflowsRepo.latestVersionNumber(trx, flow.id)) + 1;
      const versionId = ids.newId();
      await workflowsRepo.insertVersion(trx, { id: versionId, workflow_id: flow.id, version, definition: JSON.stringify(wf), published_by: actor.id, published_at: now });
      await workflowsRepo.update(trx, flow.id, { name: wf.name, current_version_id: versionId, trigger_type: wf.trigger.type, trigger_key: triggerKeyOf(wf), updated_at: now });
      await auditRepo.record(trx, ids.newId(), now, { actorId: actor.id, actorLabel: actor.label, action: 'workflow.publish', entity: 'workflow', entityId: flow.id, details: { slug: wf.slug, version } });
      return { workflowId: flow.id, versionId, version };
    });
  }

  async function requireFlow(slug: string) {
    const flow = await workflowsRepo.findBySlug(db, slug);
    if (!flow) throw new NotFoundError(`No workflow ${slug}`);
    return flow;
  }

  type TriggerCache = Map<string, Awaited<ReturnType<typeof workflowsRepo.byTrigger>>>;

  /** Flows a trigger starts; cached for one dispatch batch, which runs in one transaction. */
  async function flowsTriggeredBy(trx: typeof db, cache: TriggerCache, type: string, key: string | null) {
    const k = `${type}\u0000${key ?? ''}`;
    let hit = cache.get(k);
    if (!hit) cache.set(k, (hit = await workflowsRepo.byTrigger(trx, type, key)));
    return hit;
  }

  /** Dispatches one stored lead event: resumes instances waiting for it, starts flows it triggers. */
  async function dispatchOne(trx: typeof db, e: { id: string; lead_id: string | null; type: string; properties: string }, triggers: TriggerCache = new Map()) {
    if (!e.lead_id) return;
    const props = parseJson<Record<string, unknown>>(e.properties, {});
    // Machine opens and scanner clicks are kept on the timeline but are nobody's engagement:
    // they neither resume a flow waiting for a click nor start one.
    if (props.machine === true) return;
    // Scoring runs first, in this transaction: a score that crosses the MQL threshold appends a
    // stage_changed event that the next batch dispatches to lifecycle flows. Events no rule
    // names cost it one map lookup.
    await opts.scoring?.onEvent(trx, e, props);
    // Segments look after scoring, so a score this event moved is already in the lead row. An
    // entry or exit appends segment_entered/left, which the next batch dispatches to flows.
    await opts.segments?.onEvent(trx, e, props);
    // One read of the lead's running instances serves both the waiting ones and the goal checks.
    const active = await workflowsRepo.activeInstancesOfLead(trx, e.lead_id);
    if (active.length) {
      const awaited = ` ${e.type} `;
      for (const inst of active) if (inst.awaiting?.includes(awaited)) await executor.stepIn(trx, inst.id, { type: e.type, properties: props });
      if (FACT_EVENTS.has(e.type)) {
        // Only goals look at changed facts while a lead rests in a node; a version without goals
        // would transition to the same state, so its instances are not stepped at all.
        for (const inst of active) if ((await executor.versionOf(trx, inst.version_id)).definition.goals.length) await executor.stepIn(trx, inst.id, { type: FACTS_CHANGED_EVENT });
      }
    }
    const candidates =
      e.type === 'lead_created'
        ? await flowsTriggeredBy(trx, triggers, 'lead_created', null)
        : e.type === 'form_submitted'
          ? await flowsTriggeredBy(trx, triggers, 'form_submitted', String(props.formSlug ?? ''))
          : e.type === 'stage_changed'
            ? await flowsTriggeredBy(trx, triggers, 'lifecycle_changed', String(props.to ?? ''))
            : e.type === 'segment_entered'
              ? [...(await flowsTriggeredBy(trx, triggers, 'segment_entered', String(props.segmentId ?? ''))), ...(await flowsTriggeredBy(trx, triggers, 'event', e.type))]
              : await flowsTriggeredBy(trx, triggers, 'event', e.type);
    for (const flow of candidates) {
      const cv = await executor.versionOf(trx, flow.current_version_id!);
      const t = cv.definition.trigger;
      if (t.type === 'event' && !propertiesMatch(props, t.filter)) continue;
      await executor.enrollIn(trx, flow.current_version_id!, e.lead_id, { trigger: t.type, eventId: e.id });
    }
  }

  /**
   * Reads new events after the cursor (SQLite's rowid grows with each committed insert, so no
   * event is skipped even when another process wrote it) and dispatches them in one transaction,
   * moving the cursor in the same commit: a crash replays the batch, never loses it.
   */
  async function dispatchEvents(limit = 500, budgetMs = DISPATCH_BUDGET_MS): Promise<number> {
    return executor.immediate(async (trx) => {
      const started = performance.now();
      let cursor = await settingsRepo.get<number>(trx, CURSOR_KEY, 0);
      const triggers: TriggerCache = new Map();
      let done = 0;
      // Read in small chunks so a batch the budget cuts short has not fetched rows it never uses.
      for (;;) {
        const rows = await trx
          .selectFrom('events')
          .select(['id', 'lead_id', 'type', 'properties', sql<number>`rowid`.as('seq')])
          .where(sql<number>`rowid`, '>', cursor)
          // Path entries are the engine's own bookkeeping, and an event of no known lead (stored
          // unmatched) can neither resume nor start a flow: neither needs a look.
          .where('type', '!=', 'workflow_step')
          .where('lead_id', 'is not', null)
          .orderBy(sql`rowid`)
          .limit(Math.min(DISPATCH_CHUNK, limit - done))
          .execute();
        let outOfTime = false;
        for (const e of rows) {
          // The batch holds the database's one connection: past the budget, commit what is done
          // and let waiting requests (API ingest, tracking hits) in before the next batch.
          if (done > 0 && performance.now() - started > budgetMs) {
            outOfTime = true;
            break;
          }
          done++;
          cursor = Number(e.seq);
          // Counted outside the savepoint: the count goes with the cursor even if dispatch fails.
          await eventStatsRepo.countEvent(trx, cursor);
          await sql`savepoint dispatch`.execute(trx);
          try {
            await dispatchOne(trx, e, triggers);
            await sql`release dispatch`.execute(trx);
          } catch (err) {
            await sql`rollback to dispatch`.execute(trx);
            await sql`release dispatch`.execute(trx);
            console.error(`[engine] event ${e.id} (${e.type}) not dispatched: ${(err as Error).message}`);
          }
        }
        if (outOfTime || rows.length < DISPATCH_CHUNK || done >= limit) break;
      }
      if (done > 0) await settingsRepo.set(trx, CURSOR_KEY, cursor, clock.now());
      return done;
    });
  }

  /** Claims due timers and feeds each back to its instance, all steps in one transaction. */
  async function runDueTimers(limit = 500): Promise<number> {
    const now = clock.now();
    const timers = await workflowsRepo.claimDueTimers(db, now, limit, 60_000);
    await executor.batch(
      timers,
      async (trx, t) => {
        await executor.stepIn(trx, t.instance_id, JSON.parse(t.event));
        await workflowsRepo.deleteTimerById(trx, t.id);
      },
      async (trx, t, e) => {
        if (e instanceof StaleInstanceError) return; // the lease lapses and the timer is tried again
        await workflowsRepo.markFailed(trx, t.instance_id, e.message, clock.now());
        await workflowsRepo.deleteTimerById(trx, t.id);
      }
    );
    return timers.length;
  }

  /** `on` is the open transaction when called from a batch: writing through `db` there would wait on itself. */
  async function failOrRetry(effect: { id: string; attempts: number }, e: Error, on: typeof db = db) {
    const now = clock.now();
    // A send that is only early (window, cap, a temporary SMTP answer) waits without using up attempts.
    if (e instanceof DeferredSend) await workflowsRepo.deferEffect(on, effect.id, e.message, e.until);
    else if (e instanceof PermanentEffectError || e instanceof UnsendableStep || effect.attempts >= MAX_ATTEMPTS) await workflowsRepo.failEffect(on, effect.id, e.message, now);
    else await workflowsRepo.retryEffect(on, effect.id, e.message, now + backoffMs(effect.attempts));
  }

  /** Claims pending effects with a lease and runs them; local ones commit with their result. */
  async function runOutbox(limit = 200): Promise<number> {
    const now = clock.now();
    const effects = await workflowsRepo.claimEffects(db, now, limit, 60_000);
    engineProfile.effects += effects.length;
    const local = effects.filter((e) => localHandlers[e.kind]);
    const remote = effects.filter((e) => !local.includes(e));
    // Flow status by id, read once per batch: the whole batch is one transaction anyway.
    const flowStatus = new Map<string, string | undefined>();
    await executor.batch(
      local,
      async (trx, e) => {
        if (!flowStatus.has(e.workflow_id)) flowStatus.set(e.workflow_id, (await workflowsRepo.findById(trx, e.workflow_id))?.status);
        if (flowStatus.get(e.workflow_id) === 'paused') {
          // A paused flow stops acting; the effect waits and runs when the flow resumes.
          await workflowsRepo.retryEffect(trx, e.id, 'flow paused', clock.now() + 60_000);
          return;
        }
        const result = await localHandlers[e.kind](trx, e, parseJson(e.params, {}), ctx);
        await workflowsRepo.completeEffect(trx, e.id, e.lease_until!, 'done', result, clock.now());
      },
      async (trx, e, err) => failOrRetry(e, err, trx)
    );
    // Effects that leave the process run a few at a time: an SMTP pool or a slow webhook should not
    // make every other lead wait its turn.
    let next = 0;
    const runRemote = async () => {
      for (let e = remote[next++]; e; e = remote[next++]) {
        try {
          if (!flowStatus.has(e.workflow_id)) flowStatus.set(e.workflow_id, (await workflowsRepo.findById(db, e.workflow_id))?.status);
          if (flowStatus.get(e.workflow_id) === 'paused') {
            await workflowsRepo.retryEffect(db, e.id, 'flow paused', clock.now() + 60_000);
            continue;
          }
          const handler = remoteHandlers[e.kind];
          if (!handler) throw new PermanentEffectError(`no handler for ${e.kind}`);
          const result = await handler(e, parseJson(e.params, {}), ctx);
          await workflowsRepo.completeEffect(db, e.id, e.lease_until!, 'done', result, clock.now());
        } catch (err) {
          await failOrRetry(e, err as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REMOTE_CONCURRENCY, remote.length) }, runRemote));
    return effects.length;
  }

  /**
   * Inserts the `*.liquid` templates of a flow's `emails/` folder (first line `subject: ...`, then
   * the text body) that the base does not have yet; an edited template in the base is kept.
   */
  async function loadEmailTemplates(emailsDir: string) {
    if (!fs.existsSync(emailsDir)) return;
    for (const f of fs.readdirSync(emailsDir).filter((x) => x.endsWith('.liquid'))) {
      const [first, ...rest] = fs.readFileSync(path.join(emailsDir, f), 'utf8').split('\n');
      const subject = first.replace(/^subject:\s*/i, '').trim();
      await db
        .insertInto('email_templates')
        .values({ id: ids.newId(), slug: f.replace(/\.liquid$/, ''), name: subject, subject, body: rest.join('\n').trim() + '\n', locale: /[а-яё]/i.test(subject) ? 'ru' : 'en', updated_at: clock.now() })
        .onConflict((oc) => oc.column('slug').doNothing())
        .execute();
    }
  }

  /** Runs every kind of work until none is left: the tests' way to let time pass. */
  async function runUntilIdle(maxRounds = 1000) {
    for (let i = 0; i < maxRounds; i++) {
      const n = (await dispatchEvents()) + (await runDueTimers()) + (await runOutbox());
      if (n === 0) return;
    }
    throw new Error('the engine did not settle');
  }

  return {
    executor,
    parseDefinition,
    publish,
    dispatchEvents,
    runDueTimers,
    runOutbox,
    runUntilIdle,

    /** Enrolls chosen leads by hand (the `manual` trigger, or any flow an operator picks). */
    async enroll(actor: Actor, slug: string, leadIds: string[]) {
      const flow = await requireFlow(slug);
      if (!flow.current_version_id) throw new InputError([{ field: 'slug', message: 'has no published version' }]);
      const results = [];
      for (const leadId of leadIds) results.push(await executor.enroll(flow.current_version_id, leadId, { trigger: 'manual', by: actor.label }));
      return results;
    },

    async setPaused(actor: Actor, slug: string, paused: boolean) {
      const flow = await requireFlow(slug);
      await workflowsRepo.update(db, flow.id, { status: paused ? 'paused' : 'active', updated_at: clock.now() });
      await auditRepo.record(db, ids.newId(), clock.now(), { actorId: actor.id, actorLabel: actor.label, action: paused ? 'workflow.pause' : 'workflow.resume', entity: 'workflow', entityId: flow.id, details: { slug } });
    },

    async stats(slug: string) {
      const flow = await requireFlow(slug);
      const rows = await workflowsRepo.stats(db, flow.id);
      const failedEffects = (await workflowsRepo.failedEffects(db, flow.id)).length;
      const total = (status: string) => rows.filter((r) => r.status === status).reduce((s, r) => s + r.count, 0);
      return {
        slug,
        status: flow.status,
        perNode: rows.filter((r) => r.status === 'active').map((r) => ({ node: r.node, count: r.count })),
        finished: total('finished'),
        goal: total('goal'),
        exited: total('exited'),
        failed: total('failed'),
        failedEffects
      };
    },

    list: () => workflowsRepo.list(db),
    failedEffects: (slug?: string) => (slug ? requireFlow(slug).then((f) => workflowsRepo.failedEffects(db, f.id)) : workflowsRepo.failedEffects(db)),
    retryEffect: (id: string) => workflowsRepo.requeueEffect(db, id, clock.now()),

    loadEmailTemplates,

    /**
     * Loads `workflows/<slug>/workflow.json` and its `emails/*.liquid` (first line `subject: ...`)
     * and publishes each flow that has no version yet. Runs on start-up.
     */
    async loadWorkflowsDir(dir: string, actor: Actor) {
      if (!fs.existsSync(dir)) return [];
      const loaded: string[] = [];
      for (const slug of fs.readdirSync(dir).sort()) {
        const file = path.join(dir, slug, 'workflow.json');
        if (!fs.existsSync(file)) continue;
        await loadEmailTemplates(path.join(dir, slug, 'emails'));
        const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
        const existing = await workflowsRepo.findBySlug(db, raw.slug ?? slug);
        if (existing?.current_version_id) continue;
        try {
          await publish(actor, raw);
          loaded.push(raw.slug ?? slug);
        } catch (e) {
          throw new Error(`workflows/${slug}/workflow.json: ${(e as Error).message}`);
        }
      }
      return loaded;
    },

    /** A worker loop for the server process or `npm run worker`; stop() waits for the round in flight. */
    startWorker(intervalMs = 200, share: { yieldLock?: boolean } = {}) {
      let stopped = false;
      let wake: (() => void) | undefined;
      const loop = (async () => {
        while (!stopped) {
          let n = 0;
          executor.lockUse.waitMs = executor.lockUse.holdMs = 0;
          try {
            n = (await dispatchEvents(500, share.yieldLock ? SHARED_BUDGET_MS : DISPATCH_BUDGET_MS)) + (await runDueTimers()) + (await runOutbox());
            await opts.scoring?.applyDecayIfDue(); // at most hourly
            n += (await opts.handoff?.tick()) ?? 0; // SLA steps, hand-off and task notices
            await opts.segments?.sweepIfDue(); // time-dependent segments only, every few minutes
          } catch (e) {
            console.error(`[engine] worker round failed: ${(e as Error).message}`);
          }
          // Beside a serving thread on the same file (yieldLock), or when another connection
          // made this round wait for the write lock: leave it three quarters of the lock while a
          // backlog lasts, so tracking hits and API events keep their speed (SQLite has one
          // writer) and the worker catches up after the burst.
          const contended = share.yieldLock || executor.lockUse.waitMs > CONTENDED_WAIT_MS;
          const pauseMs = n > 0 && contended ? Math.min(MAX_YIELD_MS, YIELD_FACTOR * executor.lockUse.holdMs) : 0;
          if ((n === 0 || pauseMs > 0) && !stopped) await new Promise<void>((r) => ((wake = r), setTimeout(r, n === 0 ? intervalMs : pauseMs)));
        }
      })();
      return {
        async stop() {
          stopped = true;
          wake?.();
          await loop;
        }
      };
    },

    mailbox(limit = 100) {
      return db.selectFrom('mailbox_messages').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
    },

    /** The flows list: each flow with its trigger, current version and instances per status. */
    async overview() {
      const [flows, counts] = await Promise.all([workflowsRepo.list(db), workflowsRepo.instanceCounts(db)]);
      return Promise.all(
        flows.map(async (f) => {
          const v = f.current_version_id ? await workflowsRepo.findVersion(db, f.current_version_id) : undefined;
          const def = v ? parseJson<Partial<Workflow>>(v.definition, {}) : {};
          const n = (status: string) => counts.find((c) => c.workflowId === f.id && c.status === status)?.count ?? 0;
          return {
            id: f.id,
            slug: f.slug,
            name: f.name,
            description: def.description ?? null,
            status: f.status,
            trigger: def.trigger ?? null,
            version: v?.version ?? null,
            updatedAt: f.updated_at,
            counts: { active: n('active'), finished: n('finished'), goal: n('goal'), exited: n('exited'), failed: n('failed') }
          };
        })
      );
    },

    /** One flow for its page: the current definition, stats, versions and failed effects. */
    /** One enrollment: where it stands, the path it took (node, time), its effects and pending timers. */
    async instance(instanceId: string) {
      const inst = await workflowsRepo.findInstance(db, instanceId);
      if (!inst) throw new NotFoundError('No such workflow instance');
      const flow = await workflowsRepo.findById(db, inst.workflow_id);
      const version = await workflowsRepo.findVersion(db, inst.version_id);
      const [path, effects, timers] = await Promise.all([
        workflowsRepo.instancePath(db, inst.lead_id, inst.id),
        workflowsRepo.instanceEffects(db, inst.id),
        workflowsRepo.instanceTimers(db, inst.id)
      ]);
      const definition = version ? (parseJson<Workflow>(version.definition, {} as Workflow)) : null;
      return {
        id: inst.id,
        leadId: inst.lead_id,
        slug: flow?.slug ?? '',
        flowName: flow?.name ?? '',
        version: version?.version ?? null,
        status: inst.status,
        currentNode: inst.current_node,
        error: inst.error,
        enrolledAt: inst.enrolled_at,
        finishedAt: inst.finished_at,
        path: path.map((e) => {
          const p = parseJson<Record<string, unknown>>(e.properties, {});
          const nodeId = typeof p.nodeId === 'string' ? p.nodeId : null;
          return { type: e.type, at: e.occurred_at, nodeId, kind: p.kind ?? null, label: nodeId ? definition?.nodes?.[nodeId]?.label ?? null : null, goal: p.goal ?? null, trigger: p.trigger ?? null };
        }),
        effects,
        timers
      };
    },

    async detail(slug: string) {
      const flow = await requireFlow(slug);
      const v = flow.current_version_id ? await workflowsRepo.findVersion(db, flow.current_version_id) : undefined;
      const [versions, failed] = await Promise.all([workflowsRepo.listVersionsWithAuthor(db, flow.id), workflowsRepo.failedEffects(db, flow.id)]);
      return {
        id: flow.id,
        slug: flow.slug,
        name: flow.name,
        status: flow.status,
        version: v?.version ?? null,
        definition: v ? (JSON.parse(v.definition) as Workflow) : null,
        versions,
        failedEffects: failed.map((e) => ({ id: e.id, leadId: e.lead_id, nodeId: e.node_id, kind: e.kind, attempts: e.attempts, error: e.last_error, createdAt: e.created_at, failedAt: e.done_at })),
        stats: await this.stats(slug)
      };
    },

    mailboxMessages: (opts: { leadId?: string; limit?: number } = {}) => workflowsRepo.mailbox(db, { leadId: opts.leadId, limit: opts.limit ?? 100 })
  };
}

export type Engine = ReturnType<typeof createEngine>;
