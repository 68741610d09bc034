/**
 * The plain-text part from an email's HTML: headings, paragraphs, lists and links read as a person
 * would write them ("text (url)"). Written for email HTML, which is simple and ours to shape; it is
 * not a browser and does not try to be one.
 */

const BLOCK = new Set(['p', 'div', 'section', 'article', 'header', 'footer', 'table', 'tr', 'blockquote', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'center']);
const SKIP = new Set(['head', 'style', 'script', 'title', 'template']);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', mdash: '—', ndash: '–', laquo: '«', raquo: '»', hellip: '…', copy: '©' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') {
      const code = e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[e.toLowerCase()] ?? whole;
  });
}

function attr(attrs: string, name: string): string | null {
  const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  return m ? decodeEntities(m[2] ?? m[3] ?? m[4] ?? '') : null;
}

interface ListState {
  ordered: boolean;
  n: number;
}

export function htmlToText(html: string): string {
  const out: string[] = [];
  const lists: ListState[] = [];
  const links: { href: string | null; start: number }[] = [];
  let skipping: string | null = null;
  let heading: { level: number; start: number } | null = null;
  let pre = 0;

  // Newlines at the end of what is written so far (-1 when nothing is written yet).
  const trailingNewlines = () => {
    let n = 0;
    for (let i = out.length - 1; i >= 0; i--) {
      const piece = out[i];
      const run = piece.length - piece.replace(/\n+$/, '').length;
      n += run;
      if (run < piece.length) return n;
    }
    return n === 0 ? -1 : n;
  };
  const newline = (count: number) => {
    const current = trailingNewlines();
    if (current >= 0 && current < count) out.push('\n'.repeat(count - current));
  };

  const source = html.replace(/<!--[\s\S]*?-->/g, '');
  const tokens = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>|([^<]+)/g;
  for (let m = tokens.exec(source); m; m = tokens.exec(source)) {
    const [, closing, rawTag, attrs, chunk] = m;
    if (chunk !== undefined) {
      if (skipping) continue;
      const t = pre ? decodeEntities(chunk) : decodeEntities(chunk.replace(/\s+/g, ' '));
      // Text at the start of a line does not begin with the space that stood for a line break.
      out.push(trailingNewlines() !== 0 && !pre ? t.replace(/^ +/, '') : t);
      continue;
    }
    const tag = rawTag.toLowerCase();
    if (skipping) {
      if (closing && tag === skipping) skipping = null;
      continue;
    }
    if (SKIP.has(tag) && !closing) {
      if (!/\/\s*$/.test(attrs)) skipping = tag;
      continue;
    }
    // The preheader is for the inbox list only; the text part has its own first line.
    if (!closing && /display\s*:\s*none/i.test(attr(attrs, 'style') ?? '')) {
      skipping = tag;
      continue;
    }
    if (tag === 'br') {
      out.push('\n');
      continue;
    }
    if (tag === 'hr') {
      newline(2);
      out.push('----------');
      newline(2);
      continue;
    }
    if (tag === 'img' && !closing) {
      const alt = attr(attrs, 'alt');
      if (alt) out.push(alt);
      continue;
    }
    if (tag === 'a') {
      if (!closing) links.push({ href: attr(attrs, 'href'), start: out.length });
      else closeLink(out, links.pop());
      continue;
    }
    if (tag === 'ul' || tag === 'ol') {
      if (!closing) lists.push({ ordered: tag === 'ol', n: 0 });
      else lists.pop();
      newline(lists.length ? 1 : 2);
      continue;
    }
    if (tag === 'li') {
      if (closing) continue;
      newline(1);
      const list = lists.at(-1) ?? { ordered: false, n: 0 };
      list.n++;
      out.push('  '.repeat(Math.max(0, lists.length - 1)) + (list.ordered ? `${list.n}. ` : '- '));
      continue;
    }
    if (/^h[1-6]$/.test(tag)) {
      newline(2);
      if (!closing) heading = { level: Number(tag[1]), start: out.length };
      else if (heading) {
        // Top headings shout, as plain-text mail has done for decades; lower ones stay as written.
        const body = out.splice(heading.start).join('').trim();
        out.push(heading.level <= 2 ? body.toLocaleUpperCase() : body);
        heading = null;
        newline(2);
      }
      continue;
    }
    if (tag === 'pre') pre += closing ? -1 : 1;
    if (tag === 'td' || tag === 'th') {
      if (closing) out.push(' ');
      continue;
    }
    if (BLOCK.has(tag)) newline(2);
  }
  return tidy(out.join(''));
}

function closeLink(out: string[], link: { href: string | null; start: number } | undefined) {
  if (!link) return;
  const label = out.slice(link.start).join('').trim();
  const href = link.href?.trim() ?? '';
  if (!href || href.startsWith('#') || /^javascript:/i.test(href)) return;
  const shown = href.replace(/^mailto:/i, '');
  if (!label) out.push(shown);
  else if (label !== shown && label !== href) out.push(` (${shown})`);
}

function tidy(s: string): string {
  return s
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
