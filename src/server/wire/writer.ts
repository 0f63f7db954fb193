/**
 * A fixed-size writer shared by the wire encoders: callers compute the exact output length
 * first, so encoding allocates only the output. Range checks throw `TlsAlert` internal_error
 * (80), as libssl's WPACKET failures do (`SSLfatal(SSL_AD_INTERNAL_ERROR)`).
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../alert.ts";

/** Throws internal_error unless `v` is an integer in `[0, max]`. */
export function checkUint(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new TlsAlert(AlertDescription.INTERNAL_ERROR, `${field} must be an integer 0..${max}`);
  }
}

/** Throws internal_error unless `b` is a Uint8Array of at most `max` bytes. */
export function checkBytes(b: unknown, max: number, field: string): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) {
    throw new TlsAlert(AlertDescription.INTERNAL_ERROR, `${field} must be a Uint8Array`);
  }
  if (b.length > max) {
    throw new TlsAlert(
      AlertDescription.INTERNAL_ERROR,
      `${field} is ${b.length} bytes, at most ${max} fit`,
    );
  }
}

/** Writes into a pre-sized array. */
export class Writer {
  readonly out: Uint8Array<ArrayBuffer>;
  pos = 0;

  constructor(size: number) {
    this.out = new Uint8Array(size);
  }

  u8(v: number): void {
    this.out[this.pos++] = v;
  }

  u16(v: number): void {
    const o = this.out, p = this.pos;
    o[p] = v >>> 8;
    o[p + 1] = v;
    this.pos = p + 2;
  }

  u24(v: number): void {
    const o = this.out, p = this.pos;
    o[p] = v >>> 16;
    o[p + 1] = v >>> 8;
    o[p + 2] = v;
    this.pos = p + 3;
  }

  u32(v: number): void {
    const o = this.out, p = this.pos;
    o[p] = v >>> 24;
    o[p + 1] = v >>> 16;
    o[p + 2] = v >>> 8;
    o[p + 3] = v;
    this.pos = p + 4;
  }

  bytes(b: Uint8Array): void {
    this.out.set(b, this.pos);
    this.pos += b.length;
  }

  /** Returns the output, asserting the precomputed size was exact. */
  done(): Uint8Array<ArrayBuffer> {
    if (this.pos !== this.out.length) {
      throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "encoder size mismatch");
    }
    return this.out;
  }
}
