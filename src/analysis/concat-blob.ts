/**
 * postal-mime joins each decoded part with `new Blob(chunks).arrayBuffer()` (the plain-text
 * decoder pushes every line and a `'\n'` string separately). Node 20 copies the parts into a
 * native Blob and reads them back through a stream: that was a quarter of the MIME decoding time
 * even when only the read-back was short-cut, because building a native Blob is itself costly.
 *
 * {@link installConcatBlob} (analysis threads only) makes the global `Blob` a constructor that,
 * when every part is bytes or a string, returns a {@link BytesBlob}: it keeps the parts and joins
 * them on `arrayBuffer()` — same bytes (strings UTF-8 encoded, as Blob does), same API. Any other
 * use (Blob parts, `endings: 'native'`) gets a real Blob, and `instanceof Blob` holds for both.
 */
const NativeBlob = globalThis.Blob;
const utf8 = new TextEncoder();
/** The line separator postal-mime pushes after every line: encoded once. */
const LF = utf8.encode('\n');

/** The parts as byte views, or null when one is not bytes or a string (a Blob: keep the native path). */
function byteParts(parts: readonly BlobPart[] | undefined, options: BlobPropertyBag | undefined): Uint8Array[] | null {
  if (options?.endings === 'native') return null;
  const views: Uint8Array[] = [];
  for (const p of parts ?? []) {
    if (typeof p === 'string') views.push(p === '\n' ? LF : utf8.encode(p));
    else if (p instanceof ArrayBuffer) views.push(new Uint8Array(p));
    else if (ArrayBuffer.isView(p)) views.push(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    else return null;
  }
  return views;
}

/** Blob's rule for `type`: lower-cased, or empty when it has a character outside U+0020–U+007E. */
function blobType(type: string | undefined): string {
  return type !== undefined && /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : '';
}

/** A Blob made of byte parts, joined only when read. */
export class BytesBlob implements Blob {
  readonly size: number;
  readonly type: string;
  readonly #parts: readonly Uint8Array[];

  constructor(parts: readonly Uint8Array[], type: string) {
    this.#parts = parts;
    this.type = type;
    let n = 0;
    for (const p of parts) n += p.byteLength;
    this.size = n;
  }

  get [Symbol.toStringTag](): string {
    return 'Blob';
  }

  #join(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  /** A real Blob with the same content, for the rarely used parts of the API. */
  #native(): Blob {
    return new NativeBlob([this.#join()], { type: this.type });
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.#join().buffer);
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return Promise.resolve(this.#join());
  }

  text(): Promise<string> {
    return Promise.resolve(new TextDecoder().decode(this.#join()));
  }

  slice(start?: number, end?: number, contentType?: string): Blob {
    return this.#native().slice(start, end, contentType);
  }

  stream(): ReturnType<Blob['stream']> {
    return this.#native().stream();
  }
}

/** The replacement global `Blob`: a {@link BytesBlob} for byte and string parts, a native Blob otherwise. */
function ConcatBlobConstructor(parts?: BlobPart[], options?: BlobPropertyBag): Blob {
  const views = byteParts(parts, options);
  return views ? new BytesBlob(views, blobType(options?.type)) : new NativeBlob(parts, options);
}
Object.defineProperty(ConcatBlobConstructor, Symbol.hasInstance, {
  value: (x: unknown) => x instanceof NativeBlob || x instanceof BytesBlob,
});
ConcatBlobConstructor.prototype = NativeBlob.prototype;

/** Makes `new Blob(…)` return a {@link BytesBlob} for byte parts, in this thread. */
export function installConcatBlob(): void {
  // A function that returns an object acts as a constructor: `new Blob(parts)` yields what it returns.
  globalThis.Blob = ConcatBlobConstructor as unknown as typeof Blob;
}
