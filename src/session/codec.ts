/**
 * The `SSL_SESSION` DER codec, byte-compatible with OpenSSL 3.0's `i2d_SSL_SESSION` and
 * `d2i_SSL_SESSION` (`ssl/ssl_asn1.c`), and its PEM form (`SSL SESSION PARAMETERS`).
 *
 * @module
 */

import { DerError } from "../errors.ts";
import { DerReader } from "../der/reader.ts";
import { DerWriter } from "../der/writer.ts";
import { CIPHER_NAMES } from "./_cipher_names.ts";
import {
  MAX_MASTER_KEY_LENGTH,
  MAX_SESSION_ID_LENGTH,
  MAX_SID_CTX_LENGTH,
  setDecodedAppData,
  SslSession,
} from "./ssl_session.ts";

/** `SSL_SESSION_ASN1_VERSION`: the only version of the DER form. */
export const SESSION_ASN1_VERSION = 1;

/** Explicit context tag byte for `[n]` (constructed, context-specific). */
const ctx = (n: number) => 0xa0 | n;

type IntKind = "uint32" | "int32" | "int64" | "uint64";
const RANGES: Record<IntKind, [bigint, bigint]> = {
  uint32: [0n, 0xffffffffn],
  int32: [-0x80000000n, 0x7fffffffn],
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
};
/** The same ranges as numbers; 64-bit types are limited to safe integers here. */
const NUMBER_RANGES: Record<IntKind, [number, number]> = {
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

function checkInt(field: string, v: number, kind: IntKind): void {
  const [lo, hi] = NUMBER_RANGES[kind];
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new DerError(`cannot encode ${field}: ${v} is not a ${kind} integer`);
  }
}

function checkBytes(field: string, b: Uint8Array, max: number): void {
  if (b.length > max) {
    throw new DerError(`cannot encode ${field}: ${b.length} bytes, OpenSSL allows at most ${max}`);
  }
}

function latin1(field: string, s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new DerError(`cannot encode ${field}: not an ASCII/Latin-1 string`);
    out[i] = c;
  }
  return out;
}

/**
 * Encodes a session exactly as OpenSSL 3.0's `i2d_SSL_SESSION` does: fields in template
 * order, zero-valued optional integers omitted, `[4]` session-id context and `[19]` kex group
 * always written, minimal INTEGERs. Throws {@link DerError} naming the field when a value is
 * outside OpenSSL's limits (session id over 32 bytes, master key over 512, ...).
 *
 * @example
 * ```ts
 * import { SslSession, encodeSession } from "@seed/session-tickets";
 * const s = new SslSession({ sslVersion: 0x0304, cipherId: 0x1302, time: 1, timeout: 7200 });
 * console.log(encodeSession(s)[0]); // 48 (SEQUENCE)
 * ```
 */
