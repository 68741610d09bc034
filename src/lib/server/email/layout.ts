/**
 * The shared layout around every email: the sender's name, the content, and a footer with the
 * postal address and the unsubscribe and preference links. Table-based with inline styles, because
 * that is what mail clients render reliably; the content itself is the template's own HTML.
 */

export interface Workspace {
  name: string;
  /** Postal address printed in the footer (anti-spam laws in most countries ask for one). */
  address: string;
  logoUrl?: string | null;
}

export interface LayoutInput {
  /** Already rendered and escaped: the template's HTML. */
  contentHtml: string;
  subject: string;
  preheader: string | null;
  workspace: Workspace;
  unsubscribeUrl: string;
  preferencesUrl: string;
  locale: string;
  /** Transactional mail carries no unsubscribe links: it is not a subscription. */
  kind: string;
}

const FOOTER = {
  en: { why: 'You receive this email because you shared your contact with {name}.', unsubscribe: 'Unsubscribe', preferences: 'Email preferences' },
  ru: { why: 'Вы получили это письмо, потому что оставили контакты {name}.', unsubscribe: 'Отписаться', preferences: 'Настроить рассылки' }
} as const;

export function footerWords(locale: string) {
  return locale.toLowerCase().startsWith('ru') ? FOOTER.ru : FOOTER.en;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Only http(s) and mailto links may stand in an attribute we write ourselves. */
export function safeUrl(url: string): string {
  return /^(https?:|mailto:)/i.test(url.trim()) ? url.trim() : '#';
}

export function wrapInLayout(i: LayoutInput): string {
  const w = footerWords(i.locale);
  const marketing = i.kind !== 'transactional';
  const lang = i.locale.toLowerCase().startsWith('ru') ? 'ru' : 'en';
  const brand = i.workspace.logoUrl
    ? `<img src="${escapeHtml(safeUrl(i.workspace.logoUrl))}" alt="${escapeHtml(i.workspace.name)}" height="32" style="display:block;border:0;height:32px">`
    : `<span style="font-family:Arial,Helvetica,sans-serif;font-size:20px;font-weight:700;color:#1f2a24">${escapeHtml(i.workspace.name)}</span>`;
  // Clients show the first text of the body beside the subject; the padding keeps body text out of it.
  const preheader = i.preheader
    ? `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;line-height:1px;color:#f4f6f4;opacity:0">${escapeHtml(i.preheader)}${'&#8199;&#847;'.repeat(40)}</div>`
    : '';
  const links = marketing
    ? `<p style="margin:8px 0 0"><a href="${escapeHtml(safeUrl(i.unsubscribeUrl))}" style="color:#5b6b61">${w.unsubscribe}</a> · <a href="${escapeHtml(safeUrl(i.preferencesUrl))}" style="color:#5b6b61">${w.preferences}</a></p>`
    : '';
  const address = i.workspace.address ? `<p style="margin:8px 0 0">${escapeHtml(i.workspace.name)} · ${escapeHtml(i.workspace.address)}</p>` : `<p style="margin:8px 0 0">${escapeHtml(i.workspace.name)}</p>`;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(i.subject)}</title>
<style>
  .content a { color: #1d7a4c; }
  .content img { max-width: 100%; height: auto; }
  @media (max-width: 620px) { .sheet { padding: 20px 16px !important; } }
</style>
</head>
<body style="margin:0;padding:0;background:#f4f6f4">
${preheader}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f6f4">
<tr><td align="center" style="padding:24px 8px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px">
<tr><td style="padding:0 8px 16px">${brand}</td></tr>
<tr><td class="sheet content" style="background:#ffffff;border-radius:8px;padding:32px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2a24">
${i.contentHtml}
</td></tr>
<tr><td style="padding:16px 8px;font-family:Arial,Helvetica,sans-serif;font-size:12px;line-height:1.5;color:#5b6b61">
${marketing ? `<p style="margin:0">${escapeHtml(w.why.replace('{name}', i.workspace.name))}</p>` : ''}
${address}
${links}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>`;
}

/** The same footer for the plain-text part. */
export function textFooter(i: Pick<LayoutInput, 'workspace' | 'unsubscribeUrl' | 'preferencesUrl' | 'locale' | 'kind'>): string {
  const w = footerWords(i.locale);
  const lines = ['--', i.workspace.address ? `${i.workspace.name} · ${i.workspace.address}` : i.workspace.name];
  if (i.kind !== 'transactional') lines.push(`${w.unsubscribe}: ${i.unsubscribeUrl}`, `${w.preferences}: ${i.preferencesUrl}`);
  return lines.join('\n');
}
