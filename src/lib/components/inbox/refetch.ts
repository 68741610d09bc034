/**
 * Wraps a loader so bursts of live messages cost one request in flight plus at most one more:
 * a change that arrives mid-request is not lost, and ten changes do not mean ten requests.
 */
export function coalesced(load: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await load();
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => void run();
}
