import { Liquid, type Template } from 'liquidjs';
import type { RenderedEmail } from './contract';
import { htmlToText } from './html-to-text';
import { textFooter, wrapInLayout, type Workspace } from './layout';

/**
 * Template + lead -> subject, preheader, HTML in the shared layout, and the text part.
 *
 * HTML is rendered with autoescaping on, so a lead named `<script>` stays text; the subject, the
 * preheader and a hand-written text part are rendered without it (they are not HTML). A missing
 * field renders empty; an unknown filter or a broken tag is an error with its line and column.
 */

export interface TemplateSource {
  subject: string;
  preheader?: string | null;
  /** Liquid HTML; when empty, `body` is the source and becomes simple paragraphs. */
  html?: string | null;
  /** Hand-written Liquid text part; when empty, the text part is generated from the HTML. */
  body?: string | null;
  kind?: string;
  locale?: string;
}

export interface RenderScope {
  lead: Record<string, unknown> | null;
  owner: { name: string; email: string } | null;
  unsubscribe_url: string;
  preferences_url: string;
  workspace: Workspace;
}

export type TemplateField = 'subject' | 'preheader' | 'html' | 'body';

export interface TemplateIssue {
  field: TemplateField;
  line: number;
  column: number;
  message: string;
}

/** A Liquid error located in one field of a template. */
export class TemplateError extends Error {
  constructor(public readonly issue: TemplateIssue) {
    super(`${issue.field} line ${issue.line}, column ${issue.column}: ${issue.message}`);
    this.name = 'TemplateError';
  }
}

// Templates render in-process for every send: bound the work any one of them can ask for.
const limits = { parseLimit: 200_000, renderLimit: 2_000, memoryLimit: 20_000_000 };

function createEngine(escape: boolean): Liquid {
  const liquid = new Liquid({ strictFilters: true, strictVariables: false, ownPropertyOnly: true, outputEscape: escape ? 'escape' : undefined, ...limits });
  // No file access from a template, and no way around the escaping of lead data.
  for (const tag of ['include', 'render', 'layout']) delete (liquid.tags as Record<string, unknown>)[tag];
  liquid.registerFilter('raw', (v: unknown) => v);
  return liquid;
}

const htmlLiquid = createEngine(true);
const textLiquid = createEngine(false);

/**
 * Parsed templates by engine and source: a campaign renders the same few templates thousands of
 * times, and parsing is most of Liquid's cost. Keyed by text, so an edited template parses afresh.
 */
const parsed = new Map<string, Template[]>();

function parse(field: TemplateField, source: string, liquid: Liquid): Template[] {
  const key = `${liquid === htmlLiquid ? 'h' : 't'}\u0000${source}`;
  let t = parsed.get(key);
  if (!t) {
    try {
      t = liquid.parse(source);
    } catch (e) {
      throw asTemplateError(field, e);
    }
    if (parsed.size >= 500) parsed.clear();
    parsed.set(key, t);
  }
  return t;
}

function render(field: TemplateField, source: string, scope: object, liquid: Liquid): string {
  const t = parse(field, source, liquid);
  try {
    return String(liquid.renderSync(t, scope));
  } catch (e) {
    throw asTemplateError(field, e);
  }
}

function asTemplateError(field: TemplateField, e: unknown): TemplateError {
  const err = e as { message?: string; token?: { getPosition?: () => [number, number] } };
  const [line, column] = err.token?.getPosition?.() ?? [1, 1];
  // liquidjs appends ", line:2, col:5" to its messages; we report those as fields instead.
  const message = String(err.message ?? e).replace(/,\s*line:\d+,\s*col:\d+\s*$/, '');
  return new TemplateError({ field, line, column, message });
}

/** One line, whatever the lead's data holds: CR or LF in a header would start a new header. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
}

/** A one-line field (a subject, a name) rendered as text; throws TemplateError. */
export function renderLine(source: string, scope: RenderScope): string {
  return oneLine(render('subject', source, scope, textLiquid));
}

