/**
 * Private: the `SSL_SESSION` decoder behind `decodeSession`, with OpenSSL 3.0's
 * `d2i_SSL_SESSION` rules (`ssl/ssl_asn1.c`). It reads in one pass with a single cursor,
 * allocating only the session, its byte-field views and the master key's own buffer: the
 * open path of every ticket runs it. Headers are read by the DER reader's `scanHeader`, the
 * one home of the length rules; constructed (BER) strings and indefinite-length peer
 * certificates go through `DerReader`. The OPTIONAL fields are read as the template table
 * (`_template.ts`) says, looked up by tag in the one loop.
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { DerReader, integerContents, scanHeader, scanned } from "../der/reader.ts";
import { CIPHER_NAMES } from "./_cipher_names.ts";
import {
  MAX_MASTER_KEY_LENGTH,
  MAX_SESSION_ID_LENGTH,
  setDecodedAppData,
  SslSession,
} from "./ssl_session.ts";
import {
  INT32,
  type IntKind,
  SESSION_ASN1_VERSION,
  SESSION_TEMPLATE,
  UINT32,
  ZERO_DEFAULT_ROWS,
} from "./_template.ts";

const EMPTY = new Uint8Array(0);
/** {@link Cursor.explicit}'s answer for an indefinite-length wrapper. */
const INDEFINITE = -2;

/** A read position in `b`, bounded by `end`: the session's contents, or one EXPLICIT wrapper. */
class Cursor {
  readonly b: Uint8Array;
  p: number;
  end: number;

  constructor(b: Uint8Array, p: number, end: number) {
    this.b = b;
    this.p = p;
    this.end = end;
  }

  /**
   * Whether the next element has this class and tag number (low- or high-tag-number form,
   * which libssl does not distinguish; the constructed bit is checked by the caller).
   */
  nextIs(tagClass: number, tagNumber: number): boolean {
    return this.p < this.end && this.nextTag(tagClass) === tagNumber;
  }

  /** The tag number of the next element when it has class `tagClass` (context-specific), else -1. */
  nextTag(tagClass = 2): number {
    if (this.p >= this.end) return -1;
    const id = this.b[this.p];
    if ((id & 0x1f) !== 0x1f) return id >> 6 === tagClass ? id & 0x1f : -1;
    scanHeader(this.b, this.p, this.end);
    return scanned.tag >> 6 === tagClass ? scanned.tagNumber : -1;
  }

