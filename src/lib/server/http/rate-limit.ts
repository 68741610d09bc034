/**
 * Fixed-window counters in memory: enough for one server process. A key that goes over its
 * limit is refused until its window ends. Old windows are swept as new ones open.
 */
export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  private lastSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now
  ) {}

  /** Counts a hit; answers whether it is allowed and when the key may try again. */
  hit(key: string): { allowed: boolean; retryAfterMs: number } {
    const t = this.now();
    this.sweep(t);
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      w = { start: t, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return { allowed: w.count <= this.limit, retryAfterMs: w.start + this.windowMs - t };
  }

  /** Whether a key is over its limit now, without counting a hit. */
  blocked(key: string): boolean {
    const w = this.windows.get(key);
    return !!w && this.now() - w.start < this.windowMs && w.count >= this.limit;
  }

  reset(key: string) {
    this.windows.delete(key);
  }

  private sweep(t: number) {
    if (t - this.lastSweep < this.windowMs) return;
    this.lastSweep = t;
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }
}
