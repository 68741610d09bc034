import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { InputError } from '../../src/lib/server/services/deps';
import { appRouter } from '../../src/lib/server/trpc/router';
import { createCallerFactory } from '../../src/lib/server/trpc/init';

const DAY = 86_400_000;
const NOV_1 = Date.UTC(2025, 10, 1);
const DEC_1 = Date.UTC(2025, 11, 1);

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(async () => {
  await app.close();
});

const system = { id: null, label: 'test' };

async function leadAt(at: number, email: string, channelName: string) {
  app.clock.set(at);
  return app.services.capture.capture({ input: parseLeadInput({ email }), source: 'form', channelName, actor: system });
}

async function statsOf(name: string, from: number, to: number) {
  const row = (await app.services.channels.stats(from, to)).find((s) => s.name === name);
  if (!row) throw new Error(`no stats row for ${name}`);
  return row;
}

function fieldsOf(e: unknown) {
  if (!(e instanceof InputError)) throw e;
  return e.issues.map((i) => i.field);
}

describe('channel stats and cost per lead', () => {
  it('divides the spend in the range by the leads captured in it', async () => {
    const { actor } = await app.makeUser('marketer');
    const id = await app.services.channels.create(actor, { name: 'Яндекс Директ', kind: 'paid', utmSource: 'yandex', utmMedium: 'cpc' });
    for (const [i, at] of [NOV_1 + DAY, NOV_1 + 10 * DAY, DEC_1 - 1].entries()) await leadAt(at, `l${i}@x.ru`, 'Яндекс Директ');
    // Outside the range on either side: not counted.
    await leadAt(NOV_1 - 1, 'before@x.ru', 'Яндекс Директ');
    await leadAt(DEC_1, 'after@x.ru', 'Яндекс Директ');
    await app.services.channels.addSpend(actor, { channelId: id, periodStart: NOV_1, periodEnd: DEC_1, amount: 30000.5 });

    const s = await statsOf('Яндекс Директ', NOV_1, DEC_1);
    expect(s).toMatchObject({ id, kind: 'paid', leads: 3, spend: 30000.5 });
    expect(s.costPerLead).toBe(10000.17);
    // A channel with leads and no spend has no cost per lead rather than a zero one.
    await leadAt(NOV_1 + DAY, 'free@x.ru', 'Referral partner');
    expect(await statsOf('Referral partner', NOV_1, DEC_1)).toMatchObject({ leads: 1, spend: 0, costPerLead: null });
  });

  it('prorates spend whose period only partly overlaps the range', async () => {
    const { actor } = await app.makeUser('marketer');
    const id = await app.services.channels.create(actor, { name: 'VK Реклама', kind: 'social' });
    // 30 days of November for 30,000 ₽: 1,000 ₽ a day.
    await app.services.channels.addSpend(actor, { channelId: id, periodStart: NOV_1, periodEnd: DEC_1, amount: 30000 });
    await leadAt(NOV_1 + 25 * DAY, 'a@x.ru', 'VK Реклама');
    await leadAt(NOV_1 + 27 * DAY, 'b@x.ru', 'VK Реклама');

    // 25 Nov to 5 Dec: 5 days of the period fall inside.
    const s = await statsOf('VK Реклама', NOV_1 + 25 * DAY, DEC_1 + 5 * DAY);
    expect(s).toMatchObject({ leads: 2, spend: 5000, costPerLead: 2500 });
    // A range that misses the period entirely counts none of it.
    expect(await statsOf('VK Реклама', DEC_1, DEC_1 + 30 * DAY)).toMatchObject({ leads: 0, spend: 0, costPerLead: null });
  });

  it('counts a merged lead once, on the lead that survives', async () => {
    const { actor } = await app.makeUser('marketer');
    await app.services.channels.create(actor, { name: 'Выставка', kind: 'offline' });
    const a = await leadAt(NOV_1 + DAY, 'one@x.ru', 'Выставка');
    const b = await leadAt(NOV_1 + 2 * DAY, 'two@x.ru', 'Выставка');
    expect((await statsOf('Выставка', NOV_1, DEC_1)).leads).toBe(2);
    await app.services.leads.merge(actor, a.leadId, b.leadId);
    expect((await statsOf('Выставка', NOV_1, DEC_1)).leads).toBe(1);
    // A repeat capture of the merged email lands on the survivor, not as a new lead.
    await leadAt(NOV_1 + 3 * DAY, 'two@x.ru', 'Выставка');
    expect((await statsOf('Выставка', NOV_1, DEC_1)).leads).toBe(1);
  });
});

describe('channel and spend validation', () => {
  it('refuses spend whose period ends before (or when) it starts, naming periodEnd, and stores nothing', async () => {
    const { actor } = await app.makeUser('marketer');
    const id = await app.services.channels.create(actor, { name: 'Google Ads', kind: 'paid' });
    for (const periodEnd of [NOV_1 - DAY, NOV_1]) {
      const e = await app.services.channels.addSpend(actor, { channelId: id, periodStart: NOV_1, periodEnd, amount: 100 }).catch((x: unknown) => x);
      expect(fieldsOf(e)).toEqual(['periodEnd']);
    }
    const negative = await app.services.channels.addSpend(actor, { channelId: id, periodStart: NOV_1, periodEnd: DEC_1, amount: -5 }).catch((x: unknown) => x);
    expect(fieldsOf(negative)).toEqual(['amount']);
    expect(await app.services.channels.listSpend(id)).toEqual([]);

    // Through tRPC the same refusal is a BAD_REQUEST that names the field.
    const caller = createCallerFactory(appRouter)({ app, user: (await app.services.auth.listUsers())[0], ip: '127.0.0.1' });
    await expect(caller.channels.addSpend({ channelId: id, periodStart: DEC_1, periodEnd: NOV_1, amount: 1 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('periodEnd')
    });
  });

  it('keeps channel names unique', async () => {
    const { actor } = await app.makeUser('admin');
    await app.services.channels.create(actor, { name: 'Партнёры', kind: 'referral' });
    const e = await app.services.channels.create(actor, { name: '  Партнёры ', kind: 'paid' }).catch((x: unknown) => x);
    expect(fieldsOf(e)).toEqual(['name']);
    expect((await app.services.channels.list()).filter((c) => c.name === 'Партнёры')).toHaveLength(1);
    // A name that capture created on first sight is taken too.
    await leadAt(NOV_1, 'c@x.ru', 'Из рассылки');
    expect(fieldsOf(await app.services.channels.create(actor, { name: 'Из рассылки' }).catch((x: unknown) => x))).toEqual(['name']);
  });

  it('records channel changes in the audit log with who made them', async () => {
    const { actor } = await app.makeUser('marketer', 'm@x.ru');
    const id = await app.services.channels.create(actor, { name: 'Telegram', kind: 'social' });
    const spendId = await app.services.channels.addSpend(actor, { channelId: id, periodStart: NOV_1, periodEnd: DEC_1, amount: 700 });
    await app.services.channels.deleteSpend(actor, spendId);
    const log = (await app.services.audit.page(10)).items.filter((e) => e.actor_label === 'm@x.ru');
    expect(log.map((e) => e.action)).toEqual(['channel.spend_delete', 'channel.spend_add', 'channel.create']);
  });
});
