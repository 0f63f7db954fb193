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
  const range = NUMBER_RANGES[kind];
  if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
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
  const w = new DerWriter(encodedSizeHint(s));
  writeSession(w, s);
  return w.toBytes();
}

const scratch = new DerWriter(4096);

/**
 * {@link encodeSession} into a buffer shared by every call: the view returned is valid only
 * until the next call. For the seal path, which hands it synchronously to Web Crypto (which
 * copies it) and so saves one allocation per ticket. Internal.
 */
export function encodeSessionTransient(s: SslSession): Uint8Array<ArrayBuffer> {
  scratch.reset();
  writeSession(scratch, s);
  return scratch.toBytes();
}

function encodedSizeHint(s: SslSession): number {
  const appData = s.getTicketAppData();
  return 160 + s.masterKey.length + (s.peerCertificate?.length ?? 0) + (s.ticket?.length ?? 0) +
    (appData?.length ?? 0) + (s.peerRpk?.length ?? 0) + (s.alpnSelected?.length ?? 0) +
    (s.hostname?.length ?? 0) + (s.pskIdentity?.length ?? 0) + (s.pskIdentityHint?.length ?? 0);
}

function writeSession(w: DerWriter, s: SslSession): void {
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

  // Written back to front: the last field first. "Z" integers are omitted when 0.
  const mark = w.length;
  if (s.peerRpk) w.writeExplicitOctetString(20, s.peerRpk);
  w.writeExplicitInteger(19, s.kexGroup);
  if (appData) w.writeExplicitOctetString(18, appData);
  if (s.maxFragmentLengthMode !== 0) w.writeExplicitInteger(17, s.maxFragmentLengthMode);
  if (s.alpnSelected) w.writeExplicitOctetString(16, s.alpnSelected);
  if (s.maxEarlyData !== 0) w.writeExplicitInteger(15, s.maxEarlyData);
  if (s.ticketAgeAdd !== 0) w.writeExplicitInteger(14, s.ticketAgeAdd);
  if (s.flags !== 0) w.writeExplicitInteger(13, s.flags);
  if (s.srpUsername !== null) w.writeExplicitOctetString(12, latin1("srpUsername", s.srpUsername));
  if (s.compressionId !== 0) w.writeExplicitOctetString(11, Uint8Array.of(s.compressionId));
  if (s.ticket) w.writeExplicitOctetString(10, s.ticket);
  if (s.ticketLifetimeHint !== 0) w.writeExplicitInteger(9, s.ticketLifetimeHint);
  if (s.pskIdentity) w.writeExplicitOctetString(8, s.pskIdentity);
  if (s.pskIdentityHint) w.writeExplicitOctetString(7, s.pskIdentityHint);
  if (s.hostname !== null) w.writeExplicitOctetString(6, latin1("hostname", s.hostname));
  if (s.verifyResult !== 0) w.writeExplicitInteger(5, s.verifyResult);
  w.writeExplicitOctetString(4, s.sessionIdContext);
  if (s.peerCertificate) {
    const certMark = w.length;
    w.writeRaw(s.peerCertificate);
    w.wrap(0xa3, certMark);
  }
  if (s.timeout !== 0) w.writeExplicitInteger(2, s.timeout);
  if (s.time !== 0) w.writeExplicitInteger(1, s.time);
  w.writeOctetString(s.masterKey);
  w.writeOctetString(s.sessionId);
  w.writeByte(s.cipherId & 0xff); // the 2-byte cipher OCTET STRING, written in place
  w.writeByte(s.cipherId >> 8);
  w.writeHeader(0x04, 2);
  w.writeInteger(s.sslVersion);
  w.writeInteger(SESSION_ASN1_VERSION);
  w.wrap(0x30, mark);
}

/** Options for {@link decodeSession}. */
export interface DecodeSessionOptions {
  /** The current time in seconds, used when the DER has no `[1]` time (default: the clock). */
  now?: number;
}

/** Reads integers of one template type, with the range checks of `crypto/asn1/x_int64.c`. */
function readInt(r: DerReader, field: string, kind: IntKind): number {
  const start = r.pos;
  const v = r.readIntegerValue();
  if (typeof v === "number") {
    const range = NUMBER_RANGES[kind];
    if (v < range[0] || v > range[1]) {
      throw new DerError(`${field}: integer out of ${kind} range`, start);
    }
    return field === "flags" ? v % 0x100000000 : v;
  }
  const range = RANGES[kind];
  if (v < range[0] || v > range[1]) {
    throw new DerError(`${field}: integer out of ${kind} range`, start);
  }
  // Flags are stored as 32 bits (`ret->flags = (int32_t)as->flags` into a uint32_t).
  if (field === "flags") return Number(v & 0xffffffffn);
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(v);
  }
  throw new DerError(`${field}: integer beyond 2^53 is not supported`, start);
}

/**
 * Enters an OPTIONAL `[n] EXPLICIT` field if the next element carries that tag; its contents
 * must then be read exactly ({@link closeExplicit}: `ASN1_R_EXPLICIT_LENGTH_MISMATCH`).
 */
function openExplicit(r: DerReader, n: number): DerReader | null {
  if (!r.nextIs(2, n)) return null;
  const h = r.readHeader();
  if (!h.constructed) throw new DerError(`[${n}] explicit tag is not constructed`, h.start);
  return r.enter(h);
}

