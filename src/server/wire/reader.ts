/**
 * A bounds-checked reader over a byte array, in the style of libssl's PACKET
 * (`ssl/packet_local.h`), shared by the wire codecs of the ticket engine and the TLS server.
 * Every failed read throws `TlsAlert` decode_error (50); nothing reads past the end.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../alert.ts";

/** A cursor over `buf[start..end)`. Reads advance `pos`; a short read throws decode_error. */
export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  readonly what: string;

  constructor(buf: Uint8Array, what: string, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: string): never {
    throw new TlsAlert(AlertDescription.DECODE_ERROR, `${this.what}: ${reason}`);
  }

  need(n: number, field: string): void {
    if (n > this.end - this.pos) {
      this.fail(`${field} needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++];
  }

  u16(field: string): number {
    this.need(2, field);
    const b = this.buf, p = this.pos;
    this.pos = p + 2;
    return (b[p] << 8) | b[p + 1];
  }

  u24(field: string): number {
    this.need(3, field);
    const b = this.buf, p = this.pos;
    this.pos = p + 3;
    return (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.buf, p = this.pos;
    this.pos = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  /** `n` bytes as a fresh copy (an `ArrayBuffer`-backed array usable with crypto.subtle). */
  bytes(n: number, field: string): Uint8Array<ArrayBuffer> {
    this.need(n, field);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.slice(p, p + n);
  }

  /** A sub-reader over the next `n` bytes (PACKET_get_sub_packet); advances past them. */
  sub(n: number, field: string): Reader {
    this.need(n, field);
    const r = new Reader(this.buf, this.what, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** PACKET_get_length_prefixed_1 as a sub-reader. */
  prefixed8(field: string): Reader {
    return this.sub(this.u8(`${field} length`), field);
  }

  /** PACKET_get_length_prefixed_2 as a sub-reader. */
  prefixed16(field: string): Reader {
    return this.sub(this.u16(`${field} length`), field);
  }

  /** Throws unless every byte was consumed. */
  expectEnd(field: string): void {
    if (this.pos !== this.end) this.fail(`${this.end - this.pos} trailing bytes after ${field}`);
  }
}
