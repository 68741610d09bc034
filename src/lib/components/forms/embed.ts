/** The two ways a form reaches visitors: its hosted page and the one-line snippet. */
export function hostedUrl(base: string, slug: string): string {
  return `${base.replace(/\/+$/, '')}/f/${slug}`;
}

export function embedSnippet(base: string, slug: string): string {
  return `<script src="${base.replace(/\/+$/, '')}/embed.js" data-nurture-form="${slug}" async></script>`;
}

/** Copies text; answers false where the clipboard is not available (plain http on a LAN). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
