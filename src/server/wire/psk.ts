/**
 * The TLS 1.3 ClientHello extensions that carry tickets: `psk_key_exchange_modes` (45) and
 * `pre_shared_key` (41), read with libssl's rules and errors
 * (`ssl/statem/extensions_srvr.c:tls_parse_ctos_psk_kex_modes`, `tls_parse_ctos_psk`), plus
 * encoders for a simulated client.
 *
 * libssl reads `pre_shared_key` lazily: it parses one identity at a time and stops at the first
 * one it accepts, then reads only the binders up to that index. A malformed identity *after* the
 * accepted one, or trailing bytes after the binder it needs, go unnoticed.
 * {@link PreSharedKeyReader} reproduces exactly that; {@link parsePreSharedKey} is a strict
 * whole-body parse (RFC 8446 §4.2.11) for tools and tests.
 *
 * @module
 */

import { Reader } from "./reader.ts";
import { checkBytes, checkUint, Writer } from "./writer.ts";

/**
 * PSK key exchange modes (RFC 8446 §4.2.9; libssl `TLSEXT_KEX_MODE_KE` / `_KE_DHE`).
 *
 * @example
 * ```ts
 * import { PskKeyExchangeMode } from "./psk.ts";
 * console.log(PskKeyExchangeMode.PSK_DHE_KE); // 1
 * ```
 */
export const PskKeyExchangeMode = {
  /** psk_ke (0): PSK-only key establishment. libssl honours it only with `SSL_OP_ALLOW_NO_DHE_KEX`. */
  PSK_KE: 0,
  /** psk_dhe_ke (1): PSK with (EC)DHE key establishment. */
  PSK_DHE_KE: 1,
} as const;

/** The parsed `psk_key_exchange_modes` extension. */
export interface PskKeyExchangeModes {
  /** Every mode byte, in order, including unknown ones (which libssl skips). */
  modes: number[];
  /** `psk_ke` (0) is listed. libssl counts it only when `SSL_OP_ALLOW_NO_DHE_KEX` is set. */
  pskKe: boolean;
  /** `psk_dhe_ke` (1) is listed. */
  pskDheKe: boolean;
}

/**
 * Parses a `psk_key_exchange_modes` body: `u8 len, modes[len]`, with at least one mode and no
 * trailing bytes (`tls_parse_ctos_psk_kex_modes`: `PACKET_as_length_prefixed_1` and a non-empty
 * list). When neither known mode is usable libssl ignores `pre_shared_key` altogether.
 *
 * @param body The extension body.
 * @returns The modes and which known modes are present.
 * @throws {TlsAlert} decode_error (50) on a bad length, an empty list or trailing bytes.
 *
 * @example
 * ```ts
 * import { parsePskKeyExchangeModes } from "./psk.ts";
 * const m = parsePskKeyExchangeModes(new Uint8Array([1, 1]));
 * console.log(m.pskDheKe, m.pskKe); // true false
 * ```
 */
export function parsePskKeyExchangeModes(body: Uint8Array): PskKeyExchangeModes {
  const r = new Reader(body, "psk_key_exchange_modes");
  const list = r.prefixed8("modes");
  r.expectEnd("modes");
  if (list.remaining === 0) list.fail("empty mode list");
  const modes: number[] = [];
  while (list.remaining > 0) modes.push(list.u8("mode"));
  return {
    modes,
    pskKe: modes.includes(PskKeyExchangeMode.PSK_KE),
    pskDheKe: modes.includes(PskKeyExchangeMode.PSK_DHE_KE),
  };
}

/**
 * Encodes a `psk_key_exchange_modes` body, `u8 len, modes`. Any list of 0–255 byte values is
 * written as given, so a test can also send an (invalid) empty list.
 *
 * @param modes Mode bytes, e.g. `[PskKeyExchangeMode.PSK_DHE_KE]`.
 * @returns The extension body.
 * @throws {TlsAlert} internal_error (80) if a mode is not a byte or there are over 255.
 *
 * @example
 * ```ts
 * import { encodePskKeyExchangeModes } from "./psk.ts";
 * console.log(Array.from(encodePskKeyExchangeModes([1]))); // [1, 1]
 * ```
 */
