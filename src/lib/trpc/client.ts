import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '$lib/server/trpc/router';

/** The browser's typed client; the session cookie rides along on same-origin requests. */
export const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: '/api/trpc' })]
});

/** Field-level issues from a BAD_REQUEST, keyed by field, for showing beside inputs. */
export function fieldErrors(e: unknown): Record<string, string> {
  if (e instanceof TRPCClientError) {
    const issues = (e.data as { issues?: { field: string; message: string }[] } | undefined)?.issues;
    if (issues) return Object.fromEntries(issues.map((i) => [i.field.replace(/^patch\./, ''), i.message]));
  }
  return {};
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