function closeExplicit(r: DerReader, inner: DerReader): void {
  inner.finish();
  r.leave(inner);
}

/** An OPTIONAL `[n] EXPLICIT INTEGER`; absent reads as 0. */
function optInt(r: DerReader, n: number, field: string, kind: IntKind): number {
  if (!r.nextIs(2, n)) return 0;
  const h = r.readHeader();
  if (!h.constructed) throw new DerError(`[${n}] explicit tag is not constructed`, h.start);
  if (h.length < 0) {
    const inner = r.enter(h);
    const v = readInt(inner, field, kind);
    closeExplicit(r, inner);
    return v;
  }
  // Definite length (the common case): read in place, then the contents must end exactly here.
  const v = readInt(r, field, kind);
  if (r.pos !== h.contentStart + h.length) throw explicitMismatch(n, h.start);
  return v;
}

/** An OPTIONAL `[n] EXPLICIT OCTET STRING`, or `null` when absent. */
function optOctets(r: DerReader, n: number): Uint8Array | null {
  if (!r.nextIs(2, n)) return null;
  const h = r.readHeader();
  if (!h.constructed) throw new DerError(`[${n}] explicit tag is not constructed`, h.start);
  if (h.length < 0) {
    const inner = r.enter(h);
    const v = inner.readOctetString();
    closeExplicit(r, inner);
    return v;
  }
  const v = r.readOctetString();
  if (r.pos !== h.contentStart + h.length) throw explicitMismatch(n, h.start);
  return v;
}

function explicitMismatch(n: number, at: number): DerError {
  return new DerError(`[${n}] explicit contents do not match its length`, at);
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
  return decode(der, options.now, true);
}

/**
 * {@link decodeSession} of a buffer nobody else holds (a freshly decrypted ticket plaintext),
 * which it then owns: the session's byte fields are views into it. Internal.
 */
export function decodeOwnedSession(der: Uint8Array, now?: number): SslSession {
  return decode(der, now, false);
}

/**
 * Decodes `der`, or (with `copy`) one private copy of it. Byte fields are views into that
 * buffer, except the master key, which gets a buffer of its own and is wiped from the shared
 * one, so no field's `.buffer` holds the secret.
 */
function decode(input: Uint8Array, now: number | undefined, copy: boolean): SslSession {
  const der = copy ? input.slice() : input;
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
  s.sessionId = r.readOctetString();
  checkLength("sessionId", s.sessionId, MAX_SESSION_ID_LENGTH, at);
  at = r.pos;
  const masterKey = r.readOctetString();
  s.masterKey = masterKey.slice();
  masterKey.fill(0);
  checkLength("masterKey", s.masterKey, MAX_MASTER_KEY_LENGTH, at);
  // [0] key_arg: IMPLICIT OCTET STRING, read and ignored.
  if (r.nextIs(2, 0)) r.readOctetString(2, 0);
  const time = optInt(r, 1, "time", "int64");
  const timeout = optInt(r, 2, "timeout", "int64");
  const cert = openExplicit(r, 3);
  if (cert) {
    if (!cert.nextIs(0, 16)) throw new DerError("[3] peer certificate is not a SEQUENCE", cert.pos);
    s.peerCertificate = cert.skipElement();
    closeExplicit(r, cert);
  }
  at = r.pos;
  const sidCtx = optOctets(r, 4);
  if (sidCtx) {
    checkLength("sessionIdContext", sidCtx, MAX_SID_CTX_LENGTH, at);
    s.sessionIdContext = sidCtx;
  }
  s.verifyResult = optInt(r, 5, "verifyResult", "int32");
  const hostname = optOctets(r, 6);
  if (hostname) s.hostname = latin1Decode(hostname);
  const hint = optOctets(r, 7);
  if (hint) s.pskIdentityHint = strndup(hint);
  const identity = optOctets(r, 8);
  if (identity) s.pskIdentity = strndup(identity);
  s.ticketLifetimeHint = optInt(r, 9, "ticketLifetimeHint", "uint64");
  s.ticket = optOctets(r, 10);
  at = r.pos;
  const comp = optOctets(r, 11);
  if (comp && comp.length !== 1) throw new DerError(`compressionId is ${comp.length} bytes`, at);
  s.compressionId = comp ? comp[0] : 0;
  const srp = optOctets(r, 12);
  if (srp) s.srpUsername = latin1Decode(srp);
  s.flags = optInt(r, 13, "flags", "uint64");
  s.ticketAgeAdd = optInt(r, 14, "ticketAgeAdd", "uint32");
  s.maxEarlyData = optInt(r, 15, "maxEarlyData", "uint32");
  s.alpnSelected = optOctets(r, 16);
  s.maxFragmentLengthMode = optInt(r, 17, "maxFragmentLengthMode", "uint32");
  setDecodedAppData(s, optOctets(r, 18));
  s.kexGroup = optInt(r, 19, "kexGroup", "uint32");
  s.peerRpk = optOctets(r, 20);
  if (!r.atEnd()) {
    throw new DerError("unexpected element in SSL_SESSION (unknown or out of order)", r.pos);
  }
  r.finish();
  top.leave(r);
  if (top.pos !== der.length) throw new DerError("trailing bytes after the SSL_SESSION", top.pos);

  s.time = time !== 0 ? time : Math.floor(now ?? Date.now() / 1000);
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
