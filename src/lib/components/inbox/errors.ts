import { TRPCClientError } from '@trpc/client';
import { fieldErrors } from '$lib/trpc/client';

/** The tRPC error code (CONFLICT, FORBIDDEN, ...) of a failed call, if it was one. */
export function trpcCode(e: unknown): string | undefined {
  return e instanceof TRPCClientError ? (e.data as { code?: string } | undefined)?.code : undefined;
}

/** Field errors with a wrapping object's prefix removed (`bant.budget` -> `budget`). */
export function fieldErrorsWithin(e: unknown, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(fieldErrors(e)).map(([k, v]) => [k.startsWith(`${prefix}.`) ? k.slice(prefix.length + 1) : k, v]));
}
