/**
 * The default button icon as PNG at any size (Office and the browsers want PNGs at fixed sizes):
 * a disc in the brand's colour with a white exclamation mark, anti-aliased by 4×4 supersampling.
 * A national body replaces them with its own (`iconsDir` in the brand file).
 */
import zlib from 'node:zlib';

/** A PNG (RFC 2083) of the icon, `size`×`size` pixels, RGBA. */
export function renderIcon(size: number, color: string, options: { outline?: boolean } = {}): Buffer {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(color.slice(i, i + 2), 16));
  const rows: Buffer[] = [];
  const SS = 4;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      let disc = 0;
      let mark = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const u = (x + (sx + 0.5) / SS) / size - 0.5;
          const v = (y + (sy + 0.5) / SS) / size - 0.5;
          const inDisc = u * u + v * v <= 0.48 * 0.48;
          const inRing = inDisc && u * u + v * v >= 0.38 * 0.38;
          const inBar = Math.abs(u) <= 0.07 && v >= -0.3 && v <= 0.1;
          const inDot = u * u + (v - 0.24) * (v - 0.24) <= 0.075 * 0.075;
          if (options.outline ? inRing || inBar || inDot : inDisc) disc++;
          if (!options.outline && inDisc && (inBar || inDot)) mark++;
        }
      }
      const n = SS * SS;
      const o = 1 + x * 4;
      // Outline icons (Teams/Office "outline" slot) are white on transparent.
      const [cr, cg, cb] = options.outline ? [255, 255, 255] : [r, g, b];
      const m = mark / n;
      row[o] = Math.round(cr * (1 - m) + 255 * m);
      row[o + 1] = Math.round(cg * (1 - m) + 255 * m);
      row[o + 2] = Math.round(cb * (1 - m) + 255 * m);
      row[o + 3] = Math.round((255 * disc) / n);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}
