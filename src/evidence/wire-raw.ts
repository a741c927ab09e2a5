/**
 * Moving raw message bytes to the SQLite commit thread. Structured clone copies every Buffer as
 * its own ArrayBuffer, which for thousands of small messages costs more main-thread time than the
 * work the thread saves; instead the raws of one commit are copied once into a single buffer that
 * is *transferred* (no copy), and the thread takes views of it.
 */
import type { HashedMessage } from './store.ts';
import type { WireUnit } from './store-units.ts';

/** A hashed message on the wire: its raw bytes are `[offset, offset + size)` of the packed buffer. */
type PackedMessage = Omit<HashedMessage, 'raw'> & { rawOffset: number };

function isHashed(m: WireUnit['items'][number]['message']): m is HashedMessage {
  return 'raw' in m;
}

/** Copies the raws of the units' hashed messages into one transferable buffer. Units are not changed. */
export function packRaw(units: WireUnit[]): { units: WireUnit[]; buffer: ArrayBuffer } {
  let total = 0;
  for (const u of units) for (const it of u.items) if (isHashed(it.message)) total += it.message.raw.length;
  const buffer = new ArrayBuffer(total);
  const view = new Uint8Array(buffer);
  let offset = 0;
  const packed = units.map((u) => ({
    items: u.items.map((it) => {
      const m = it.message;
      if (!isHashed(m)) return it;
      view.set(m.raw, offset);
      const p: PackedMessage = { sha256: m.sha256, kind: m.kind, size: m.size, rawOffset: offset };
      offset += m.raw.length;
      return { input: it.input, message: p as unknown as HashedMessage };
    }),
  }));
  return { units: packed, buffer };
}

/** Inverse of {@link packRaw}, in the thread: every packed message gets a view of its bytes. */
export function unpackRaw(units: WireUnit[], buffer: ArrayBuffer): WireUnit[] {
  return units.map((u) => ({
    items: u.items.map((it) => {
      const m = it.message as unknown as PackedMessage | WireUnit['items'][number]['message'];
      if (!('rawOffset' in m)) return it;
      const { rawOffset, ...rest } = m;
      return { input: it.input, message: { ...rest, raw: new Uint8Array(buffer, rawOffset, m.size) } };
    }),
  }));
}
