import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { InputError, type Actor } from '../../src/lib/server/services/deps';
import { HONEYPOT_FIELD, type FormDefinitionInput } from '../../src/lib/shared/forms';
import { corsFor, publicRateLimit, readLimitedText, BodyTooLargeError } from '../../src/lib/server/http/public-endpoint';

let app: TestApp;
let marketer: Actor;
beforeEach(async () => {
  app = await createTestApp();
  marketer = (await app.makeUser('marketer')).actor;
});
afterEach(async () => {
  await app.close();
});

const meta = { ip: '203.0.113.5' };

function demoForm(over: Partial<FormDefinitionInput> = {}): FormDefinitionInput {
  return {
    name: 'Demo request',
    slug: 'demo',
    title: 'Ask for a demo',
    fields: [
      { key: 'name', label: 'Name', type: 'text', required: true },
      { key: 'email', label: 'Email', type: 'email', required: true },
      { key: 'phone', label: 'Phone', type: 'tel' },
      { key: 'attr:product', label: 'Product', type: 'select', options: ['CRM', 'ERP'] }
    ],
    consentText: 'I agree to receive emails',
    thankYouText: 'Thanks!',
    ...over
  };
}

async function issuesOf(p: Promise<unknown>) {
  const e = await p.then(
    () => null,
    (err: unknown) => err
  );
  expect(e).toBeInstanceOf(InputError);
  return Object.fromEntries((e as InputError).issues.map((i) => [i.field, i.message]));
}

async function formEvents(leadId: string) {
  return (await app.services.leads.timeline(leadId)).filter((e) => e.type === 'form_submitted');
}

describe('form definitions', () => {
  it('creates a form and refuses a taken slug, naming the field', async () => {
    const { slug } = await app.services.forms.create(marketer, demoForm());
    expect(slug).toBe('demo');
    expect(await issuesOf(app.services.forms.create(marketer, demoForm()))).toEqual({ slug: 'is taken by another form' });
  });

  it('makes a slug from a Cyrillic name when none is given, and a unique one on a clash', async () => {
    const a = await app.services.forms.create(marketer, demoForm({ slug: undefined, name: 'Заявка на демо' }));
    const b = await app.services.forms.create(marketer, demoForm({ slug: undefined, name: 'Заявка на демо' }));
    expect(a.slug).toBe('zayavka-na-demo');
    expect(b.slug).toMatch(/^zayavka-na-demo-[0-9a-f]{6}$/);
  });

  it('refuses a form with neither an email nor a phone field, and bad parts by path', async () => {
    const issues = await issuesOf(
      app.services.forms.create(
        marketer,
        demoForm({
          fields: [
            { key: 'name', label: '' },
            { key: 'company', label: 'Company', type: 'select' }
          ],
          allowedOrigins: ['https://ok.example', 'not an origin/path'],
          redirectUrl: 'javascript:alert(1)'
        })
      )
    );
    expect(issues.fields).toBe('a form needs an email or a phone field');
    expect(issues['fields.0.label']).toBe('is required');
    expect(issues['fields.1.options']).toMatch(/at least one option/);
    expect(issues['allowedOrigins.1']).toMatch(/origin/);
    expect(issues.redirectUrl).toBeDefined();
    expect(await app.services.forms.list()).toEqual([]);
  });

  it('stores script in the name verbatim and returns it as text (escaping is the UI job)', async () => {
    const name = '<script>alert("x")</script> Форма';
    const { id } = await app.services.forms.create(marketer, demoForm({ name, title: '<img src=x onerror=alert(1)>' }));
    const got = await app.services.forms.get(id);
    expect(got.name).toBe(name);
    expect(got.title).toBe('<img src=x onerror=alert(1)>');
  });

  it('normalizes allowed origins the way browsers send Origin', async () => {
    const { id } = await app.services.forms.create(marketer, demoForm({ allowedOrigins: [' HTTPS://Shop.Example.ru/ '] }));
    expect((await app.services.forms.get(id)).allowedOrigins).toEqual(['https://shop.example.ru']);
  });
});

