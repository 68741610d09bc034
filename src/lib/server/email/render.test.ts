import { describe, expect, it } from 'vitest';
import { leadScope, oneLine, renderTemplate, sampleScope, TemplateError, textToHtml, validateTemplate, type RenderScope } from './render';

const workspace = { name: 'Nurture', address: 'Москва, ул. Льва Толстого, 16' };
function scopeFor(lead: Record<string, unknown>): RenderScope {
  return { ...sampleScope(workspace), lead: leadScope(lead), unsubscribe_url: 'https://app.test/u/tok', preferences_url: 'https://app.test/p/tok' };
}

describe('renderTemplate', () => {
  it('escapes script in lead fields in the HTML, and `raw` cannot undo it', () => {
    const r = renderTemplate({ subject: 'Hi', html: '<p>{{ lead.name }} / {{ lead.name | raw }}</p>' }, scopeFor({ name: '<script>alert(1)</script>' }));
    expect(r.html).not.toContain('<script>');
    expect(r.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; / &lt;script&gt;');
  });

  it('renders a missing field empty, never as raw Liquid', () => {
    const r = renderTemplate({ subject: 'Hi {{ lead.nickname }}!', html: '<p>A{{ lead.attributes.nothing.deeper }}B {{ owner.phone }}</p>' }, scopeFor({ name: 'Anna' }));
    expect(r.subject).toBe('Hi !');
    expect(r.html).toContain('<p>AB </p>');
    expect(r.html + r.text).not.toContain('{{');
  });

  it('strips CR/LF from a rendered subject so lead data cannot add a header', () => {
    const r = renderTemplate({ subject: 'Hello {{ lead.name }}' }, scopeFor({ name: 'Eve\r\nBcc: victim@example.com' }));
    expect(r.subject).toBe('Hello Eve Bcc: victim@example.com');
    expect(r.subject).not.toMatch(/[\r\n]/);
    expect(oneLine('a\u2028b\n\nc')).toBe('a b c');
  });

  it('wraps the content in the layout with preheader, address and unsubscribe links', () => {
    const r = renderTemplate({ subject: 'Тема', preheader: 'Коротко для {{ lead.first_name }}', html: '<p>Текст</p>', locale: 'ru' }, scopeFor({ name: 'Анна Смирнова' }));
    expect(r.preheader).toBe('Коротко для Анна');
    expect(r.html).toMatch(/<div style="display:none[^"]*">Коротко для Анна/);
    expect(r.html).toContain('Москва, ул. Льва Толстого, 16');
    expect(r.html).toContain('href="https://app.test/u/tok"');
    expect(r.html).toContain('Отписаться');
    expect(r.text).toContain('Отписаться: https://app.test/u/tok');
  });

  it('leaves unsubscribe links out of transactional mail', () => {
    const r = renderTemplate({ subject: 'Receipt', html: '<p>Thanks</p>', kind: 'transactional' }, scopeFor({ name: 'A' }));
    expect(r.html).not.toContain('Unsubscribe');
    expect(r.text).not.toContain('Unsubscribe');
  });

  it('generates the text part from the HTML unless one is written by hand', () => {
    const html = '<h1>Welcome</h1><p>Read <a href="https://ex.com/guide">the guide</a>.</p><ul><li>one</li><li>two</li></ul>';
    const generated = renderTemplate({ subject: 'S', html }, scopeFor({ name: 'A' }));
    expect(generated.text).toMatch(/^WELCOME\n\nRead the guide \(https:\/\/ex\.com\/guide\)\.\n\n- one\n- two\n\n--/);
    const handWritten = renderTemplate({ subject: 'S', html, body: 'Hi {{ lead.name }} & co' }, scopeFor({ name: 'A<b>' }));
    expect(handWritten.text.startsWith('Hi A<b> & co\n')).toBe(true);
  });

  it('turns a text-only body into paragraphs, lists and links', () => {
    expect(textToHtml('Hi,\n\n1. One\n2. Two\n\nSee https://ex.com/a.')).toBe('<p>Hi,</p>\n<ol><li>One</li><li>Two</li></ol>\n<p>See <a href="https://ex.com/a">https://ex.com/a</a>.</p>');
  });

  it('throws a typed error with line and column', () => {
    const t = { subject: 'S', html: '<p>ok</p>\n<p>{{ lead.name | shout }}</p>' };
    let err: unknown;
    try {
      renderTemplate(t, scopeFor({ name: 'A' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).issue).toEqual({ field: 'html', line: 2, column: 4, message: 'undefined filter: shout' });
  });
});

describe('validateTemplate', () => {
  it('lists every field with a problem, with line and column', () => {
    const issues = validateTemplate({ subject: 'Hi {{ lead.name', html: '<p>\n\n  {% if lead.company %}</p>', body: '' });
    expect(issues.map((i) => [i.field, i.line, i.column])).toEqual([
      ['subject', 1, 4],
      ['html', 3, 3]
    ]);
    expect(issues[1].message).toContain('not closed');
  });

  it('refuses a multi-line subject and file access', () => {
    expect(validateTemplate({ subject: 'a\nb' })[0]).toMatchObject({ field: 'subject', message: 'the subject must be one line' });
    expect(validateTemplate({ subject: 'S', html: "{% include 'package.json' %}" })[0]).toMatchObject({ field: 'html', line: 1 });
  });

  it('accepts the shipped kind of template', () => {
    expect(validateTemplate({ subject: '{{ lead.first_name | default: "Коллега" }}, привет', html: '<p>{% if owner %}{{ owner.name }}{% endif %}</p>', body: '' })).toEqual([]);
  });
});