export function encodeSession(s: SslSession): Uint8Array<ArrayBuffer> {
  checkInt("sslVersion", s.sslVersion, "int32");
  if (!Number.isInteger(s.cipherId) || s.cipherId < 0 || s.cipherId > 0xffff) {
    throw new DerError(`cannot encode cipherId: ${s.cipherId} is not a 16-bit suite id`);
  }
  checkBytes("sessionId", s.sessionId, MAX_SESSION_ID_LENGTH);
  checkBytes("masterKey", s.masterKey, MAX_MASTER_KEY_LENGTH);
  checkBytes("sessionIdContext", s.sessionIdContext, MAX_SID_CTX_LENGTH);
  checkInt("time", s.time, "int64");
  checkInt("timeout", s.timeout, "int64");
  checkInt("verifyResult", s.verifyResult, "int32");
  checkInt("ticketLifetimeHint", s.ticketLifetimeHint, "uint64");
  if (!Number.isInteger(s.compressionId) || s.compressionId < 0 || s.compressionId > 0xff) {
    throw new DerError(`cannot encode compressionId: ${s.compressionId} is not a byte`);
  }
  checkInt("flags", s.flags, "uint32");
  checkInt("ticketAgeAdd", s.ticketAgeAdd, "uint32");
  checkInt("maxEarlyData", s.maxEarlyData, "uint32");
  checkInt("maxFragmentLengthMode", s.maxFragmentLengthMode, "uint32");
  checkInt("kexGroup", s.kexGroup, "uint32");
  const appData = s.getTicketAppData();

  const w = new DerWriter(
    160 + s.masterKey.length + (s.peerCertificate?.length ?? 0) + (s.ticket?.length ?? 0) +
      (appData?.length ?? 0) + (s.peerRpk?.length ?? 0) + (s.alpnSelected?.length ?? 0) +
      (s.hostname?.length ?? 0) + (s.pskIdentity?.length ?? 0) + (s.pskIdentityHint?.length ?? 0),
  );
  // Written back to front: the last field first.
  const explicit = (n: number, write: () => void) => {
    const mark = w.length;
    write();
    w.wrap(ctx(n), mark);
  };
  const octets = (n: number, b: Uint8Array | null) => {
    if (b) explicit(n, () => w.writeOctetString(b));
  };
  const zint = (n: number, v: number) => {
    if (v !== 0) explicit(n, () => w.writeInteger(v));
  };
  const mark = w.length;
  octets(20, s.peerRpk);
  explicit(19, () => w.writeInteger(s.kexGroup));
  octets(18, appData);
  zint(17, s.maxFragmentLengthMode);
  octets(16, s.alpnSelected);
  zint(15, s.maxEarlyData);
  zint(14, s.ticketAgeAdd);
  zint(13, s.flags);
  if (s.srpUsername !== null) octets(12, latin1("srpUsername", s.srpUsername));
  if (s.compressionId !== 0) octets(11, new Uint8Array([s.compressionId]));
  octets(10, s.ticket);
  zint(9, s.ticketLifetimeHint);
  octets(8, s.pskIdentity);
  octets(7, s.pskIdentityHint);
  if (s.hostname !== null) octets(6, latin1("hostname", s.hostname));
  zint(5, s.verifyResult);
  octets(4, s.sessionIdContext);
  if (s.peerCertificate) explicit(3, () => w.writeRaw(s.peerCertificate!));
  zint(2, s.timeout);
  zint(1, s.time);
  w.writeOctetString(s.masterKey);
  w.writeOctetString(s.sessionId);
  w.writeOctetString(new Uint8Array([s.cipherId >> 8, s.cipherId & 0xff]));
  w.writeInteger(s.sslVersion);
  w.writeInteger(SESSION_ASN1_VERSION);
  w.wrap(0x30, mark);
  return w.toBytes();
}

/** Options for {@link decodeSession}. */
export interface DecodeSessionOptions {
  /** The current time in seconds, used when the DER has no `[1]` time (default: the clock). */
  now?: number;
}

/** Reads integers of one template type, with the range checks of `crypto/asn1/x_int64.c`. */
function readInt(r: DerReader, field: string, kind: IntKind): number {
  const start = r.pos;
  const v = r.readInteger();
  const [lo, hi] = RANGES[kind];
  if (v < lo || v > hi) throw new DerError(`${field}: integer out of ${kind} range`, start);
  if (kind === "uint64" && field === "flags") return Number(v & 0xffffffffn);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new DerError(`${field}: integer beyond 2^53 is not supported`, start);
  }
  return Number(v);
}

/**
 * Reads an OPTIONAL `[n] EXPLICIT` field if the next element carries that tag, calling `read`
 * on its contents, which must consume them exactly (`ASN1_R_EXPLICIT_LENGTH_MISMATCH`).
 */
function explicit<T>(r: DerReader, n: number, read: (inner: DerReader) => T): T | undefined {
  if (!r.nextIs(2, n)) return undefined;
  const h = r.readHeader();
  if (!h.constructed) throw new DerError(`[${n}] explicit tag is not constructed`, h.start);
  const inner = r.enter(h);
  const v = read(inner);
  inner.finish();
  r.leave(inner);
  return v;
}

