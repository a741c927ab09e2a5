/**
 * postal-mime joins each decoded part with `new Blob(chunks).arrayBuffer()`; Node 20 copies the
 * parts into a native Blob and reads it back through a stream, which cost ~10 % of the whole
 * analysis in profiles. {@link installConcatBlob} (analysis threads only) replaces the global
 * Blob with a subclass that, when every part is bytes or a string, keeps the parts and
 * concatenates them directly: same bytes (strings UTF-8 encoded, as Blob does), same API; any
 * other use (Blob parts, `endings: 'native'`, `slice`, `stream`) goes through a real Blob.
 */
const NativeBlob = globalThis.Blob;
const utf8 = new TextEncoder();

/** The parts as byte views, or null when one is not bytes or a string (a Blob: keep the native path). */
function byteParts(parts: readonly BlobPart[] | undefined, options: BlobPropertyBag | undefined): Uint8Array[] | null {
  if (options?.endings === 'native') return null;
  const views: Uint8Array[] = [];
  for (const p of parts ?? []) {
    if (typeof p === 'string') views.push(utf8.encode(p));
    else if (p instanceof ArrayBuffer) views.push(new Uint8Array(p));
    else if (ArrayBuffer.isView(p)) views.push(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    else return null;
  }
  return views;
}

export class ConcatBlob extends NativeBlob {
  readonly #parts: readonly Uint8Array[] | null;
  readonly #size: number;

  constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
    const views = byteParts(parts, options);
    super(views ? [] : parts, options);
    this.#parts = views;
    this.#size = views ? views.reduce((n, v) => n + v.byteLength, 0) : 0;
  }

  override get size(): number {
    return this.#parts ? this.#size : super.size;
  }

  /** A real Blob with the same content, for the rarely used parts of the API. */
  #native(): Blob {
    return this.#parts ? new NativeBlob(this.#parts.map((v) => new Uint8Array(v)), { type: this.type }) : this;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    if (!this.#parts) return super.arrayBuffer();
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return Promise.resolve(out.buffer);
  }

  override text(): Promise<string> {
    if (!this.#parts) return super.text();
    return this.arrayBuffer().then((b) => new TextDecoder().decode(b));
  }

  override slice(start?: number, end?: number, contentType?: string): Blob {
    const n = this.#native();
    return n === this ? super.slice(start, end, contentType) : n.slice(start, end, contentType);
  }

  override stream(): ReturnType<Blob['stream']> {
    const n = this.#native();
    return n === this ? super.stream() : n.stream();
  }
}

/** Makes `new Blob(…)` a {@link ConcatBlob} in this thread. */
export function installConcatBlob(): void {
  globalThis.Blob = ConcatBlob;
}
