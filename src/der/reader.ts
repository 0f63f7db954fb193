/**
 * A bounds-checked, depth-limited DER/BER reader that takes exactly the length forms libssl's
 * `ASN1_get_object` takes (`crypto/asn1/asn1_lib.c`): short and long lengths (leading zero
 * bytes allowed, so non-minimal long forms are read), and the indefinite form `0x80` for
 * constructed elements, closed by an end-of-contents `00 00`.
 *
 * @module
 */

import { DerError } from "./errors.ts";

/** Most nested constructed elements the reader enters (libssl: `ASN1_MAX_CONSTRUCTED_NEST`). */
export const MAX_DEPTH = 30;

/** An element header: identifier and length, as read from the input. */
export interface DerHeader {
  /** The first identifier byte (class, constructed bit and low tag number), e.g. 0x30, 0xa3. */
  readonly tag: number;
  /** Tag number (high-tag-number form decoded). */
  readonly tagNumber: number;
  /** Class bits: 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly tagClass: number;
  /** Whether the constructed bit is set. */
  readonly constructed: boolean;
  /** Offset of the identifier byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Content length, or -1 for the indefinite form. */
  readonly length: number;
}

/**
 * A cursor over a run of DER/BER elements: a whole input, or the contents of one constructed
 * element (definite, ending at a byte offset, or indefinite, ending at an end-of-contents).
 * It never reads outside `[pos, end)`.
 *
 * @example
 * ```ts
 * import { DerReader } from "@seed/session-tickets/der";
 * const r = new DerReader(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]));
 * const seq = r.readHeader();
 * const inner = r.enter(seq);
 * console.log(inner.readInteger()); // 7n
 * inner.finish();
 * r.leave(inner);
 * console.log(r.atEnd()); // true
 * ```
 */
export class DerReader {
  /** The input. */
  readonly bytes: Uint8Array;
  /** Current read offset. */
  pos: number;
  /** Exclusive end of this run (for an indefinite run, the end of the enclosing region). */
  readonly end: number;
  /** Whether this run ends at an end-of-contents marker instead of at `end`. */
  readonly indefinite: boolean;
  /** Nesting depth of this run. */
  readonly depth: number;