describe('submissions', () => {
  it('creates a lead and a form_submitted event with the form id, attributed to the UTM channel', async () => {
    const { id: formId } = await app.services.forms.create(marketer, demoForm());
    const res = await app.services.forms.submit(
      'demo',
      { name: 'Иван', email: 'Ivan@Example.RU', phone: '8 916 123-45-67', 'attr:product': 'CRM', consent_marketing: true },
      { ...meta, page: 'https://site.ru/pricing', referrer: 'https://yandex.ru/', touch: { utm_source: 'yandex', utm_medium: 'cpc' } }
    );
    expect(res).toMatchObject({ ok: true, thankYouText: 'Thanks!', redirectUrl: null });
    if (!res.ok || !res.leadId) throw new Error('expected a lead');
    const got = await app.services.leads.get(res.leadId);
    if (!('lead' in got)) throw new Error('expected a lead');
    expect(got.lead).toMatchObject({ email: 'ivan@example.ru', phone: '+79161234567', name: 'Иван', source: 'form', channelName: 'yandex / cpc' });
    expect(got.lead.attributes).toMatchObject({ product: 'CRM' });
    expect(got.lead.firstTouch).toMatchObject({ utm_source: 'yandex', page: 'https://site.ru/pricing', referrer: 'https://yandex.ru/' });
    const events = await formEvents(res.leadId);
    expect(events).toHaveLength(1);
    expect(events[0].properties).toMatchObject({ formId, formSlug: 'demo' });
    expect((await app.services.forms.list())[0].submissions).toBe(1);
  });

  it('dedupes a second submission with the same email onto the same lead', async () => {
    await app.services.forms.create(marketer, demoForm());
    const body = { name: 'Анна', email: 'anna@x.ru', consent_marketing: 'on' };
    const a = await app.services.forms.submit('demo', body, meta);
    app.clock.advance(60_000);
    const b = await app.services.forms.submit('demo', { ...body, email: ' ANNA@X.RU ', phone: '+7 999 000-11-22' }, meta);
    if (!a.ok || !b.ok) throw new Error('expected success');
    expect(b.leadId).toBe(a.leadId);
    const list = await app.services.leads.list({ sort: 'created', dir: 'desc', page: 1, pageSize: 50 });
    expect(list.total).toBe(1);
    expect(list.items[0].phone).toBe('+79990001122');
    expect(await formEvents(a.leadId!)).toHaveLength(2);
  });

  it('uses the form channel only for visitors without UTM tags', async () => {
    const channelId = await app.services.channels.create(marketer, { name: 'Landing A', kind: 'direct' });
    await app.services.forms.create(marketer, demoForm({ channelId }));
    const plain = await app.services.forms.submit('demo', { name: 'A', email: 'a@x.ru', consent_marketing: true }, meta);
    if (!plain.ok) throw new Error('expected success');
    const got = await app.services.leads.get(plain.leadId!);
    expect('lead' in got && got.lead.channelName).toBe('Landing A');
    const tagged = await app.services.forms.submit('demo', { name: 'B', email: 'b@x.ru', consent_marketing: true }, { ...meta, touch: { utm_source: 'vk', utm_medium: 'social' } });
    if (!tagged.ok) throw new Error('expected success');
    const got2 = await app.services.leads.get(tagged.leadId!);
    expect('lead' in got2 && got2.lead.channelName).toBe('vk / social');
  });

  it('answers a filled honeypot with a quiet success and stores nothing', async () => {
    await app.services.forms.create(marketer, demoForm());
    const res = await app.services.forms.submit('demo', { name: 'Bot', email: 'bot@spam.ru', consent_marketing: true, [HONEYPOT_FIELD]: 'http://spam' }, meta);
    expect(res).toMatchObject({ ok: true, leadId: null, thankYouText: 'Thanks!' });
    const list = await app.services.leads.list({ sort: 'created', dir: 'desc', page: 1, pageSize: 50 });
    expect(list.total).toBe(0);
  });

  it('keys required, consent and choice errors by field and stores nothing', async () => {
    await app.services.forms.create(marketer, demoForm());
    const res = await app.services.forms.submit('demo', { email: '', 'attr:product': 'Nope' }, meta);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.codes).toEqual({ name: 'required', email: 'required', consent_marketing: 'consent', 'attr:product': 'invalid_choice' });
    expect(Object.keys(res.errors).sort()).toEqual(['attr:product', 'consent_marketing', 'email', 'name']);
    expect((await app.services.leads.list({ sort: 'created', dir: 'desc', page: 1, pageSize: 50 })).total).toBe(0);
  });

  it('reports an invalid email beside email and an invalid phone beside phone', async () => {
    await app.services.forms.create(marketer, demoForm());
    const res = await app.services.forms.submit('demo', { name: 'X', email: 'not-an-email', phone: '12', consent_marketing: true }, meta);
    if (res.ok) throw new Error('expected errors');
    expect(res.codes).toEqual({ email: 'invalid_email', phone: 'invalid_phone' });
    expect(res.errors.phone).toMatch(/not a valid phone/);
  });

  it('asks for a contact on the phone field when a phone-only form is left empty', async () => {
    await app.services.forms.create(marketer, demoForm({ slug: 'call', consentText: undefined, fields: [{ key: 'phone', label: 'Phone', type: 'tel' }] }));
    const res = await app.services.forms.submit('call', { phone: '' }, meta);
    if (res.ok) throw new Error('expected errors');
    expect(res.codes).toEqual({ phone: 'contact_required' });
  });

  it('stores script in a captured name verbatim', async () => {
    await app.services.forms.create(marketer, demoForm());
    const name = '<script>alert(document.cookie)</script>';
    const res = await app.services.forms.submit('demo', { name, email: 'xss@x.ru', consent_marketing: true }, { ...meta, userAgent: '<b>ua</b>' });
    if (!res.ok) throw new Error('expected success');
    const got = await app.services.leads.get(res.leadId!);
    expect('lead' in got && got.lead.name).toBe(name);
  });

  it('refuses submissions to an inactive or unknown form', async () => {
    await app.services.forms.create(marketer, demoForm({ active: false }));
    await expect(app.services.forms.submit('demo', { email: 'a@b.ru' }, meta)).rejects.toThrow(/No such form/);
    await expect(app.services.forms.submit('nope', { email: 'a@b.ru' }, meta)).rejects.toThrow(/No such form/);
    expect(await app.services.forms.getPublic('demo')).toBeNull();
  });
});

