import { sql } from 'kysely';
import type { App } from '../../src/lib/server/app';
import { settingsRepo } from '../../src/lib/server/repositories/settings.repo';
import { systemActor } from '../../src/lib/server/services/deps';
import type { EventsTable } from '../../src/lib/server/db/schema';

/**
 * A few months of history on the demo base so every analytics view has something to say:
 * stage progressions (stage_changed with from/to/by, amount on customer), hand-offs to the two
 * demo reps (one quick, one slow and breaching the SLA) with accept / reject / recycle reasons,
 * and the welcome sequence's emails with human and machine opens, clicks, bounces and
 * unsubscribes. Conversions are dealt out per channel, not rolled, so the story is always the
 * same: Яндекс Директ brings the most leads and the cheapest customers, Конференции converts
 * about a quarter better.
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Lead → customer rate per channel; the other steps follow from it. */
const CUSTOMER_RATE: Record<string, number> = { 'Яндекс Директ': 0.09, Конференции: 0.115, 'VK Реклама': 0.05, Website: 0.07 };
const REASONS = ['bad_fit', 'no_budget', 'wrong_contact', 'duplicate', 'other'];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function seedDemoHistory(app: App): Promise<void> {
  const { db, clock, ids } = app.deps;
  const now = clock.now();
  const rand = rng(2026);
  const between = (lo: number, hi: number) => lo + rand() * (hi - lo);
  // The shipped flows, so the email and flow views name real steps (loading twice is harmless: start-up does it on every boot).
  await app.services.engine.loadWorkflowsDir(app.config.WORKFLOWS_DIR, systemActor);
  // Live events so far (the demo's captures) go through the engine now, as they would on the
  // worker's first run; the history written below is the past and must not start flows or
  // hand-offs, so the engine's event cursor is moved past it at the end.
  while ((await app.services.engine.dispatchEvents(500)) > 0);
  const welcome = await db.selectFrom('workflows').select(['id', 'current_version_id']).where('slug', '=', 'welcome-sequence').executeTakeFirst();
  const reps = await db.selectFrom('users').select(['id', 'email']).where('role', '=', 'sales').orderBy('email').execute();
  const slowRep = reps.find((r) => r.email.startsWith('sales'))?.id ?? reps[0]?.id;
  const fastRep = reps.find((r) => r.email.startsWith('manager'))?.id ?? reps[1]?.id ?? slowRep;
  const leads = await db
    .selectFrom('leads')
    .leftJoin('channels', 'channels.id', 'leads.channel_id')
    .select(['leads.id', 'leads.email', 'leads.created_at', 'leads.country', 'leads.fit_score', 'channels.name as channel'])
    .where('leads.merged_into_id', 'is', null)
    .orderBy('leads.created_at')
    .execute();

  const { fitThreshold } = (await app.services.scoring.rules()).settings;
  const events: EventsTable[] = [];
  const event = (leadId: string, type: string, at: number, properties: Record<string, unknown>, source = 'demo') =>
    events.push({ id: ids.newId(), lead_id: leadId, type, properties: JSON.stringify(properties), source, actor_id: null, occurred_at: at, received_at: at, dedupe_key: null });

  // Deal each channel's customers out to its leads: ranks 0..k-1 become customers, then SQLs, then MQLs.
  const byChannel = new Map<string, typeof leads>();
  for (const l of leads) {
    const k = l.channel ?? '';
    if (!byChannel.has(k)) byChannel.set(k, []);
    byChannel.get(k)!.push(l);
  }
  for (const [channel, list] of byChannel) {
    const rate = CUSTOMER_RATE[channel] ?? 0.05;
    const customers = Math.round(list.length * rate);
    const sqls = Math.round(customers * 2.2);
    const mqls = Math.round(customers * 4.5);
    const order = list.map((l) => ({ l, r: rand() })).sort((a, b) => a.r - b.r);
    for (let i = 0; i < order.length; i++) {
      const { l } = order[i];
      const target = i < customers ? 5 : i < sqls ? 3 + (rand() < 0.4 ? 1 : 0) : i < mqls ? 2 : 1;
      if (target === 1) continue;
      const path: [string, string, string, number][] = [
        ['subscriber', 'mql', 'scoring', between(0.5, 6) * DAY],
        ['mql', 'sql', 'handoff', between(0.2, 4) * DAY],
        ['sql', 'opportunity', 'user', between(2, 8) * DAY],
        ['opportunity', 'customer', 'user', between(5, 20) * DAY]
      ];
      let at = l.created_at;
      let stage = 'subscriber';
      const owner = rand() < 0.5 ? slowRep : fastRep;
      // A recent lead's path is squeezed into the time it has had, so every dealt customer is one.
      const planned = path.slice(0, target - 1).reduce((sum, p) => sum + p[3], 0);
      const squeeze = Math.min(1, (now - HOUR - l.created_at) / Math.max(1, planned));
      for (let s = 0; s < target - 1 && s < path.length; s++) {
        const [from, to] = path[s];
        const wait = path[s][3] * squeeze;
        if (wait <= 0) break;
        at += wait;
        // Scoring can only have made a lead MQL that fits; a weaker fit was marked by a marketer.
        const by = path[s][2] === 'scoring' && l.fit_score < fitThreshold ? 'user' : path[s][2];
        // The interest that qualified it, in the days before: a form, a click, the pricing page
        // (20 + 10 + 15 + 1 points under the shipped rules, over the threshold of 30).
        if (to === 'mql') {
          event(l.id, 'form_submitted', at - between(1, 4) * DAY, { formId: 'demo-contact' }, 'form');
          event(l.id, 'email_clicked', at - between(0.3, 0.9) * DAY, { machine: false, url: 'https://nurture.example/blog' }, 'email');
          event(l.id, 'page_viewed', at - between(0.01, 0.25) * DAY, { url: 'https://nurture.example/pricing' }, 'site');
        }
        const amount = to === 'customer' ? Math.round(between(channel === 'Конференции' ? 300 : 150, channel === 'Конференции' ? 900 : 600)) * 1000 : undefined;
        event(l.id, 'stage_changed', at, { field: 'stage', from, to, by, ...(amount ? { amount } : {}) }, by === 'scoring' ? 'scoring' : 'manual');
        stage = to;
        if (to === 'mql' && owner) await handoffFor(l.id, owner, at, target >= 3);
      }
      const patch = { stage, owner_id: stage === 'subscriber' ? null : (owner ?? null), updated_at: at };
      await db.updateTable('leads').set(patch).where('id', '=', l.id).execute();
    }
  }

  async function handoffFor(leadId: string, owner: string, at: number, accepted: boolean) {
    // The slow rep answers in hours and often misses the 4-hour SLA; the quick one in minutes.
    const slow = owner === slowRep;
    const wait = slow ? between(1.5, 30) * HOUR : between(4, 95) * 60_000;
    const acted = at + wait <= now;
    // Breached (and escalated at the deadline) only once the deadline has passed unanswered: a
    // hand-off still open before its deadline is not late yet.
    const late = Math.min(wait, now - at) > 4 * HOUR;
    const status = accepted ? 'accepted' : !acted ? 'open' : rand() < 0.6 ? 'rejected' : 'recycled';
    await db
      .insertInto('handoffs')
      .values({
        id: ids.newId(),
        lead_id: leadId,
        owner_id: owner,
        status,
        rule: 'round_robin',
        attempt: 1,
        assigned_at: at,
        due_at: at + 4 * HOUR,
        first_action_at: acted ? at + wait : null,
        reminded_at: null,
        escalated_at: late ? at + 4 * HOUR : null,
        breached: late ? 1 : 0,
        reason: status === 'rejected' || status === 'recycled' ? REASONS[Math.floor(rand() * REASONS.length)] : null,
        note: null,
        follow_up_at: null,
        closed_at: status === 'open' ? null : at + wait,
        summary: JSON.stringify({ demo: true }),
        created_at: at,
        updated_at: acted ? at + wait : at
      })
      .execute();
  }

  // The welcome sequence: up to three emails a lead, 3 and 7 days apart, with opens, clicks, bounces and unsubscribes.
  if (welcome?.current_version_id) {
    for (const l of leads) {
      if (!l.email || rand() < 0.3) continue;
      const ru = l.country !== 'United Kingdom';
      const steps = [1, 2, 3].map((k) => ({ node: `${ru ? 'ru' : 'en'}_email_${k}`, template: `welcome-${k}-${ru ? 'ru' : 'en'}`, at: l.created_at + [10 * 60_000, 3 * DAY, 10 * DAY][k - 1] }));
      let gone = false;
      for (const s of steps) {
        if (gone || s.at > now) break;
        const id = ids.newId();
        const bounced = rand() < 0.02;
        const human = !bounced && rand() < 0.42;
        const machine = !bounced && rand() < 0.18;
        const clicked = human && rand() < 0.35;
        await db
          .insertInto('messages')
          .values({
            id,
            message_key: `demo-history:${id}`,
            lead_id: l.id,
            template: s.template,
            workflow_id: welcome.id,
            node_id: s.node,
            to_address: l.email,
            subject: 'Nurture',
            kind: 'marketing',
            status: bounced ? 'failed' : 'sent',
            status_reason: bounced ? 'hard bounce' : null,
            smtp_message_id: null,
            smtp_response: bounced ? '550 5.1.1 user unknown' : '250 OK',
            attempts: 1,
            created_at: s.at,
            sent_at: bounced ? null : s.at,
            first_open_at: human ? s.at + 2 * HOUR : null,
            first_click_at: clicked ? s.at + 2 * HOUR + 60_000 : null,
            opens: human ? 1 + Math.floor(rand() * 3) : 0,
            machine_opens: machine ? 1 : 0,
            clicks: clicked ? 1 : 0,
            machine_clicks: 0,
            attempt_started_at: s.at
          })
          .execute();
        const props = { messageId: id, workflowId: welcome.id, nodeId: s.node };
        event(l.id, bounced ? 'email_bounced' : 'email_sent', s.at, bounced ? { ...props, hard: true, via: 'smtp' } : props, 'email');
        if (machine) event(l.id, 'email_opened', s.at + 60_000, { ...props, machine: true, machineReason: 'prefetch' }, 'email');
        if (human) event(l.id, 'email_opened', s.at + 2 * HOUR, { ...props, machine: false }, 'email');
        if (clicked) event(l.id, 'email_clicked', s.at + 2 * HOUR + 60_000, { ...props, machine: false, url: 'https://nurture.example/pricing' }, 'email');
        if (human && rand() < 0.04) {
          event(l.id, 'unsubscribed', s.at + 3 * HOUR, { ...props, via: 'link' }, 'email');
          gone = true;
        }
        gone ||= bounced;
      }
      // An ended enrolment per lead whose sequence is over (finished, or exited on a bounce or an
      // unsubscribe); leads still mid-sequence get none, since a seeded active instance has no timer.
      const last = steps.filter((s) => s.at <= now).pop();
      if (!gone && steps[2].at > now) continue;
      await db
        .insertInto('workflow_instances')
        .values({
          id: ids.newId(),
          workflow_id: welcome.id,
          version_id: welcome.current_version_id,
          lead_id: l.id,
          status: gone ? 'exited' : 'finished',
          current_node: gone ? (last?.node ?? 'done') : 'done',
          snapshot: '{}',
          version: 0,
          awaiting: null,
          error: null,
          enrolled_at: l.created_at,
          updated_at: last?.at ?? l.created_at,
          finished_at: last?.at ?? l.created_at
        })
        .execute();
    }
  }

  for (let i = 0; i < events.length; i += 200) await db.insertInto('events').values(events.slice(i, i + 200)).execute();
  // Scores as the history earned them (the live dispatcher never sees the past): the scoring lab's
  // rescore, saved as a rule-set version the lab lists. Before the cursor moves, so a lead it
  // promotes is history too and starts no hand-off.
  const rules = await app.services.scoring.rules();
  await (await app.services.lab.save({ id: null, label: 'demo seed' }, rules, 'demo seed: scores from the seeded history')).done;
  // The open hand-offs were written before that scoring: their cards' "why" comes from it.
  await app.services.handoff.resummarizeOpen();
  const last = await sql<{ seq: number }>`SELECT max(rowid) AS seq FROM events`.execute(db);
  await settingsRepo.set(db, ENGINE_EVENT_CURSOR, Number(last.rows[0]?.seq ?? 0), now);
}

/** The engine's dispatch cursor (engine.ts CURSOR_KEY): the rowid of the last event it has seen. */
const ENGINE_EVENT_CURSOR = 'engine.eventCursor';