export function encodePskKeyExchangeModes(modes: readonly number[]): Uint8Array<ArrayBuffer> {
  checkUint(modes.length, 0xff, "number of PSK modes");
  const w = new Writer(1 + modes.length);
  w.u8(modes.length);
  for (const m of modes) {
    checkUint(m, 0xff, "PSK mode");
    w.u8(m);
  }
  return w.done();
}

/**
 * One `PskIdentity` of a `pre_shared_key` extension.
 *
 * @typeParam B The buffer type of the identity bytes; decoders return `ArrayBuffer`-backed copies.
 */
export interface PskIdentity<B extends ArrayBufferLike = ArrayBufferLike> {
  /** The identity: a ticket, a 32-byte stateful session id, or an external PSK name. */
  identity: Uint8Array<B>;
  /** `obfuscated_ticket_age` (uint32): ticket age in ms plus `ticket_age_add`, mod 2^32. */
  obfuscatedTicketAge: number;
}

/** A PSK identity as {@link PreSharedKeyReader} returns it, with its position in the list. */
export interface ReceivedPskIdentity extends PskIdentity<ArrayBuffer> {
  /** 0-based position in the identities list (libssl's `id`, later `s->ext.tick_identity`). */
  index: number;
}

/**
 * The whole `pre_shared_key` ClientHello extension.
 *
 * @typeParam B The buffer type of the byte fields; decoders return `ArrayBuffer`-backed copies.
 */
export interface PreSharedKeyOffer<B extends ArrayBufferLike = ArrayBufferLike> {
  /** The offered identities, in order. */
  identities: PskIdentity<B>[];
  /** One binder (HMAC, hash-length bytes) per identity, in order. */
  binders: Uint8Array<B>[];
}

/**
 * libssl's reading of a `pre_shared_key` body (`tls_parse_ctos_psk`), step by step:
 *
 * 1. The constructor reads the `u16` identities length; an overrun is decode_error (50).
 * 2. {@link PreSharedKeyReader.nextIdentity} (or `for…of`) reads one identity at a time,
 *    `u16 len, identity, u32 obfuscated_ticket_age`; truncation is decode_error, and so is a
 *    zero-length identity (3.0.21+; earlier versions reached status EMPTY, also decode_error).
 *    The engine stops at the first identity it accepts, leaving later ones unread.
 * 3. {@link PreSharedKeyReader.binder} then reads the binders list, walks entries `0..index`,
 *    and requires entry `index` to be exactly the hash length; otherwise decode_error. Bytes after
 *    that entry are not examined.
 *
 * @example
 * ```ts
 * import { encodePreSharedKey, PreSharedKeyReader } from "./psk.ts";
 * const body = encodePreSharedKey({
 *   identities: [{ identity: new Uint8Array(32), obfuscatedTicketAge: 7 }],
 *   binders: [new Uint8Array(32)],
 * });
 * const r = new PreSharedKeyReader(body);
 * for (const id of r) {
 *   console.log(id.index, id.identity.length, id.obfuscatedTicketAge); // 0 32 7
 *   console.log(r.binder(id.index, 32).length); // 32
 *   break;
 * }
 * ```
 */
export class PreSharedKeyReader {
  /**
   * Offset, within the extension body, of the binders list (its `u16` length). The binder
   * transcript hash covers the ClientHello up to this point (libssl's `binderoffset`, which is
   * relative to the handshake message instead).
   */
  readonly bindersOffset: number;
  readonly #body: Uint8Array;
  readonly #identities: Reader;
  #next = 0;

  /**
   * Starts reading a `pre_shared_key` body: reads the identities length only.
   *
   * @param body The `pre_shared_key` extension body.
   * @throws {TlsAlert} decode_error (50) if the identities length overruns the body.
   */
  constructor(body: Uint8Array) {
    const r = new Reader(body, "pre_shared_key");
    this.#identities = r.prefixed16("identities");
    this.bindersOffset = r.pos;
    this.#body = body;
  }