describe('public endpoint guards', () => {
  it('allows any origin with an empty list, only listed origins otherwise', () => {
    expect(corsFor('https://a.ru', [])).toMatchObject({ allowed: true, headers: { 'Access-Control-Allow-Origin': 'https://a.ru' } });
    expect(corsFor('https://A.ru', ['https://a.ru'])).toMatchObject({ allowed: true });
    expect(corsFor('https://evil.ru', ['https://a.ru'])).toEqual({ allowed: false });
    expect(corsFor(null, ['https://a.ru'])).toMatchObject({ allowed: true });
  });

  it('limits submissions per IP and tells when to retry', () => {
    const ip = '198.51.100.77';
    expect(publicRateLimit('submit', ip, 2).allowed).toBe(true);
    expect(publicRateLimit('submit', ip, 2).allowed).toBe(true);
    const third = publicRateLimit('submit', ip, 2);
    expect(third.allowed).toBe(false);
    expect(third.retryAfterMs).toBeGreaterThan(0);
    expect(publicRateLimit('submit', '198.51.100.78', 2).allowed).toBe(true);
  });

  it('stops reading a body past the limit, declared or streamed', async () => {
    const big = 'x'.repeat(2000);
    await expect(readLimitedText(new Request('http://x/', { method: 'POST', body: big }), 1024)).rejects.toBeInstanceOf(BodyTooLargeError);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode(big));
        c.close();
      }
    });
    const chunked = new Request('http://x/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    await expect(readLimitedText(chunked, 4096)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(await readLimitedText(new Request('http://x/', { method: 'POST', body: '{"a":1}' }), 1024)).toBe('{"a":1}');
  });
});
