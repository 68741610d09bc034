/**
 * Streams CSV lines as a download without holding the file in memory. `filename` may hold any
 * letters (RFC 5987 `filename*`); `fallback` is the plain ASCII name for old clients.
 */
export function csvResponse(lines: AsyncGenerator<string>, filename: string, fallback = filename): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    }
  });
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${fallback.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
      'Cache-Control': 'no-store'
    }
  });
}