  /**
   * Creates a reader over `bytes[start, end)`.
   *
   * @param bytes The input.
   * @param start First offset of the run.
   * @param end Exclusive end of the run.
   * @param indefinite Whether the run is closed by an end-of-contents marker.
   * @param depth Nesting depth (the reader refuses to go past {@link MAX_DEPTH}).
   */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length, indefinite = false, depth = 0) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.indefinite = indefinite;
    this.depth = depth;
  }

  /** True at an end-of-contents marker `00 00` (not consumed). */
  atEoc(): boolean {
    return this.end - this.pos >= 2 && this.bytes[this.pos] === 0 && this.bytes[this.pos + 1] === 0;
  }

  /** True when no element follows: the definite end, or an end-of-contents in an indefinite run. */
  atEnd(): boolean {
    return this.indefinite ? this.atEoc() : this.pos >= this.end;
  }

  /**
   * The next element's header without consuming it, or `null` when the run has ended. A
   * malformed header throws, as libssl's `asn1_check_tlen` fails before comparing tags.
   */
  peekHeader(): DerHeader | null {
    if (this.atEnd()) return null;
    const pos = this.pos;
    const h = this.readHeader();
    this.pos = pos;
    return h;
  }

  /**
   * Whether the next element has this class and tag number (in low- or high-tag-number form,
   * which libssl does not distinguish). A malformed header throws.
   */
  nextIs(tagClass: number, tagNumber: number): boolean {
    if (this.atEnd()) return false;
    const b = this.bytes[this.pos];
    // Low-tag-number form: the identifier byte decides. A malformed header that does not
    // match is still refused later, since an element no field takes is an error.
    if ((b & 0x1f) !== 0x1f) return b >> 6 === tagClass && (b & 0x1f) === tagNumber;
    const h = this.peekHeader();
    return h !== null && h.tagClass === tagClass && h.tagNumber === tagNumber;
  }

  /** Reads an element header (identifier and length), as libssl's `ASN1_get_object` does. */
  readHeader(): DerHeader {
    this.pos = scanHeader(this.bytes, this.pos, this.end);
    return {
      tag: scanned.tag,
      tagNumber: scanned.tagNumber,
      tagClass: scanned.tag >> 6,
      constructed: (scanned.tag & 0x20) !== 0,
      start: scanned.start,
      contentStart: this.pos,
      length: scanned.length,
    };
  }

  /** A reader over the contents of a constructed element whose header was just read. */
  enter(h: DerHeader): DerReader {
    if (!h.constructed) throw new DerError("constructed element expected", h.start);
    if (this.depth + 1 > MAX_DEPTH) throw new DerError("nested too deeply", h.start);
    const end = h.length < 0 ? this.end : h.contentStart + h.length;
    return new DerReader(this.bytes, h.contentStart, end, h.length < 0, this.depth + 1);
  }

  /**
   * Checks that `inner` (from {@link DerReader.enter}) was read to its end: all of a definite
   * element, or up to and including the end-of-contents of an indefinite one.
   */
  finish(): void {
    if (this.indefinite) {
      if (!this.atEoc()) throw new DerError("missing end-of-contents", this.pos);
      this.pos += 2;
    } else if (this.pos !== this.end) {
      throw new DerError("element has trailing data", this.pos);
    }
  }

  /** Moves this reader past a child run from {@link DerReader.enter} that has been finished. */
  leave(inner: DerReader): void {
    this.pos = inner.pos;
  }

  /** Reads a primitive element's contents (after its header). */
  readContent(h: DerHeader): Uint8Array {
    if (h.length < 0) throw new DerError("indefinite length on a primitive element", h.start);
    this.pos = h.contentStart + h.length;
    return this.bytes.subarray(h.contentStart, this.pos);
  }

  /** Skips one whole element of any kind, walking indefinite contents. Returns its bytes. */
  skipElement(): Uint8Array {
    const h = this.readHeader();
    if (h.length >= 0) {
      this.pos = h.contentStart + h.length;
    } else {
      const inner = this.enter(h);
      while (!inner.atEoc()) inner.skipElement();
      inner.finish();
      this.leave(inner);
    }
    return this.bytes.subarray(h.start, this.pos);
  }

  /**
   * Reads an OCTET STRING, primitive or (BER) constructed, as libssl's `asn1_collect` does:
   * segments of any universal tag, nested at most 5 deep, concatenated. The expected tag is
   * universal 4 unless an IMPLICIT class and number are given.
   */
  readOctetString(tagClass = 0, tagNumber = 4): Uint8Array {
    const h = this.readHeader();
    if (h.tagClass !== tagClass || h.tagNumber !== tagNumber) {
      throw new DerError("expected OCTET STRING", h.start);
    }
    if (!h.constructed) return this.readContent(h);
    const parts: Uint8Array[] = [];
    const inner = this.enter(h);
    collectSegments(inner, parts, 0);
    inner.finish();
    this.leave(inner);
    return concat(parts);
  }

  /**
   * Reads an INTEGER (tag 0x02) as a bigint, rejecting non-minimal contents as libssl's
   * `c2i_ibuf` does. Zero-length contents read as 0, as `crypto/asn1/x_int64.c` allows.
   */
  readInteger(): bigint {
    return BigInt(this.readIntegerValue());
  }

  /**
   * {@link DerReader.readInteger}, but a value of at most 6 content bytes comes back as a
   * number (exact, since it is below 2^47), and only larger ones as a bigint.
   */
  readIntegerValue(): number | bigint {
    const p = scanHeader(this.bytes, this.pos, this.end);
    this.pos = p + scanned.length;
    return integerContents(this.bytes, p);
  }
}

/**
 * The header {@link scanHeader} read last. One shared scratch record, so that scanning a header
 * allocates nothing; read it before the next scan. Internal.
 */
export const scanned = {
  /** The first identifier byte. */
  tag: 0,
  /** Tag number (high-tag-number form decoded). */
  tagNumber: 0,
  /** Offset of the identifier byte. */
  start: 0,
  /** Content length, or -1 for the indefinite form. */
  length: 0,
};