  /**
   * The next identity, or `null` once the identities list is used up.
   *
   * @returns The identity (a fresh copy), its obfuscated age and index.
   * @throws {TlsAlert} decode_error (50) on a truncated or zero-length identity.
   *
   * @example
   * ```ts
   * import { PreSharedKeyReader } from "./psk.ts";
   * const r = new PreSharedKeyReader(new Uint8Array([0, 7, 0, 1, 0xaa, 0, 0, 0, 9, 0, 0]));
   * console.log(r.nextIdentity()?.obfuscatedTicketAge, r.nextIdentity()); // 9 null
   * ```
   */
  nextIdentity(): ReceivedPskIdentity | null {
    const r = this.#identities;
    if (r.remaining === 0) return null;
    const index = this.#next++;
    const identity = r.bytes(r.u16(`identity ${index} length`), `identity ${index}`);
    const obfuscatedTicketAge = r.u32(`identity ${index} obfuscated_ticket_age`);
    if (identity.length === 0) r.fail(`identity ${index} is empty`);
    return { index, identity, obfuscatedTicketAge };
  }

  /**
   * Iterates the remaining identities with {@link PreSharedKeyReader.nextIdentity}. Breaking out
   * leaves the rest unread, as libssl does.
   *
   * @example
   * ```ts
   * import { encodePreSharedKey, PreSharedKeyReader } from "./psk.ts";
   * const body = encodePreSharedKey({
   *   identities: [{ identity: new Uint8Array([1]), obfuscatedTicketAge: 0 }],
   *   binders: [new Uint8Array(32)],
   * });
   * console.log([...new PreSharedKeyReader(body)].length); // 1
   * ```
   */
  *[Symbol.iterator](): Generator<ReceivedPskIdentity, void, undefined> {
    for (let id = this.nextIdentity(); id !== null; id = this.nextIdentity()) yield id;
  }

