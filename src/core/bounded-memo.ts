/**
 * Results of a pure function by text key, bounded: cleared when full, so hostile input (a new
 * name or address in every header) cannot grow it. For hot paths where the same few keys recur —
 * the trace-back sees the same relays and providers in every Received chain of a mailbox.
 */
export class BoundedMemo<V> {
  readonly #map = new Map<string, V>();

  constructor(
    /** What computes a value the first time a key is seen; pass a function, not a new closure per call. */
    private readonly compute: (key: string) => V,
    private readonly max = 8192,
  ) {}

  get(key: string): V {
    const known = this.#map.get(key);
    if (known !== undefined || this.#map.has(key)) return known as V;
    const value = this.compute(key);
    if (this.#map.size >= this.max) this.#map.clear();
    this.#map.set(key, value);
    return value;
  }

  get size(): number {
    return this.#map.size;
  }
}
