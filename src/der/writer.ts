/**
 * A minimal DER writer. It writes backwards from the end of a buffer, so each element's length
 * is known when its header is written and the output needs a single allocation.
 *
 * @module
 */

/**
 * Builds a DER encoding back to front: write an element's contents, then wrap them with
 * {@link DerWriter.wrap}. Lengths are minimal (short form below 128, else the shortest long form).
 *
 * @example
 * ```ts
 * import { DerWriter } from "@seed/session-tickets/der";
 * const w = new DerWriter();
 * const end = w.length;
 * w.writeInteger(5);
 * w.writeOctetString(new Uint8Array([1, 2]));
 * w.wrap(0x30, end); // SEQUENCE { OCTET STRING 0102, INTEGER 5 }
 * console.log(w.toBytes()); // Uint8Array [48, 7, 4, 2, 1, 2, 2, 1, 5]
 * ```
 */
export class DerWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #start: number;

  /**
   * Creates an empty writer.
   *
   * @param capacity Initial buffer size in bytes; the writer grows when needed.
   */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, capacity));
    this.#start = this.#buf.length;
  }

  /** Number of bytes written so far. Use it as the mark passed to {@link DerWriter.wrap}. */
  get length(): number {
    return this.#buf.length - this.#start;
  }

  #reserve(n: number): void {
    if (this.#start >= n) return;
    const used = this.length;
    const size = Math.max(this.#buf.length * 2, used + n + 64);
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(this.#start), size - used);
    this.#buf.fill(0); // the old buffer may hold secrets (a session's master key)
    this.#buf = next;
    this.#start = size - used;
  }

  /** Forgets everything written, keeping the buffer for reuse. */
  reset(): void {
    this.#start = this.#buf.length;
  }

  /** Zeroes the whole buffer and forgets everything written (after secrets were written). */
  wipe(): void {
    this.#buf.fill(0);
    this.#start = this.#buf.length;
  }

  /** Prepends one byte. */
  writeByte(byte: number): void {
    this.#reserve(1);
    this.#buf[--this.#start] = byte;
  }

  /** Prepends raw bytes. */
  writeRaw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#start -= bytes.length;
    this.#buf.set(bytes, this.#start);
  }

  /** Prepends a tag byte and a minimal DER length for `contentLength` bytes. */
  writeHeader(tag: number, contentLength: number): void {
    this.#reserve(6);
    const b = this.#buf;
    if (contentLength < 0x80) {
      b[--this.#start] = contentLength;
    } else {
      let n = 0;
      for (let v = contentLength; v > 0; v = Math.floor(v / 256)) {
        b[--this.#start] = v & 0xff;
        n++;
      }
      b[--this.#start] = 0x80 | n;
    }
    b[--this.#start] = tag;
  }

  /**
   * Wraps everything written since `mark` (a previous {@link DerWriter.length}) in a `tag`
   * header: the element then contains exactly those bytes.
   */
  wrap(tag: number, mark: number): void {
    this.writeHeader(tag, this.length - mark);
  }

  /** Prepends an OCTET STRING (tag 0x04). */
  writeOctetString(bytes: Uint8Array): void {
    this.writeRaw(bytes);
    this.writeHeader(0x04, bytes.length);
  }

  /**
   * Prepends a minimal two's-complement INTEGER (tag 0x02). Accepts any safe integer or a
   * bigint; a non-negative value whose top bit is set gets a leading 00.
   */
  writeInteger(value: number | bigint): void {
    const mark = this.length;
    if (typeof value === "number" && value >= 0 && Number.isSafeInteger(value)) {
      this.#reserve(9);
      const b = this.#buf;
      let v = value;
      do {
        b[--this.#start] = v & 0xff;
        v = Math.floor(v / 256);
      } while (v > 0);
      if (b[this.#start] & 0x80) b[--this.#start] = 0;
    } else {
      let v = BigInt(value);
      const negative = v < 0n;
      do {
        this.#reserve(2);
        this.#buf[--this.#start] = Number(v & 0xffn);
        v >>= 8n;
      } while (negative ? v < -1n : v > 0n);
      const top = this.#buf[this.#start] & 0x80;
      if (negative && !top) this.#buf[--this.#start] = 0xff;
      if (!negative && top) this.#buf[--this.#start] = 0;
    }
    this.wrap(0x02, mark);
  }

  /** Prepends `[n] EXPLICIT INTEGER` (context-specific, constructed) holding `value`. */
  writeExplicitInteger(n: number, value: number | bigint): void {
    const mark = this.length;
    this.writeInteger(value);
    this.wrap(0xa0 | n, mark);
  }

  /** Prepends `[n] EXPLICIT OCTET STRING` (context-specific, constructed) holding `bytes`. */
  writeExplicitOctetString(n: number, bytes: Uint8Array): void {
    const mark = this.length;
    this.writeOctetString(bytes);
    this.wrap(0xa0 | n, mark);
  }

  /** The encoding written so far (a view of the writer's buffer, no copy). */
  toBytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.subarray(this.#start);
  }
}