  /**
   * The binder for identity `index`, checked as libssl checks it: the `u16` binders list must
   * fit, entries `0..index` must each be a complete `u8 len, binder`, and entry `index` must be
   * exactly `hashLength` bytes. Can be called at any time and more than once.
   *
   * @param index The accepted identity's index.
   * @param hashLength The PSK's hash length (32 for SHA-256, 48 for SHA-384).
   * @returns The binder (a fresh copy).
   * @throws {TlsAlert} decode_error (50) when any of those checks fails; internal_error (80) if
   * `index` or `hashLength` is not a non-negative integer (a caller bug).
   *
   * @example
   * ```ts
   * import { encodePreSharedKey, PreSharedKeyReader } from "./psk.ts";
   * const body = encodePreSharedKey({
   *   identities: [{ identity: new Uint8Array([1]), obfuscatedTicketAge: 0 }],
   *   binders: [new Uint8Array(48)],
   * });
   * console.log(new PreSharedKeyReader(body).binder(0, 48).length); // 48
   * ```
   */
  binder(index: number, hashLength: number): Uint8Array<ArrayBuffer> {
    checkUint(index, 0xffff, "binder index");
    checkUint(hashLength, 0xff, "binder hash length");
    const r = new Reader(this.#body, "pre_shared_key", this.bindersOffset);
    const binders = r.prefixed16("binders");
    let binder: Reader | undefined;
    for (let i = 0; i <= index; i++) binder = binders.prefixed8(`binder ${i}`);
    if (binder === undefined) return r.fail(`no binder ${index}`);
    if (binder.remaining !== hashLength) {
      binder.fail(`binder ${index} is ${binder.remaining} bytes, the hash needs ${hashLength}`);
    }
    return binder.bytes(hashLength, `binder ${index}`);
  }
}

/**
 * Strict whole-body parse of a `pre_shared_key` ClientHello extension (RFC 8446 §4.2.11):
 * at least one identity, none empty; one binder per identity, each 32–255 bytes; no trailing
 * bytes. Stricter than libssl, which reads lazily (use {@link PreSharedKeyReader} to decide what
 * libssl would). Every failure is decode_error (50).
 *
 * @param body The extension body.
 * @returns Identities and binders (fresh copies).
 * @throws {TlsAlert} decode_error (50) on any malformation.
 *
 * @example
 * ```ts
 * import { encodePreSharedKey, parsePreSharedKey } from "./psk.ts";
 * const body = encodePreSharedKey({
 *   identities: [{ identity: new Uint8Array([9, 9]), obfuscatedTicketAge: 1 }],
 *   binders: [new Uint8Array(32)],
 * });
 * console.log(parsePreSharedKey(body).identities[0].identity); // Uint8Array(2) [ 9, 9 ]
 * ```
 */
export function parsePreSharedKey(body: Uint8Array): PreSharedKeyOffer<ArrayBuffer> {
  const reader = new PreSharedKeyReader(body);
  const identities: PskIdentity<ArrayBuffer>[] = [];
  for (const { identity, obfuscatedTicketAge } of reader) {
    identities.push({ identity, obfuscatedTicketAge });
  }
  const r = new Reader(body, "pre_shared_key", reader.bindersOffset);
  if (identities.length === 0) r.fail("no identities");
  const list = r.prefixed16("binders");
  r.expectEnd("binders");
  const binders: Uint8Array<ArrayBuffer>[] = [];
  while (list.remaining > 0) {
    const len = list.u8(`binder ${binders.length} length`);
    if (len < 32) list.fail(`binder ${binders.length} is ${len} bytes, at least 32 expected`);
    binders.push(list.bytes(len, `binder ${binders.length}`));
  }
  if (binders.length !== identities.length) {
    r.fail(`${identities.length} identities but ${binders.length} binders`);
  }
  return { identities, binders };
}

/**
 * Encodes a `pre_shared_key` ClientHello body: `u16 len { u16 len, identity, u32 age }*,
 * u16 len { u8 len, binder }*`. Anything the wire can carry is written as given (empty
 * identities, a binder count that differs from the identity count), so tests can build the
 * malformed cases too.
 *
 * @param offer Identities and binders.
 * @returns The extension body.
 * @throws {TlsAlert} internal_error (80) when a value does not fit its length field.
 *
 * @example
 * ```ts
 * import { encodePreSharedKey } from "./psk.ts";
 * const body = encodePreSharedKey({
 *   identities: [{ identity: new Uint8Array([0xab]), obfuscatedTicketAge: 0x01020304 }],
 *   binders: [new Uint8Array([0xcd])],
 * });
 * console.log(Array.from(body));
 * // [0, 7, 0, 1, 171, 1, 2, 3, 4, 0, 2, 1, 205]
 * ```
 */
export function encodePreSharedKey(offer: PreSharedKeyOffer): Uint8Array<ArrayBuffer> {
  let idSize = 0;
  for (const [i, { identity, obfuscatedTicketAge }] of offer.identities.entries()) {
    checkBytes(identity, 0xffff, `identity ${i}`);
    checkUint(obfuscatedTicketAge, 0xffffffff, `identity ${i} obfuscated_ticket_age`);
    idSize += 2 + identity.length + 4;
  }
  let binderSize = 0;
  for (const [i, binder] of offer.binders.entries()) {
    checkBytes(binder, 0xff, `binder ${i}`);
    binderSize += 1 + binder.length;
  }
  checkUint(idSize, 0xffff, "identities length");
  checkUint(binderSize, 0xffff, "binders length");
  checkUint(4 + idSize + binderSize, 0xffff, "pre_shared_key length");
  const w = new Writer(4 + idSize + binderSize);
  w.u16(idSize);
  for (const { identity, obfuscatedTicketAge } of offer.identities) {
    w.u16(identity.length);
    w.bytes(identity);
    w.u32(obfuscatedTicketAge);
  }
  w.u16(binderSize);
  for (const binder of offer.binders) {
    w.u8(binder.length);
    w.bytes(binder);
  }
  return w.done();
}
