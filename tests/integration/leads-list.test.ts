import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { InputError } from '../../src/lib/server/services/deps';
import { leadListQuerySchema, type LeadListQueryInput } from '../../src/lib/shared/lead-query';
import { readParams, toListQuery, toSearch } from '../../src/lib/components/leads/url-query';
import type { LeadSource } from '../../src/lib/shared/lead';

let app: TestApp;
let owner: { id: string; actor: { id: string | null; label: string } };
const ids: Record<string, string> = {};
const system = { id: null, label: 'test' };
const DAY = 86_400_000;

async function add(key: string, raw: Record<string, unknown>, source: LeadSource = 'form', channelName?: string) {
  const r = await app.services.capture.capture({ input: parseLeadInput(raw), source, channelName, actor: system });
  ids[key] = r.leadId;
  app.clock.advance(DAY);
  return r.leadId;
}

const list = (q: LeadListQueryInput) => app.services.leads.list(leadListQuerySchema.parse(q));
const names = async (q: LeadListQueryInput) => (await list(q)).items.map((l) => l.name);

beforeAll(async () => {
  app = await createTestApp();
  owner = await app.makeUser('sales', 'rep@test.local');
  // Clock starts 2026-01-12 09:00 UTC; each lead is created one day after the previous one.
  await add('ivan', { name: 'Иван Петров', email: 'ivan@vektor.ru', phone: '+7 916 123-45-67', company: 'Вектор' }, 'form', 'Выставка');
  await add('anna', { name: 'анна смирнова', email: 'anna.s@romashka.ru', company: 'Ромашка' }, 'api');
  await add('john', { name: 'John Smith', email: 'john@acme.com', phone: '+44 20 7946 0958', company: 'Acme Corp' }, 'manual', 'Выставка');
  await add('formula', { name: '=HYPERLINK("http://evil.example","click")', email: 'evil@x.ru', company: '+cmd' }, 'import');
  await add('olga', { name: 'Ольга ПЕТРОВА', phone: '8 (903) 555-01-02', company: 'ТехноСфера' }, 'form');
  await app.services.leads.update(owner.actor, ids.anna, { stage: 'mql', owner_id: owner.id });
  // SQL asks for BANT: a plain edit is refused (the card's stage form supplies the fields).
  await expect(app.services.leads.update(owner.actor, ids.john, { stage: 'sql' })).rejects.toThrow(/budget, authority, need, timing/);
  const admin = await app.makeUser('admin');
  const bant = { budget: '500 000 ₽', authority: 'CFO', need: 'analytics', timing: 'this quarter' };
  await app.services.handoff.changeStage({ id: admin.id, email: admin.actor.label, role: 'admin', isManager: false }, { leadId: ids.john, to: 'sql', fields: bant });
});
afterAll(async () => {
  await app.close();
});

describe('lead list search', () => {
  it('finds Cyrillic names whatever their case', async () => {
    expect((await names({ search: 'ПЕТРОВ' })).sort()).toEqual(['Иван Петров', 'Ольга ПЕТРОВА']);
    expect(await names({ search: 'Анна' })).toEqual(['анна смирнова']);
  });
  it('finds by email fragment, phone digits in any format, and company', async () => {
    expect(await names({ search: 'romashka' })).toEqual(['анна смирнова']);
    expect(await names({ search: '916 123-45' })).toEqual(['Иван Петров']);
    expect(await names({ search: '89035550102' })).toEqual([]); // national prefix is not how we store it
    expect(await names({ search: '9035550102' })).toEqual(['Ольга ПЕТРОВА']);
    expect(await names({ search: 'техносфера' })).toEqual(['Ольга ПЕТРОВА']);
    expect(await names({ search: 'ACME' })).toEqual(['John Smith']);
  });
  it('drops LIKE wildcards from the search instead of interpreting them', async () => {
    expect((await list({ search: '%' })).total).toBe(5);
    expect(await names({ search: 'nobody_here' })).toEqual([]);
  });
});

