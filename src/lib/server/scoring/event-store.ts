import type { ReplaySource } from './replay';

/** One event row as the store takes it (from scoringLab's eventFactsSince). */
export type EventFactRow = [rowid: number, leadId: string, type: string, at: number, url: string | null, machine: number, adjust: number | null];

/**
 * Every lead event the what-if may need, held in memory as columns (about 20 bytes an event, so a
 * million events is ~20 MB) and grouped per lead in time order. Reading a million events from
 * SQLite took 1.5–2.5 s on this machine, over the what-if's whole budget, while replaying them
 * under a draft takes well under a second: so the events are read once, and afterwards only rows
 * with a higher rowid (events are appended, never inserted in between) are added.
 *
 * Limits (why the owner reloads it fully every few minutes, and the rescore never uses it): a
 * merge moves events to another lead, and the scanner sweep flags a click as a machine's a moment
 * after it was stored; both change old rows, which an append-only refresh does not see.
 */
export class EventStore {
  lastRowid = 0;
  count = 0;
  private leadKey = new Map<string, number>();
  private types: string[] = [];
  private typeCode = new Map<string, number>();
  private urls: string[] = [];
  private urlCode = new Map<string, number>();
  private cols = { lead: new Int32Array(1024), at: new Float64Array(1024), type: new Uint16Array(1024), url: new Int32Array(1024), machine: new Uint8Array(1024), adjust: new Float64Array(1024) };
  /** Event positions grouped per lead key, each group in time order; rebuilt after an append. */
  private order = new Int32Array(0);
  private start = new Int32Array(0);
  private dirty = true;

  append(rows: Iterable<EventFactRow>) {
    for (const [rowid, leadId, type, at, url, machine, adjust] of rows) {
      if (this.count === this.cols.lead.length) this.grow();
      const i = this.count++;
      let lk = this.leadKey.get(leadId);
      if (lk === undefined) this.leadKey.set(leadId, (lk = this.leadKey.size));
      this.cols.lead[i] = lk;
      this.cols.at[i] = at;
      this.cols.type[i] = this.intern(type, this.types, this.typeCode);
      this.cols.url[i] = url === null ? -1 : this.intern(url, this.urls, this.urlCode);
      this.cols.machine[i] = machine ? 1 : 0;
      this.cols.adjust[i] = adjust === null ? NaN : Number(adjust);
      this.lastRowid = rowid;
      this.dirty = true;
    }
  }

  private intern(s: string, list: string[], codes: Map<string, number>) {
    let c = codes.get(s);
    if (c === undefined) {
      codes.set(s, (c = list.length));
      list.push(s);
    }
    return c;
  }

  private grow() {
    const n = this.cols.lead.length * 2;
    const grown = <T extends Int32Array | Float64Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T) => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.cols = {
      lead: grown(this.cols.lead, (k) => new Int32Array(k)),
      at: grown(this.cols.at, (k) => new Float64Array(k)),
      type: grown(this.cols.type, (k) => new Uint16Array(k)),
      url: grown(this.cols.url, (k) => new Int32Array(k)),
      machine: grown(this.cols.machine, (k) => new Uint8Array(k)),
      adjust: grown(this.cols.adjust, (k) => new Float64Array(k))
    };
  }

  /** Counting sort by lead (stable, so rowid order within a lead), then time order within each lead. */
  private index() {
    if (!this.dirty) return;
    const leads = this.leadKey.size;
    const start = new Int32Array(leads + 1);
    for (let i = 0; i < this.count; i++) start[this.cols.lead[i] + 1]++;
    for (let k = 0; k < leads; k++) start[k + 1] += start[k];
    const fill = start.slice(0, leads);
    const order = new Int32Array(this.count);
    for (let i = 0; i < this.count; i++) order[fill[this.cols.lead[i]]++] = i;
    const at = this.cols.at;
    for (let k = 0; k < leads; k++) {
      // Insertion sort: rows arrive nearly in time order, so this is close to one pass.
      for (let j = start[k] + 1; j < start[k + 1]; j++) {
        const v = order[j];
        let m = j - 1;
        while (m >= start[k] && at[order[m]] > at[v]) {
          order[m + 1] = order[m];
          m--;
        }
        order[m + 1] = v;
      }
    }
    this.order = order;
    this.start = start;
    this.dirty = false;
  }

  /** A reusable view of one lead's events; valid until the next call. */
  view(): { of(leadId: string): ReplaySource } {
    this.index();
    let from = 0;
    let length = 0;
    const { order, cols, types, urls } = this;
    const src: ReplaySource = {
      get length() {
        return length;
      },
      at: (i) => cols.at[order[from + i]],
      type: (i) => types[cols.type[order[from + i]]],
      url: (i) => {
        const u = cols.url[order[from + i]];
        return u < 0 ? null : urls[u];
      },
      machine: (i) => cols.machine[order[from + i]] === 1,
      adjust: (i) => {
        const a = cols.adjust[order[from + i]];
        return Number.isNaN(a) ? null : a;
      }
    };
    return {
      of: (leadId) => {
        const k = this.leadKey.get(leadId);
        from = k === undefined ? 0 : this.start[k];
        length = k === undefined ? 0 : this.start[k + 1] - this.start[k];
        return src;
      }
    };
  }
}