export function renderTemplate(t: TemplateSource, scope: RenderScope): RenderedEmail {
  const kind = t.kind ?? 'marketing';
  const locale = t.locale ?? 'en';
  const subject = renderLine(t.subject, scope);
  const preheader = t.preheader?.trim() ? oneLine(render('preheader', t.preheader, scope, textLiquid)) || null : null;
  const contentHtml = t.html?.trim() ? render('html', t.html, scope, htmlLiquid) : textToHtml(render('body', t.body ?? '', scope, htmlLiquid));
  const layout = { workspace: scope.workspace, unsubscribeUrl: scope.unsubscribe_url, preferencesUrl: scope.preferences_url, locale, kind };
  const html = wrapInLayout({ ...layout, contentHtml, subject, preheader });
  const handWritten = t.html?.trim() && t.body?.trim() ? render('body', t.body, scope, textLiquid).trim() : null;
  const text = `${handWritten ?? htmlToText(contentHtml)}\n\n${textFooter(layout)}\n`;
  return { subject, preheader, html, text };
}

/**
 * Plain text (already escaped by the HTML engine) as simple HTML: blank lines part paragraphs,
 * "1." and "-" lines become lists, bare URLs become links.
 */
export function textToHtml(escaped: string): string {
  const blocks = escaped.replace(/\r\n?/g, '\n').trim().split(/\n{2,}/);
  return blocks
    .filter((b) => b.trim())
    .map((block) => {
      const lines = block.split('\n').map((l) => l.trim());
      if (lines.every((l) => /^\d+[.)]\s/.test(l))) return `<ol>${lines.map((l) => `<li>${autolink(l.replace(/^\d+[.)]\s+/, ''))}</li>`).join('')}</ol>`;
      if (lines.every((l) => /^[-*•]\s/.test(l))) return `<ul>${lines.map((l) => `<li>${autolink(l.replace(/^[-*•]\s+/, ''))}</li>`).join('')}</ul>`;
      return `<p>${lines.map(autolink).join('<br>')}</p>`;
    })
    .join('\n');
}

function autolink(escapedLine: string): string {
  return escapedLine.replace(/\bhttps?:\/\/[^\s<]+[^\s<.,;:!?)»"']/g, (url) => `<a href="${url}">${url}</a>`);
}

/** Every Liquid problem in a template, for the editor and for publishing a flow. */
export function validateTemplate(t: TemplateSource): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  if (/[\r\n]/.test(t.subject)) issues.push({ field: 'subject', line: 1, column: 1, message: 'the subject must be one line' });
  const fields: [TemplateField, string | null | undefined, Liquid][] = [
    ['subject', t.subject, textLiquid],
    ['preheader', t.preheader, textLiquid],
    ['html', t.html, htmlLiquid],
    ['body', t.body, t.html?.trim() ? textLiquid : htmlLiquid]
  ];
  for (const [field, source, liquid] of fields) {
    if (!source) continue;
    try {
      // Rendering with a sample lead also finds errors only rendering shows (limits, bad arguments).
      render(field, source, sampleScope(), liquid);
    } catch (e) {
      if (e instanceof TemplateError) issues.push(e.issue);
      else throw e;
    }
  }
  return issues;
}

/** A lead row as templates see it: the first name split off, attributes parsed. */
export function leadScope(lead: Record<string, unknown> & { name?: string | null; attributes?: unknown }): Record<string, unknown> {
  const attributes = typeof lead.attributes === 'string' ? safeJson(lead.attributes) : (lead.attributes ?? {});
  return { ...lead, first_name: (lead.name ?? '').trim().split(/\s+/)[0] ?? '', attributes };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}

export function sampleScope(workspace: Workspace = { name: 'Nurture', address: '' }): RenderScope {
  return {
    lead: leadScope({ name: 'Anna Smirnova', email: 'anna@example.com', company: 'Romashka LLC', job_title: 'Marketing lead', city: 'Moscow', attributes: {} }),
    owner: { name: 'Ivan Petrov', email: 'ivan@example.com' },
    unsubscribe_url: 'https://example.com/unsubscribe',
    preferences_url: 'https://example.com/preferences',
    workspace
  };
}
