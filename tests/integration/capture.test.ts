import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { InputError } from '../../src/lib/server/services/deps';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(async () => {
  await app.close();
});

const actor = { id: null, label: 'test' };

describe('capture and dedupe', () => {
  it('creates a lead with normalized email and E.164 phone, its channel and a timeline event', async () => {
    const r = await app.services.capture.capture({
      input: parseLeadInput({ email: '  Ivan.Petrov@Example.RU ', phone: '8 (916) 123-45-67', name: 'Иван Петров' }),
      source: 'form',
      touch: { utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'весна' },
      actor
    });
    expect(r).toMatchObject({ created: true, merged: false });
    const got = await app.services.leads.get(r.leadId);
    if (!('lead' in got)) throw new Error('expected a lead');
    expect(got.lead).toMatchObject({ email: 'ivan.petrov@example.ru', phone: '+79161234567', name: 'Иван Петров', stage: 'subscriber', channelName: 'yandex / cpc' });
    expect(got.lead.firstTouch.utm_campaign).toBe('весна');
    const timeline = await app.services.leads.timeline(r.leadId);
    expect(timeline.map((e) => e.type)).toEqual(['lead_created']);
  });

  it('updates the existing lead when email or phone match, never creating a twin', async () => {
    const a = await app.services.capture.capture({ input: parseLeadInput({ email: 'a@b.ru', name: 'Анна' }), source: 'form', actor });
    app.clock.advance(1000);
    const b = await app.services.capture.capture({ input: parseLeadInput({ email: 'A@B.RU', phone: '+7 916 000-00-01', company: 'Вектор' }), source: 'api', actor });
    expect(b).toMatchObject({ leadId: a.leadId, created: false, merged: true });
    const c = await app.services.capture.capture({ input: parseLeadInput({ phone: '89160000001', job_title: 'CEO' }), source: 'import', actor });
    expect(c.leadId).toBe(a.leadId);
    const list = await app.services.leads.list({ sort: 'created', dir: 'desc', page: 1, pageSize: 50 });
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ name: 'Анна', company: 'Вектор', jobTitle: 'CEO', phone: '+79160000001' });
    const types = (await app.services.leads.timeline(a.leadId)).map((e) => e.type);
    expect(types).toEqual(['lead_captured', 'lead_captured', 'lead_created']);
  });

  it('refuses bad email and phone naming the field', () => {
    expect(() => parseLeadInput({ email: 'not-an-email' })).toThrow(InputError);
    try {
      parseLeadInput({ email: 'x@y.ru', phone: '12' });
    } catch (e) {
      expect((e as InputError).issues[0].field).toBe('phone');
    }
    expect(() => parseLeadInput({ name: 'Без контактов' })).toThrow(/email or a phone/);
  });

  it('merges two leads by hand, keeping both histories on the survivor', async () => {
    const { actor: marketer } = await app.makeUser('marketer');
    const a = await app.services.capture.capture({ input: parseLeadInput({ email: 'one@x.ru', name: 'Один' }), source: 'form', actor });
    const b = await app.services.capture.capture({ input: parseLeadInput({ email: 'two@x.ru', phone: '+79990001122', company: 'Two Co' }), source: 'api', actor });
    await app.services.leads.merge(marketer, a.leadId, b.leadId);
    const got = await app.services.leads.get(a.leadId);
    if (!('lead' in got)) throw new Error('expected a lead');
    expect(got.lead).toMatchObject({ email: 'one@x.ru', phone: '+79990001122', company: 'Two Co' });
    const types = (await app.services.leads.timeline(a.leadId)).map((e) => e.type).sort();
    expect(types).toEqual(['lead_created', 'lead_created', 'lead_merged']);
    expect(await app.services.leads.get(b.leadId)).toEqual({ mergedInto: a.leadId });
    // The merged lead's old email now finds the survivor.
    const again = await app.services.capture.capture({ input: parseLeadInput({ email: 'two@x.ru' }), source: 'form', actor });
    expect(again.leadId).toBe(a.leadId);
    const audit = await app.services.audit.list();
    expect(audit.map((x) => x.action)).toContain('lead.merge');
  });
});

describe('channel attribution', () => {
  it('files a lead under the channel declared for its utm_source and utm_medium', async () => {
    const { actor: marketer } = await app.makeUser('marketer');
    const id = await app.services.channels.create(marketer, { name: 'Яндекс Директ', kind: 'paid', utmSource: 'yandex', utmMedium: 'cpc' });
    const r = await app.services.capture.capture({ input: parseLeadInput({ email: 'u@x.ru' }), source: 'form', touch: { utm_source: 'Yandex', utm_medium: 'CPC' }, actor });
    const got = await app.services.leads.get(r.leadId);
    expect('lead' in got && got.lead.channelId).toBe(id);
    const other = await app.services.capture.capture({ input: parseLeadInput({ email: 'v@x.ru' }), source: 'form', touch: { utm_source: 'google', utm_medium: 'cpc' }, actor });
    const got2 = await app.services.leads.get(other.leadId);
    expect('lead' in got2 && got2.lead.channelName).toBe('google / cpc');
  });
});