function checkLength(field: string, b: Uint8Array, max: number, at: number): void {
  if (b.length > max) {
    throw new DerError(`${field} is ${b.length} bytes; OpenSSL accepts at most ${max}`, at);
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
 * Decodes a DER (or BER-length) `SSL_SESSION` exactly as OpenSSL's `d2i_SSL_SESSION` accepts
 * it, then rejects trailing bytes as `tls_decrypt_ticket` does. Lengths may be non-minimal or
 * indefinite; INTEGER contents must be minimal; fields must be in template order. Applies
 * d2i's normalisations: a missing or zero `time` becomes `now`, a missing or zero `timeout`
 * becomes 3 seconds. Anything libssl rejects throws {@link DerError}, naming the field.
 *
 * @example
 * ```ts
 * import { decodeSession, encodeSession, SslSession } from "@seed/session-tickets";
 * const der = encodeSession(new SslSession({ cipherId: 0xc030, time: 1, timeout: 300 }));
 * console.log(decodeSession(der).timeout); // 300
 * ```
 */
export function decodeSession(der: Uint8Array, options: DecodeSessionOptions = {}): SslSession {
  const top = new DerReader(der);
  const h = top.readHeader();
  if (h.tagClass !== 0 || h.tagNumber !== 16 || !h.constructed) {
    throw new DerError("SSL_SESSION is not a SEQUENCE", h.start);
  }
  const r = top.enter(h);
  const s = new SslSession();

  const version = readInt(r, "version", "uint32");
  if (version !== SESSION_ASN1_VERSION) {
    throw new DerError(`version is ${version}; only ${SESSION_ASN1_VERSION} is known`);
  }
  const sslVersion = readInt(r, "sslVersion", "int32");
  if (sslVersion >> 8 !== 0x03 && sslVersion >> 8 !== 0xfe && sslVersion !== 0x0100) {
    throw new DerError(`sslVersion 0x${sslVersion.toString(16)} is not a TLS or DTLS version`);
  }
  s.sslVersion = sslVersion;
  let at = r.pos;
  const cipher = r.readOctetString();
  if (cipher.length !== 2) throw new DerError(`cipher is ${cipher.length} bytes, not 2`, at);
  s.cipherId = (cipher[0] << 8) | cipher[1];
  if (!CIPHER_NAMES.has(s.cipherId)) {
    throw new DerError(`cipher 0x${s.cipherId.toString(16)} is unknown to OpenSSL`, at);
  }
  at = r.pos;
  s.sessionId = r.readOctetString().slice();
  checkLength("sessionId", s.sessionId, MAX_SESSION_ID_LENGTH, at);
  at = r.pos;
  s.masterKey = r.readOctetString().slice();
  checkLength("masterKey", s.masterKey, MAX_MASTER_KEY_LENGTH, at);
  // [0] key_arg: IMPLICIT OCTET STRING, read and ignored.
  if (r.nextIs(2, 0)) r.readOctetString(2, 0);
  const time = explicit(r, 1, (i) => readInt(i, "time", "int64")) ?? 0;
  const timeout = explicit(r, 2, (i) => readInt(i, "timeout", "int64")) ?? 0;
  s.peerCertificate = explicit(r, 3, (i) => {
    const start = i.pos;
    if (!i.nextIs(0, 16)) throw new DerError("[3] peer certificate is not a SEQUENCE", start);
    return i.skipElement().slice();
  }) ?? null;
  at = r.pos;
  s.sessionIdContext = explicit(r, 4, (i) => i.readOctetString().slice()) ?? new Uint8Array(0);
  checkLength("sessionIdContext", s.sessionIdContext, MAX_SID_CTX_LENGTH, at);
  s.verifyResult = explicit(r, 5, (i) => readInt(i, "verifyResult", "int32")) ?? 0;
  const hostname = explicit(r, 6, (i) => i.readOctetString());
  s.hostname = hostname ? latin1Decode(hostname) : null;
  s.pskIdentityHint = explicit(r, 7, (i) => strndup(i.readOctetString()).slice()) ?? null;
  s.pskIdentity = explicit(r, 8, (i) => strndup(i.readOctetString()).slice()) ?? null;
  s.ticketLifetimeHint = explicit(r, 9, (i) => readInt(i, "ticketLifetimeHint", "uint64")) ?? 0;
  s.ticket = explicit(r, 10, (i) => i.readOctetString().slice()) ?? null;
  at = r.pos;
  const comp = explicit(r, 11, (i) => i.readOctetString());
  if (comp && comp.length !== 1) throw new DerError(`compressionId is ${comp.length} bytes`, at);
  s.compressionId = comp ? comp[0] : 0;
  const srp = explicit(r, 12, (i) => i.readOctetString());
  s.srpUsername = srp ? latin1Decode(srp) : null;
  s.flags = explicit(r, 13, (i) => readInt(i, "flags", "uint64")) ?? 0;
  s.ticketAgeAdd = explicit(r, 14, (i) => readInt(i, "ticketAgeAdd", "uint32")) ?? 0;
  s.maxEarlyData = explicit(r, 15, (i) => readInt(i, "maxEarlyData", "uint32")) ?? 0;
  s.alpnSelected = explicit(r, 16, (i) => i.readOctetString().slice()) ?? null;
  s.maxFragmentLengthMode = explicit(r, 17, (i) => readInt(i, "maxFragmentLengthMode", "uint32")) ??
    0;
  setDecodedAppData(s, explicit(r, 18, (i) => i.readOctetString().slice()) ?? null);
  s.kexGroup = explicit(r, 19, (i) => readInt(i, "kexGroup", "uint32")) ?? 0;
  s.peerRpk = explicit(r, 20, (i) => i.readOctetString().slice()) ?? null;
  if (!r.atEnd()) {
    throw new DerError("unexpected element in SSL_SESSION (unknown or out of order)", r.pos);
  }
  r.finish();
  top.leave(r);
  if (top.pos !== der.length) throw new DerError("trailing bytes after the SSL_SESSION", top.pos);

  s.time = time !== 0 ? time : Math.floor(options.now ?? Date.now() / 1000);
  s.timeout = timeout !== 0 ? timeout : 3;
  return s;
}

const PEM_LABEL = "SSL SESSION PARAMETERS";

/**
 * The PEM form `openssl sess_id` and `openssl s_client -sess_out` write
 * (`-----BEGIN SSL SESSION PARAMETERS-----`, base64 in 64-character lines).
 *
 * @example
 * ```ts
 * import { SslSession, sessionToPem } from "@seed/session-tickets";
 * const pem = sessionToPem(new SslSession({ cipherId: 0xc030, time: 1, timeout: 300 }));
 * console.log(pem.split("\n")[0]); // "-----BEGIN SSL SESSION PARAMETERS-----"
 * ```
 */
export function sessionToPem(s: SslSession): string {
  const b64 = encodeSession(s).toBase64();
  const lines = [`-----BEGIN ${PEM_LABEL}-----`];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  lines.push(`-----END ${PEM_LABEL}-----`, "");
  return lines.join("\n");
}

/**
 * Reads the first `SSL SESSION PARAMETERS` PEM block of `pem` and decodes it with
 * {@link decodeSession}. Throws {@link DerError} when there is no such block or its base64 is
 * malformed.
 *
 * @example
 * ```ts
 * import { SslSession, sessionFromPem, sessionToPem } from "@seed/session-tickets";
 * const pem = sessionToPem(new SslSession({ cipherId: 0xc030, time: 1, timeout: 300 }));
 * console.log(sessionFromPem(pem).cipherId === 0xc030); // true
 * ```
 */
export function sessionFromPem(pem: string, options: DecodeSessionOptions = {}): SslSession {
  const begin = `-----BEGIN ${PEM_LABEL}-----`;
  const end = `-----END ${PEM_LABEL}-----`;
  const i = pem.indexOf(begin);
  const j = i < 0 ? -1 : pem.indexOf(end, i + begin.length);
  if (i < 0 || j < 0) throw new DerError(`no "${begin}" ... "${end}" block found`);
  const body = pem.slice(i + begin.length, j).replace(/\s+/g, "");
  let der: Uint8Array;
  try {
    der = Uint8Array.fromBase64(body);
  } catch {
    throw new DerError("PEM body is not valid base64");
  }
  return decodeSession(der, options);
}

/**
 * OpenSSL's name for a cipher suite id (`SSL_CIPHER_get_name`), or `undefined` when libssl
 * does not know the id (such sessions fail `d2i_SSL_SESSION`).
 *
 * @example
 * ```ts
 * import { cipherName } from "@seed/session-tickets";
 * console.log(cipherName(0x1302)); // "TLS_AES_256_GCM_SHA384"
 * ```
 */
export function cipherName(id: number): string | undefined {
  return CIPHER_NAMES.get(id);
}
