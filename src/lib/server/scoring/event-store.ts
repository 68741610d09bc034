import type { ReplaySource } from './replay';
import type { EventFactColumns } from './event-facts';

/**
 * Every lead event the what-if may need, held in memory as columns (about 20 bytes an event, so a
 * million events is ~20 MB) and grouped per lead in time order. Reading a million events from
 * SQLite is most of a cold what-if, while replaying them under a draft takes well under a second:
 * so the events are read once, and afterwards only rows with a higher rowid (events are appended,
 * never inserted in between) are added.
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
  private cols = {
    lead: new Int32Array(1024),
    at: new Float64Array(1024),
    type: new Uint16Array(1024),
    url: new Int32Array(1024),
    machine: new Uint8Array(1024),
    adjust: new Float64Array(1024)
  };
  /** Where each lead key's events start in the (sorted) columns; rebuilt after an append. */
  private start = new Int32Array(0);
  private dirty = true;

  /**
   * Adds parsed events (see event-facts.ts), all with rowids up to `throughRowid`: the chunk's own
   * lead, type and url codes are mapped onto the store's.
   */
  append(chunk: EventFactColumns, throughRowid: number) {
    while (this.count + chunk.count > this.cols.lead.length) this.grow();
    const leads = chunk.leadIds.map((id) => {
      let k = this.leadKey.get(id);
      if (k === undefined) this.leadKey.set(id, (k = this.leadKey.size));
      return k;
    });
    const types = chunk.types.map((t) => this.intern(t, this.types, this.typeCode));
    const urls = chunk.urls.map((u) => this.intern(u, this.urls, this.urlCode));
    const { cols } = this;
    const base = this.count;
    for (let i = 0; i < chunk.count; i++) {
      const n = base + i;
      cols.lead[n] = leads[chunk.lead[i]];
      cols.type[n] = types[chunk.type[i]];
      cols.url[n] = chunk.url[i] < 0 ? -1 : urls[chunk.url[i]];
    }
    cols.at.set(chunk.at, base);
    cols.machine.set(chunk.machine, base);
    cols.adjust.set(chunk.adjust, base);
    this.count += chunk.count;
    this.lastRowid = Math.max(this.lastRowid, throughRowid);
    this.dirty = true;
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
    const grown = <T extends Int32Array | Float64Array | Uint16Array | Uint8Array>(
      a: T,
      make: (n: number) => T
    ) => {
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

  /**
   * Puts the columns in lead order (a stable counting sort, so rowid order within a lead), then in
   * time order within each lead, so a lead's events sit side by side and the replay reads them
   * straight from the columns.
   */
  private index() {
    if (!this.dirty) return;
    const leads = this.leadKey.size;
    const n = this.count;
    const start = new Int32Array(leads + 1);
    const { cols } = this;
    for (let i = 0; i < n; i++) start[cols.lead[i] + 1]++;
    for (let k = 0; k < leads; k++) start[k + 1] += start[k];
    const fill = start.slice(0, leads);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[fill[cols.lead[i]]++] = i;
    for (let k = 0; k < leads; k++) {
      // Insertion sort: rows arrive nearly in time order, so this is close to one pass.
      for (let j = start[k] + 1; j < start[k + 1]; j++) {
        const v = order[j];
        let m = j - 1;
        while (m >= start[k] && cols.at[order[m]] > cols.at[v]) {
          order[m + 1] = order[m];
          m--;
        }
        order[m + 1] = v;
      }
    }
    const permute = <T extends Int32Array | Float64Array | Uint16Array | Uint8Array>(a: T, b: T) => {
      for (let i = 0; i < n; i++) b[i] = a[order[i]];
      return b;
    };
    const size = cols.lead.length;
    this.cols = {
      lead: permute(cols.lead, new Int32Array(size)),
      at: permute(cols.at, new Float64Array(size)),
      type: permute(cols.type, new Uint16Array(size)),
      url: permute(cols.url, new Int32Array(size)),
      machine: permute(cols.machine, new Uint8Array(size)),
      adjust: permute(cols.adjust, new Float64Array(size))
    };
    this.start = start;
    this.dirty = false;
  }

  /** A reusable view of one lead's events; valid until the next call. */
  view(): { of(leadId: string): ReplaySource } {
    this.index();
    const { cols, types, urls, start } = this;
    const src: ReplaySource = {
      from: 0,
      length: 0,
      at: cols.at,
      type: cols.type,
      typeNames: types,
      url: cols.url,
      urls,
      machine: cols.machine,
      adjust: cols.adjust
    };
    return {
      of: (leadId) => {
        const k = this.leadKey.get(leadId);
        src.from = k === undefined ? 0 : start[k];
        src.length = k === undefined ? 0 : start[k + 1] - start[k];
        return src;
      }
    };
  }
}
