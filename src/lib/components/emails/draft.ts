/** A template as the editor holds it; matches the server's templateInput. */
export interface TemplateForm {
  slug: string;
  name: string;
  subject: string;
  preheader: string | null;
  html: string | null;
  body: string;
  kind: 'marketing' | 'transactional';
  topic: string | null;
  locale: 'en' | 'ru';
}

export interface LiquidIssue {
  field: 'subject' | 'preheader' | 'html' | 'body';
  line: number;
  column: number;
  message: string;
}

export function blankTemplate(locale: 'en' | 'ru'): TemplateForm {
  return {
    slug: '',
    name: '',
    subject: locale === 'ru' ? '{{ lead.first_name | default: "Здравствуйте" }}, новости' : 'News for {{ lead.first_name | default: "you" }}',
    preheader: null,
    html: locale === 'ru' ? '<h1>Здравствуйте, {{ lead.first_name | default: "коллега" }}!</h1>\n<p>Текст письма.</p>\n' : '<h1>Hi {{ lead.first_name | default: "there" }},</h1>\n<p>Your text here.</p>\n',
    body: '',
    kind: 'marketing',
    topic: null,
    locale
  };
}

/** Empty optional fields go to the server as null, as stored. */
export function toInput(f: TemplateForm) {
  return { ...f, preheader: f.preheader?.trim() ? f.preheader : null, topic: f.topic?.trim() ? f.topic.trim() : null, html: f.html?.trim() ? f.html : null };
}

/** A slug from a name: latin letters, digits and dashes (Cyrillic is transliterated roughly). */
export function slugify(name: string): string {
  const map: Record<string, string> = { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'h', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'sch', ы: 'y', э: 'e', ю: 'yu', я: 'ya' };
  return name
    .toLowerCase()
    .split('')
    .map((c) => map[c] ?? c)
    .join('')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}
