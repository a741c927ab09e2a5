/**
 * Streaming mbox splitter (mboxo and mboxrd, RFC 4155). Memory stays bounded by the largest
 * message (and never above `maxMessageBytes`: a larger entry is skipped and reported).
 *
 * - A message starts after a `From ` separator line at the start of the file or after an empty line.
 * - The empty line before the next separator belongs to the mbox format, not to the message.
 * - mboxrd quotes every `>*From ` line with one more `>`; mboxo quotes only `From ` as `>From `.
 *   Unquoting removes one `>` from `>+From ` (mboxrd) or from `>From ` only (mboxo).
 */

export type MboxFormat = 'mboxrd' | 'mboxo';

export interface MboxEntry {
  /** The message bytes, unquoted, separator line and trailing blank line removed. */
  raw: Buffer | null;
  /** Byte offset of the separator line in the file. */
  offset: number;
  /** 1-based line number of the separator line. */
  line: number;
  /** The `From ` separator line (envelope sender and date), without its line ending. */
  envelope: string;
  /** Set when the entry was skipped (too large). */
  problem?: string;
}

const FROM_ = Buffer.from('From ');

export class MboxSplitter {
  private partial: Buffer | null = null;
  private offset = 0;
  private lineNo = 0;
  private current: {
    parts: Buffer[];
    size: number;
    offset: number;
    line: number;
    envelope: string;
    tooLarge: boolean;
  } | null = null;
  private prevBlank = true;
  /** A blank line held back: it is dropped if the next line is a separator. */
  private heldBlank: Buffer | null = null;
  /** True after an over-long line was cut: the next bytes continue it. */
  private midLine = false;

  constructor(
    private readonly format: MboxFormat = 'mboxrd',
    private readonly maxMessageBytes = 25 * 1024 * 1024,
  ) {}

  /** Feeds a chunk; returns the entries it completed. */
  push(chunk: Buffer): MboxEntry[] {
    const out: MboxEntry[] = [];
    let buf = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = null;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) break;
      this.line(buf.subarray(start, nl + 1), out);
      start = nl + 1;
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      // A "line" longer than any message (binary junk without newlines) is cut, so memory stays bounded.
      if (rest.length > this.maxMessageBytes) {
        this.line(rest, out);
        this.midLine = true;
      } else this.partial = Buffer.from(rest);
    }
    buf = Buffer.alloc(0);
    return out;
  }

  /** Ends the input; returns the last entry. */
  end(): MboxEntry[] {
    const out: MboxEntry[] = [];
    if (this.partial && this.partial.length > 0) this.line(this.partial, out);
    this.partial = null;
    this.finish(out, true);
    return out;
  }

  /** Lines read so far. */
  get lineCount(): number {
    return this.lineNo;
  }

  private line(raw: Buffer, out: MboxEntry[]): void {
    const lineOffset = this.offset;
    this.offset += raw.length;
    if (this.midLine) {
      // The rest of a line already cut for its length: content, never a separator.
      this.midLine = false;
      this.prevBlank = false;
      this.append(raw);
      return;
    }
    this.lineNo++;
    // A UTF-8 byte-order mark before the first separator (editors add one) is not content.
    const line = this.lineNo === 1 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? raw.subarray(3) : raw;
    const isSeparator = this.prevBlank && line.length >= 5 && line.subarray(0, 5).equals(FROM_);
    const blank = line.length === 1 || (line.length === 2 && line[0] === 13);
    if (isSeparator) {
      this.heldBlank = null; // the blank line before a separator is part of the format
      this.finish(out, false);
      this.current = {
        parts: [],
        size: 0,
        offset: lineOffset,
        line: this.lineNo,
        envelope: line.toString('latin1').replace(/\r?\n$/, ''),
        tooLarge: false,
      };
      this.prevBlank = false;
      return;
    }
    this.prevBlank = blank;
    if (!this.current) {
      // Text before the first separator: not an mbox entry. Start an entry so it is reported.
      this.current = { parts: [], size: 0, offset: lineOffset, line: this.lineNo, envelope: '', tooLarge: false };
    }
    if (this.heldBlank) {
      this.append(this.heldBlank);
      this.heldBlank = null;
    }
    if (blank) {
      this.heldBlank = Buffer.from(line);
      return;
    }
    this.append(this.unquote(line));
  }

  private unquote(line: Buffer): Buffer {
    if (line[0] !== 0x3e) return line; // '>'
    let i = 0;
    while (i < line.length && line[i] === 0x3e) i++;
    const quotedFrom = line.length - i >= 5 && line.subarray(i, i + 5).equals(FROM_);
    if (!quotedFrom) return line;
    if (this.format === 'mboxo' && i !== 1) return line;
    return line.subarray(1);
  }

  private append(part: Buffer): void {
    const c = this.current;
    if (!c) return;
    c.size += part.length;
    if (c.size > this.maxMessageBytes) {
      c.tooLarge = true;
      c.parts = [];
      return;
    }
    // Copy: the chunk buffer is reused by the stream.
    c.parts.push(Buffer.from(part));
  }

  private finish(out: MboxEntry[], atEnd: boolean): void {
    const c = this.current;
    this.current = null;
    if (!c) return;
    if (atEnd && this.heldBlank) {
      // A final blank line is the mbox terminator, not message content.
      this.heldBlank = null;
    }
    if (c.tooLarge) {
      out.push({
        raw: null,
        offset: c.offset,
        line: c.line,
        envelope: c.envelope,
        problem: `message larger than ${this.maxMessageBytes} bytes (${c.size})`,
      });
      return;
    }
    if (c.envelope === '' && c.size === 0) return;
    out.push({
      raw: Buffer.concat(c.parts),
      offset: c.offset,
      line: c.line,
      envelope: c.envelope,
      ...(c.envelope === '' ? { problem: 'text before the first "From " separator line' } : {}),
    });
  }
}
