/**
 * The scoring lab's events as columns, parsed from the text the lab repository's `eventFacts`
 * statement packs (fields split by U+001F: lead id, type, time, url or empty, machine 0/1, adjust
 * or empty; events split by U+001E).
 *
 * `parseEventFacts` must stay self-contained (no imports, no outer names): the parallel reader
 * sends its source text to a worker thread, so half the events are read and parsed there.
 */
export interface EventFactColumns {
  count: number;
  /** Lead ids, types and urls in order of first appearance; the columns hold their positions. */
  leadIds: string[];
  types: string[];
  urls: string[];
  lead: Int32Array;
  type: Uint16Array;
  /** -1 where the event has no url. */
  url: Int32Array;
  at: Float64Array;
  machine: Uint8Array;
  /** NaN where the event is not a flow's adjust_score. */
  adjust: Float64Array;
}

export function parseEventFacts(text: string | null): EventFactColumns {
  const end = text ? text.length : 0;
  // Events are about 40 characters packed, so this over-sizes; the columns are cut to fit at the end.
  let size = Math.max(16, Math.ceil(end / 24));
  let lead = new Int32Array(size);
  let type = new Uint16Array(size);
  let url = new Int32Array(size);
  let at = new Float64Array(size);
  let machine = new Uint8Array(size);
  let adjust = new Float64Array(size);
  const leadIds: string[] = [];
  const types: string[] = [];
  const urls: string[] = [];
  const leadCode = new Map<string, number>();
  const typeCode = new Map<string, number>();
  const urlCode = new Map<string, number>();
  // A string's position in its list, added at the end when new.
  const intern = (v: string, codes: Map<string, number>, list: string[]) => {
    let c = codes.get(v);
    if (c === undefined) {
      codes.set(v, (c = list.length));
      list.push(v);
    }
    return c;
  };
  let n = 0;
  let i = 0;
  while (text && i < end) {
    if (n === size) {
      size *= 2;
      const grow = <T extends Int32Array | Uint16Array | Float64Array | Uint8Array>(a: T, b: T) => (
        b.set(a),
        b
      );
      lead = grow(lead, new Int32Array(size));
      type = grow(type, new Uint16Array(size));
      url = grow(url, new Int32Array(size));
      at = grow(at, new Float64Array(size));
      machine = grow(machine, new Uint8Array(size));
      adjust = grow(adjust, new Float64Array(size));
    }
    let j = text.indexOf('\u001f', i);
    lead[n] = intern(text.slice(i, j), leadCode, leadIds);
    i = j + 1;
    j = text.indexOf('\u001f', i);
    type[n] = intern(text.slice(i, j), typeCode, types);
    i = j + 1;
    j = text.indexOf('\u001f', i);
    at[n] = Number(text.slice(i, j));
    i = j + 1;
    j = text.indexOf('\u001f', i);
    url[n] = i === j ? -1 : intern(text.slice(i, j), urlCode, urls);
    i = j + 1;
    machine[n] = text.charCodeAt(i) === 49 ? 1 : 0;
    i = text.indexOf('\u001f', i) + 1;
    j = text.indexOf('\u001e', i);
    if (j < 0) j = end;
    adjust[n] = i === j ? NaN : Number(text.slice(i, j));
    i = j + 1;
    n++;
  }
  return {
    count: n,
    leadIds,
    types,
    urls,
    lead: lead.slice(0, n),
    type: type.slice(0, n),
    url: url.slice(0, n),
    at: at.slice(0, n),
    machine: machine.slice(0, n),
    adjust: adjust.slice(0, n)
  };
}
