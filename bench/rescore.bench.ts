/**
 * `npm run bench -- rescore [leads] [--keep]`: the scoring lab over 100,000 generated leads with about nine
 * scored events each (opens, some by machines, clicks, page views with URLs, forms, webinars), some
 * customers and sales rejections, in a temp SQLite file. Times, through the lab service the page calls:
 *  - a first full rescore from an empty ledger (every rule's share written),
 *  - a cold what-if of a draft (target < 2 s), a threshold-only what-if on the cached scan,
 *  - saving the draft: a full rescore with ledger rows (target < 30 s).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { leadsRepo } from '../src/lib/server/repositories/leads.repo';
import { newLeadRow } from '../src/lib/server/services/lead-merge';
import type { LeadsTable } from '../src/lib/server/db/schema';

const DAY = 86_400_000;
const TITLES = ['Генеральный директор', 'CEO', 'Head of Marketing', 'Менеджер', 'Маркетолог', 'Руководитель отдела продаж', 'Analyst', 'Student', 'Founder', 'Бухгалтер'];
const SIZES = ['10', '50-200', '200-500', '1000+', '5 000 сотрудников', '', '20-49'];
const INDUSTRIES = ['IT', 'Ритейл', 'Банк', 'Строительство', 'Образование', 'SaaS', 'Логистика', ''];
const REGIONS = ['Москва', 'Санкт-Петербург', 'Казань', 'Новосибирск', 'London', ''];
const DOMAINS = ['gmail.com', 'mail.ru', 'yandex.ru', 'corp.example', 'bank.ru', 'acme.ru', 'competitor.example', 'msu.edu'];
const PAGES = ['/pricing', '/blog/post', '/careers', '/features', '/'];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const mb = () => Math.round(process.memoryUsage().rss / 1e6);

export default async function rescoreBench(args: string[]) {
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
  const keep = args.includes('--keep');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-bench-rescore-'));
  const app = await createApp({ config: loadConfig({ DATABASE_URL: path.join(dir, 'bench.db'), SEED: 'none' }) });
  try {
    const actor = { id: null, label: 'bench' };
    const rand = rng(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    // The service's clock is the real one: the history ends today, so decay is what a live base sees.
    const now = Date.now();
    const sqlite = app.database.sqlite;
    const insertEvent = sqlite.prepare(`INSERT INTO events (id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key) VALUES (?, ?, ?, ?, 'bench', NULL, ?, ?, NULL)`);
    const insertHandoff = sqlite.prepare(
      `INSERT INTO handoffs (id, lead_id, owner_id, status, rule, attempt, assigned_at, due_at, breached, reason, closed_at, summary, created_at, updated_at) VALUES (?, ?, NULL, 'rejected', 'round_robin', 1, ?, ?, 0, 'bad_fit', ?, '{}', ?, ?)`
    );
    const t0 = performance.now();
    let events = 0;
    let eventSeq = 0;
    const eventId = () => `ev-${String(++eventSeq).padStart(9, '0')}`;
    const BATCH = 5000;
    for (let done = 0; done < count; done += BATCH) {
      const rows: LeadsTable[] = [];
      for (let i = done; i < Math.min(count, done + BATCH); i++) {
        const created = now - Math.floor(rand() * 180) * DAY;
        const row = newLeadRow({
          id: `lead-${String(i).padStart(7, '0')}`,
          input: { email: `user${i}@${pick(DOMAINS)}`, phone: undefined, name: `Lead ${i}`, job_title: pick(TITLES), company_size: pick(SIZES) || undefined, industry: pick(INDUSTRIES) || undefined, region: pick(REGIONS) || undefined },
          source: 'import',
          channelId: null,
          touch: {},
          now: created,
          ownerId: null
        });
        row.stage = rand() < 0.5 ? 'subscriber' : 'lead';
        rows.push(row);
      }
      await app.database.db.transaction().execute((trx) => leadsRepo.insertMany(trx, rows));
      await app.database.db.connection().execute(async () =>
        sqlite.transaction(() => {
          for (const row of rows) {
            const n = Math.floor(rand() * 19);
            let t = row.created_at;
            for (let k = 0; k < n; k++) {
              t = Math.min(now, t + Math.floor(rand() * 6 * DAY));
              const r = rand();
              const [type, props] =
                r < 0.4
                  ? ['email_opened', { messageId: 'm', machine: rand() < 0.2 }]
                  : r < 0.6
                    ? ['email_clicked', { messageId: 'm', machine: rand() < 0.05 }]
                    : r < 0.9
                      ? ['page_viewed', { url: `https://site.example${pick(PAGES)}` }]
                      : r < 0.97
                        ? ['form_submitted', { formId: 'f' }]
                        : ['webinar_attended', {}];
              insertEvent.run(eventId(), row.id, type, JSON.stringify(props), t, t);
              events++;
            }
            const fate = rand();
            if (fate < 0.02) {
              insertEvent.run(eventId(), row.id, 'stage_changed', JSON.stringify({ field: 'stage', from: 'opportunity', to: 'customer', by: 'user', amount: 300000 }), t + DAY, t + DAY);
              events++;
            } else if (fate < 0.03) insertHandoff.run(`h-${row.id}`, row.id, t, t + 3_600_000, t + DAY, t, t + DAY);
          }
        })()
      );
    }
    sqlite.exec('ANALYZE');
    console.log(`seeded ${count} leads and ${events} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const rules = await app.services.scoring.rules();
    const timed = async <T>(label: string, fn: () => Promise<T>) => {
      const s = performance.now();
      const r = await fn();
      const ms = performance.now() - s;
      console.log(`${label}: ${(ms / 1000).toFixed(2)} s (RSS ${mb()} MB)`);
      return { r, ms };
    };

    const first = await timed('rescore #1, current rules from an empty ledger', async () => {
      const { done, jobId } = await app.services.lab.save(actor, rules, 'bench: first scoring');
      await done;
      return app.services.lab.job(jobId);
    });
    console.log(`  ${JSON.stringify(first.r)}`);

    const draft = {
      rules: rules.rules.map((r) => (r.id === 'eng-open' ? { ...r, points: 8, cap: { points: 24, period: 'day' as const } } : r.id === 'fit-industry' ? { ...r, points: 15 } : r)),
      settings: { ...rules.settings, engagementThreshold: 25 }
    };
    const cold = await timed('what-if, cold (draft rules, full scan)', () => app.services.lab.whatIf(draft));
    console.log(`  scan ${cold.r.scanMs} ms; MQL ${JSON.stringify(cold.r.mql)}; customers ${JSON.stringify(cold.r.backtest.customers)}; rejected ${JSON.stringify(cold.r.backtest.rejected)}`);
    const warmMs: number[] = [];
    for (const threshold of [20, 30, 35, 40]) {
      const w = await timed(`what-if, threshold ${threshold} (cached scan)`, () => app.services.lab.whatIf({ ...draft, settings: { ...draft.settings, engagementThreshold: threshold } }));
      warmMs.push(w.ms);
    }
    const second = await timed('rescore #2, saving the draft', async () => {
      const { done, jobId } = await app.services.lab.save(actor, draft, 'bench: draft');
      await done;
      return app.services.lab.job(jobId);
    });
    console.log(`  ${JSON.stringify(second.r)}`);
    const again = await timed('what-if after the save, cold', () => app.services.lab.whatIf(draft));
    console.log(`  MQL ${JSON.stringify(again.r.mql)}`);

    console.log(
      `\nsummary: what-if cold ${(cold.ms / 1000).toFixed(2)} s (target < 2 s), threshold-only ${Math.round(Math.max(...warmMs))} ms max; ` +
        `rescore #1 ${(first.ms / 1000).toFixed(1)} s (${first.r.ledgerRows} ledger rows), rescore #2 ${(second.ms / 1000).toFixed(1)} s (${second.r.ledgerRows} ledger rows) (target < 30 s)`
    );
  } finally {
    await app.close();
    if (keep) console.log(`kept ${dir}/bench.db`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}