  /**
   * An INTEGER of the given kind; values beyond 2^53 are refused, unless `low32` asks for the
   * low 32 bits only (a template row's `low32` read rule).
   */
  int(field: string, k: IntKind, low32 = false): number {
    const start = this.p;
    const p = scanHeader(this.b, start, this.end);
    const v = integerContents(this.b, p);
    this.p = p + scanned.length;
    if (typeof v === "number") {
      // At most 6 content bytes: within every safe range, so only the type's range applies.
      if (v < k.min || v > k.max) {
        throw new DerError(`${field}: integer out of ${k.name} range`, start);
      }
      return low32 ? v % 0x100000000 : v;
    }
    if (v < k.bigMin || v > k.bigMax) {
      throw new DerError(`${field}: integer out of ${k.name} range`, start);
    }
    if (low32) return Number(BigInt.asUintN(32, v));
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return Number(v);
    }
    throw beyondSafe(field, start);
  }

  /** Length of the string {@link Cursor.octetString} read last. */
  len = 0;
  /** Contents of the constructed string {@link Cursor.octetString} read last. */
  collected: Uint8Array = EMPTY;

  /**
   * Reads an OCTET STRING (universal 4, or the IMPLICIT tag given), primitive or (BER)
   * constructed as libssl's `asn1_collect` reads it: returns the offset of a primitive
   * string's contents in `b` (length in {@link Cursor.len}), or -1 for a constructed one,
   * whose concatenated contents are then in {@link Cursor.collected}. No view is made.
   */
  octetString(tagClass: number, tagNumber: number): number {
    const b = this.b;
    const p = scanHeader(b, this.p, this.end);
    if (scanned.tag >> 6 !== tagClass || scanned.tagNumber !== tagNumber) {
      throw new DerError("expected OCTET STRING", scanned.start);
    }
    if (scanned.tag & 0x20) {
      const r = new DerReader(b, this.p, this.end);
      this.collected = r.readOctetString(tagClass, tagNumber);
      this.len = this.collected.length;
      this.p = r.pos;
      return -1;
    }
    this.len = scanned.length;
    this.p = p + scanned.length;
    return p;
  }

  /**
   * One whole element of any kind inside an EXPLICIT wrapper, as a view; BER indefinite
   * contents are walked, with the wrapper's nesting depth (2) counted.
   */
  element(): Uint8Array {
    const start = this.p;
    const p = scanHeader(this.b, start, this.end);
    if (scanned.length >= 0) {
      this.p = p + scanned.length;
    } else {
      const r = new DerReader(this.b, start, this.end, false, 2);
      r.skipElement();
      this.p = r.pos;
    }
    return this.b.subarray(start, this.p);
  }

  /** {@link Cursor.octetString}'s contents: a view of `b`, or the collected copy. */
  octets(tagClass = 0, tagNumber = 4): Uint8Array {
    const at = this.octetString(tagClass, tagNumber);
    if (at < 0) return this.collected;
    return this.len === 0 ? EMPTY : this.b.subarray(at, at + this.len);
  }

  /**
   * Opens the `[n] EXPLICIT` wrapper that comes next, returning what {@link Cursor.close}
   * needs: the end the wrapper's contents must fill exactly (`ASN1_R_EXPLICIT_LENGTH_MISMATCH`
   * otherwise), or {@link INDEFINITE}. A definite wrapper bounds its contents.
   */
  explicit(n: number): number {
    const p = scanHeader(this.b, this.p, this.end);
    if (!(scanned.tag & 0x20)) {
      throw new DerError(`[${n}] explicit tag is not constructed`, scanned.start);
    }
    this.p = p;
    if (scanned.length < 0) return INDEFINITE;
    const outer = this.end;
    this.end = p + scanned.length;
    return outer;
  }

  /** Closes a wrapper {@link Cursor.explicit} opened, given what it returned. */
  close(n: number, opened: number): void {
    if (opened === INDEFINITE) {
      if (!this.atEoc()) throw new DerError(`[${n}] missing end-of-contents`, this.p);
      this.p += 2;
      return;
    }
    if (this.p !== this.end) {
      throw new DerError(`[${n}] explicit contents do not match its length`, this.p);
    }
    this.end = opened;
  }

  /** True at an end-of-contents marker `00 00`. */
  atEoc(): boolean {
    return this.end - this.p >= 2 && this.b[this.p] === 0 && this.b[this.p + 1] === 0;
  }

  /** An `[n] EXPLICIT` integer. */
  explicitInt(n: number, field: string, k: IntKind, low32: boolean): number {
    const opened = this.explicit(n);
    const v = this.int(field, k, low32);
    this.close(n, opened);
    return v;
  }

  /** An `[n] EXPLICIT OCTET STRING`. */
  explicitOctets(n: number): Uint8Array {
    const opened = this.explicit(n);
    const v = this.octets();
    this.close(n, opened);
    return v;
  }
}

function beyondSafe(field: string, at: number): DerError {
  return new DerError(`${field}: integer beyond 2^53 is not supported`, at);
}

function checkLength(field: string, length: number, max: number, at: number): void {
  if (length > max) {
    throw new DerError(`${field} is ${length} bytes; OpenSSL accepts at most ${max}`, at);
  }
}