/**
 * Reads the element header at `b[p]`, within `[p, end)`, as libssl's `ASN1_get_object` does,
 * into {@link scanned}, and returns the offset of its first content byte. The one home of the
 * identifier and length rules; {@link DerReader} and the session decoder both read headers here.
 * Internal.
 */
export function scanHeader(b: Uint8Array, p: number, end: number): number {
  const start = p;
  let max = end - p;
  if (max < 1) throw new DerError("element expected, input ends", p);
  const tag = b[p++];
  const constructed = (tag & 0x20) !== 0;
  let tagNumber = tag & 0x1f;
  if (--max === 0) throw new DerError("element header truncated", start);
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    while (b[p] & 0x80) {
      tagNumber = tagNumber * 128 + (b[p++] & 0x7f);
      if (--max === 0 || tagNumber > 0x7fffffff >> 7) {
        throw new DerError("bad high tag number", start);
      }
    }
    tagNumber = tagNumber * 128 + (b[p++] & 0x7f);
    if (--max === 0) throw new DerError("element header truncated", start);
  }
  // asn1_get_length
  max--;
  const first = b[p++];
  let length: number;
  if (first === 0x80) {
    if (!constructed) throw new DerError("indefinite length on a primitive element", start);
    length = -1;
  } else if (first & 0x80) {
    let n = first & 0x7f;
    if (max < n + 1) throw new DerError("length bytes run past the input", start);
    while (n > 0 && b[p] === 0) {
      p++;
      n--;
    }
    if (n > 6) throw new DerError("length too large", start);
    length = 0;
    while (n-- > 0) length = length * 256 + b[p++];
  } else {
    length = first;
  }
  if (length > end - p) throw new DerError("element length runs past its container", start);
  scanned.tag = tag;
  scanned.tagNumber = tagNumber;
  scanned.start = start;
  scanned.length = length;
  return p;
}

/**
 * The value of the INTEGER whose header {@link scanHeader} just read and whose contents start at
 * `b[p]`: minimal contents required, as libssl's `c2i_ibuf` does; zero-length contents read as 0,
 * as `crypto/asn1/x_int64.c` allows. At most 6 content bytes come back as an exact number, more
 * (up to 9) as a bigint. Internal.
 */
export function integerContents(b: Uint8Array, p: number): number | bigint {
  const start = scanned.start;
  if (scanned.tag >> 6 !== 0 || scanned.tagNumber !== 2) {
    throw new DerError("expected INTEGER", start);
  }
  if (scanned.tag & 0x20) throw new DerError("INTEGER is constructed", start);
  const len = scanned.length;
  if (len === 0) return 0;
  if (len > 1 && ((b[p] === 0 && !(b[p + 1] & 0x80)) || (b[p] === 0xff && (b[p + 1] & 0x80)))) {
    throw new DerError("INTEGER is not minimally encoded", start);
  }
  if (len > 9) throw new DerError("INTEGER too large", start);
  if (len <= 6) {
    let n = b[p] & 0x80 ? -1 : 0;
    for (let i = p; i < p + len; i++) n = n * 256 + b[i];
    return n;
  }
  let v = 0n;
  for (let i = p; i < p + len; i++) v = (v << 8n) | BigInt(b[i]);
  if (b[p] & 0x80) v -= 1n << BigInt(8 * len);
  return v;
}

function collectSegments(r: DerReader, parts: Uint8Array[], depth: number): void {
  while (!r.atEnd()) {
    const h = r.readHeader();
    if (h.tagClass !== 0) throw new DerError("string segment is not universal", h.start);
    if (h.constructed) {
      if (depth >= 5) throw new DerError("string segments nested too deeply", h.start);
      const inner = r.enter(h);
      collectSegments(inner, parts, depth + 1);
      inner.finish();
      r.leave(inner);
    } else {
      parts.push(r.readContent(h));
    }
  }
}

// The DER layer is the lowest and imports nothing above it, so it keeps its own concatenation
// (the shared one, `concatBytes`, lives in src/ticket/bytes.ts).
function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
