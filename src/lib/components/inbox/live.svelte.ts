/**
 * Follows the inbox's server-sent events and calls `onChange` on every change, and once more
 * after each (re)connect so nothing missed while away stays missing. EventSource retries a dropped
 * stream by itself; when the server refuses outright (a restart, a 5xx) it gives up, so we open a
 * new one with a growing delay. A slow re-read besides catches changes made by a worker in another
 * process, which the server's live bus does not reach (src/lib/server/live-bus.ts).
 */
const SLOW_POLL_MS = 30_000;

export class LiveUpdates {
  status = $state<'connecting' | 'live' | 'offline'>('connecting');
  #source: EventSource | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = 1000;
  #stopped = false;
  #poll: ReturnType<typeof setInterval> | undefined;

  constructor(
    private url: string,
    private onChange: () => void
  ) {}

  start() {
    this.#stopped = false;
    this.#open();
    this.#poll = setInterval(() => this.onChange(), SLOW_POLL_MS);
    return () => this.stop();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    this.#source?.close();
    this.#source = null;
  }

  #open() {
    const source = new EventSource(this.url);
    this.#source = source;
    source.addEventListener('ready', () => {
      this.status = 'live';
      this.#delay = 1000;
      this.onChange();
    });
    source.addEventListener('change', () => this.onChange());
    source.onerror = () => {
      if (this.#stopped) return;
      this.status = 'offline';
      if (source.readyState !== EventSource.CLOSED) return; // the browser is already retrying
      source.close();
      this.#timer = setTimeout(() => this.#open(), this.#delay);
      this.#delay = Math.min(this.#delay * 2, 30_000);
    };
  }
}