/** `OPENSSL_strndup`: the bytes up to the first NUL. */
function strndup(b: Uint8Array): Uint8Array {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

function latin1Decode(b: Uint8Array): string {
  let s = "";
  for (const c of strndup(b)) s += String.fromCharCode(c);
  return s;
}

/**
 * Decodes `der`, which the session may keep views into. The master key is copied into a
 * buffer of its own and wiped from `der`, so no other field's `.buffer` holds it.
 */
export function decodeSessionDer(der: Uint8Array, now: number | undefined): SslSession {
  let p = scanHeader(der, 0, der.length);
  if (scanned.tag >> 6 !== 0 || scanned.tagNumber !== 16 || !(scanned.tag & 0x20)) {
    throw new DerError("SSL_SESSION is not a SEQUENCE", scanned.start);
  }
  const indefinite = scanned.length < 0;
  const r = new Cursor(der, p, indefinite ? der.length : p + scanned.length);
  const s = new SslSession();

  const version = r.int("version", UINT32);
  if (version !== SESSION_ASN1_VERSION) {
    throw new DerError(`version is ${version}; only ${SESSION_ASN1_VERSION} is known`);
  }
  const sslVersion = r.int("sslVersion", INT32);
  if (sslVersion >> 8 !== 0x03 && sslVersion >> 8 !== 0xfe && sslVersion !== 0x0100) {
    throw new DerError(`sslVersion 0x${sslVersion.toString(16)} is not a TLS or DTLS version`);
  }
  s.sslVersion = sslVersion;
  let at = r.p;
  const c = r.octetString(0, 4);
  if (r.len !== 2) throw new DerError(`cipher is ${r.len} bytes, not 2`, at);
  s.cipherId = c < 0 ? (r.collected[0] << 8) | r.collected[1] : (der[c] << 8) | der[c + 1];
  if (!CIPHER_NAMES.has(s.cipherId)) {
    throw new DerError(`cipher 0x${s.cipherId.toString(16)} is unknown to OpenSSL`, at);
  }
  at = r.p;
  s.sessionId = r.octets();
  checkLength("sessionId", s.sessionId.length, MAX_SESSION_ID_LENGTH, at);
  at = r.p;
  const k = r.octetString(0, 4);
  checkLength("masterKey", r.len, MAX_MASTER_KEY_LENGTH, at);
  s.masterKey = k < 0 ? ownMasterKey(r.collected, 0, r.len) : ownMasterKey(der, k, r.len);
  if (k < 0) der.fill(0, at, r.p); // a constructed string: every segment
  // The OPTIONAL fields, context-tagged, each at most once and in template order: one row of
  // SESSION_TEMPLATE each, indexed by tag.
  for (let last = -1; indefinite ? !r.atEoc() : r.p < r.end;) {
    at = r.p;
    const n = r.nextTag();
    if (n <= last || n >= SESSION_TEMPLATE.length) {
      throw new DerError("unexpected element in SSL_SESSION (unknown or out of order)", at);
    }
    last = n;
    const row = SESSION_TEMPLATE[n];
    switch (row.type) {
      case "integer":
        s[row.field] = r.explicitInt(n, row.field, row.der, row.read === "low32");
        break;
      case "octets": {
        const v = r.explicitOctets(n);
        checkLength(row.field, v.length, row.maxLength, at);
        s[row.field] = v;
        break;
      }
      case "cstring":
        s[row.field] = strndup(r.explicitOctets(n));
        break;
      case "string":
        s[row.field] = latin1Decode(r.explicitOctets(n));
        break;
      case "byte": {
        const v = r.explicitOctets(n);
        if (v.length !== 1) throw new DerError(`${row.field} is ${v.length} bytes`, at);
        s[row.field] = v[0];
        break;
      }
      case "certificate": {
        const wrapper = r.explicit(n);
        if (!r.nextIs(0, 16)) {
          throw new DerError(`[${n}] ${row.field} is not a SEQUENCE`, r.p);
        }
        s[row.field] = r.element();
        r.close(n, wrapper);
        break;
      }
      case "appData":
        setDecodedAppData(s, r.explicitOctets(n));
        break;
      case "ignored": // IMPLICIT OCTET STRING
        r.octets(2, n);
        break;
    }
  }
  p = r.p;
  if (indefinite) p += 2;
  if (p !== der.length) throw new DerError("trailing bytes after the SSL_SESSION", p);

  // d2i's defaults for a 0 or absent time (now) and timeout (3 seconds).
  for (let i = 0; i < ZERO_DEFAULT_ROWS.length; i++) {
    const row = ZERO_DEFAULT_ROWS[i];
    if (s[row.field] === 0) {
      s[row.field] = row.read === "zeroIsNow" ? Math.floor(now ?? Date.now() / 1000) : 3;
    }
  }
  return s;
}

/** The master key `from[at, at + length)`, copied into a buffer of its own and wiped from `from`. */
function ownMasterKey(from: Uint8Array, at: number, length: number): Uint8Array {
  if (length === 0) return EMPTY;
  const own = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    own[i] = from[at + i];
    from[at + i] = 0;
  }
  return own;
}