describe('lead list filters, sorting and paging', () => {
  it('filters by stage, owner (including no owner), channel and source', async () => {
    expect((await names({ stage: ['mql', 'sql'] })).sort()).toEqual(['John Smith', 'анна смирнова']);
    expect(await names({ ownerId: owner.id })).toEqual(['анна смирнова']);
    expect((await list({ ownerId: 'none' })).total).toBe(4);
    const channel = (await app.services.channels.list()).find((c) => c.name === 'Выставка')!;
    expect((await names({ channelId: channel.id })).sort()).toEqual(['John Smith', 'Иван Петров']);
    expect(await names({ source: 'import' })).toEqual(['=HYPERLINK("http://evil.example","click")']);
  });

  it('filters by created period from the URL, whole Moscow days inclusive', async () => {
    // Leads were created 12, 13, 14, 15, 16 January at 12:00 Moscow time.
    const q = toListQuery(readParams(new URLSearchParams('from=2026-01-13&to=2026-01-14')));
    expect((await names(q)).sort()).toEqual(['John Smith', 'анна смирнова']);
    const since = toListQuery(readParams(new URLSearchParams('from=2026-01-16')));
    expect(await names(since)).toEqual(['Ольга ПЕТРОВА']);
  });

  it('sorts by the chosen column in both directions', async () => {
    expect(await names({ sort: 'created', dir: 'asc', pageSize: 2 })).toEqual(['Иван Петров', 'анна смирнова']);
    expect(await names({ sort: 'created', dir: 'desc', pageSize: 1 })).toEqual(['Ольга ПЕТРОВА']);
    const byName = await names({ sort: 'name', dir: 'asc' });
    expect(byName[0]).toBe('=HYPERLINK("http://evil.example","click")');
    expect(byName[1]).toBe('John Smith');
    const desc = await list({ sort: 'company', dir: 'desc' });
    expect(desc.items.map((l) => l.company)).toEqual(['ТехноСфера', 'Ромашка', 'Вектор', 'Acme Corp', '+cmd']);
  });

  it('pages with a stable total', async () => {
    const p1 = await list({ pageSize: 2, page: 1, sort: 'created', dir: 'asc' });
    const p3 = await list({ pageSize: 2, page: 3, sort: 'created', dir: 'asc' });
    expect([p1.total, p3.total]).toEqual([5, 5]);
    expect(p1.items).toHaveLength(2);
    expect(p3.items.map((l) => l.name)).toEqual(['Ольга ПЕТРОВА']);
    expect((await list({ pageSize: 2, page: 4 })).items).toEqual([]);
  });

  it('keeps the list state in the URL and drops values it does not know', () => {
    const p = readParams(new URLSearchParams('q=Петров&stage=mql&stage=bogus&owner=none&sort=name&dir=asc&page=2&size=25&from=not-a-date'));
    expect(p).toMatchObject({ q: 'Петров', stage: ['mql'], owner: 'none', sort: 'name', dir: 'asc', page: 2, size: 25, from: '' });
    expect(readParams(new URLSearchParams(toSearch(p).slice(1)))).toEqual(p);
    expect(toSearch(readParams(new URLSearchParams('sort=evil&size=100000')))).toBe('');
  });
});

describe('CSV export', () => {
  it('exports the filtered list with formula cells neutralized', async () => {
    let csv = '';
    for await (const line of app.services.leads.exportCsv(leadListQuerySchema.parse({ search: 'evil' }))) csv += line;
    const rows = Papa.parse<string[]>(csv.replace(/^\ufeff/, ''), { skipEmptyLines: true }).data;
    expect(rows).toHaveLength(2);
    const [header, row] = rows;
    expect(row[header.indexOf('name')]).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(row[header.indexOf('company')]).toBe(`'+cmd`);
    expect(row[header.indexOf('email')]).toBe('evil@x.ru');
  });
  it('keeps a phone with a leading plus as a phone', async () => {
    let csv = '';
    for await (const line of app.services.leads.exportCsv(leadListQuerySchema.parse({ search: 'Иван' }))) csv += line;
    expect(csv).toContain('+79161234567');
    expect(csv).not.toContain(`'+7916`);
  });
});

describe('inline update from the card', () => {
  it('names the field a bad value belongs to and changes nothing', async () => {
    const before = await app.services.leads.get(ids.ivan);
    const attempt = (patch: Parameters<typeof app.services.leads.update>[2]) =>
      app.services.leads.update(owner.actor, ids.ivan, patch).then(
        () => [],
        (e: unknown) => (e instanceof InputError ? e.issues.map((i) => i.field) : ['unexpected'])
      );
    expect(await attempt({ email: 'not an email' })).toEqual(['email']);
    expect(await attempt({ phone: '12' })).toEqual(['phone']);
    expect(await attempt({ timezone: 'Mars/Olympus' })).toEqual(['timezone']);
    expect(await attempt({ owner_id: 'no-such-user' })).toEqual(['owner_id']);
    expect(await attempt({ email: 'anna.s@romashka.ru' })).toEqual(['email']);
    expect(await attempt({ email: null, phone: null })).toEqual(['email']);
    expect(await app.services.leads.get(ids.ivan)).toEqual(before);
  });

  it('records an owner change as owner_changed with from and to', async () => {
    await app.services.leads.update(owner.actor, ids.ivan, { owner_id: owner.id });
    const [latest] = await app.services.leads.timeline(ids.ivan);
    expect(latest).toMatchObject({ type: 'owner_changed', actorId: owner.id, properties: { field: 'owner_id', from: null, to: owner.id } });
    const got = await app.services.leads.get(ids.ivan);
    expect('lead' in got && got.lead.ownerName).toBe('Test sales');
  });

  it('records an edited field as field_changed and makes it searchable', async () => {
    await app.services.leads.update(owner.actor, ids.olga, { company: 'Северсталь' });
    const [latest] = await app.services.leads.timeline(ids.olga);
    expect(latest).toMatchObject({ type: 'field_changed', properties: { field: 'company', from: 'ТехноСфера', to: 'Северсталь' } });
    expect(await names({ search: 'северсталь' })).toEqual(['Ольга ПЕТРОВА']);
    expect(await names({ search: 'техносфера' })).toEqual([]);
  });
});
