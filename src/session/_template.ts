/**
 * Private: the `SSL_SESSION_ASN1` template of OpenSSL's `ssl/ssl_asn1.c` as one table, which
 * the encoder (`codec.ts`) and the decoder (`_decode.ts`) both follow. The five fields at the
 * head of the SEQUENCE (version, ssl_version, cipher, session_id, master_key) are always
 * present and each has a rule of its own; after them come the OPTIONAL context-tagged fields
 * `[0]` to `[20]`, one row each in {@link SESSION_TEMPLATE}. A field OpenSSL adds is one row
 * here (plus its property on `SslSession`).
 *
 * @module
 */

import type { SslSession } from "./ssl_session.ts";
import { MAX_SID_CTX_LENGTH } from "./ssl_session.ts";

/** `SSL_SESSION_ASN1_VERSION`: the only version of the DER form. */
export const SESSION_ASN1_VERSION = 1;

/** An integer type of the template, with its range (`crypto/asn1/x_int64.c`). */
export interface IntKind {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly bigMin: bigint;
  readonly bigMax: bigint;
}
const kind = (name: string, min: bigint, max: bigint): IntKind => ({
  name,
  // 64-bit values are limited to safe integers here.
  min: Math.max(Number(min), Number.MIN_SAFE_INTEGER),
  max: Math.min(Number(max), Number.MAX_SAFE_INTEGER),
  bigMin: min,
  bigMax: max,
});
/** `uint32_t` fields. */
export const UINT32: IntKind = kind("uint32", 0n, 0xffffffffn);
/** `int32_t` fields. */
export const INT32: IntKind = kind("int32", -0x80000000n, 0x7fffffffn);
/** `int64_t` fields. */
export const INT64: IntKind = kind("int64", -(1n << 63n), (1n << 63n) - 1n);
/** `uint64_t` fields. */
export const UINT64: IntKind = kind("uint64", 0n, (1n << 64n) - 1n);

/**
 * What a row's element holds, and so how it is written and read:
 * - `integer`: `[n] EXPLICIT INTEGER`, a number property.
 * - `octets`: `[n] EXPLICIT OCTET STRING`, a byte property, kept as read.
 * - `cstring`: the same, but d2i keeps the bytes up to the first NUL (`OPENSSL_strndup`).
 * - `string`: the same as `cstring`, held as a Latin-1 string property.
 * - `byte`: a one-byte `[n] EXPLICIT OCTET STRING` (d2i refuses any other length), a number.
 * - `certificate`: `[n] EXPLICIT Certificate`, a DER SEQUENCE kept raw.
 * - `appData`: `[n] EXPLICIT OCTET STRING` held in the session's ticket app data.
 * - `ignored`: `[n] IMPLICIT OCTET STRING` that i2d never writes and d2i reads and drops.
 */
export type FieldType =
  | "integer"
  | "octets"
  | "cstring"
  | "string"
  | "byte"
  | "certificate"
  | "appData"
  | "ignored";

/**
 * What d2i does to an integer after reading it:
 * - `asIs`: stores it.
 * - `low32`: keeps its low 32 bits (`ret->flags = (int32_t)as->flags`, a `uint32_t`).
 * - `zeroIsNow`: a 0 or absent value becomes the current time.
 * - `zeroIs3s`: a 0 or absent value becomes 3 (seconds).
 */
export type ReadRule = "asIs" | "low32" | "zeroIsNow" | "zeroIs3s";

type FieldOf<T> = { [K in keyof SslSession]: SslSession[K] extends T ? K : never }[
  keyof SslSession
];
/** The `SslSession` properties that hold a number. */
export type NumberField = FieldOf<number>;
/** The `SslSession` properties that hold bytes (or `null` for absent). */
export type BytesField = FieldOf<Uint8Array | null>;
/** The `SslSession` properties that hold a string (or `null` for absent). */
export type StringField = FieldOf<string | null>;

/** A row of {@link SESSION_TEMPLATE}; every row has every property, so all have one shape. */
interface Row<T extends FieldType, F extends string, I extends IntKind | null> {
  /** The context tag number `n` of `[n]`. */
  readonly tag: number;
  /** The `SslSession` property (`ticketAppData`: its getter and setter; `keyArg`: none). */
  readonly field: F;
  /** What the element holds. */
  readonly type: T;
  /** For `integer` rows, the template's integer type: the range d2i accepts. */
  readonly der: I;
  /** For `integer` rows, the range of the value the session holds: what i2d accepts. */
  readonly value: I;
  /** The most bytes OpenSSL takes in a byte field (`Infinity`: no limit). */
  readonly maxLength: number;
  /** i2d writes the field even when it is 0 or empty; otherwise 0 or `null` omits it ("Z"). */
  readonly always: boolean;
  /** What d2i does to the integer it read. */
  readonly read: ReadRule;
}

/** One OPTIONAL field of the template. */
export type TemplateRow =
  | Row<"integer", NumberField, IntKind>
  | Row<"octets", BytesField, null>
  | Row<"cstring", BytesField, null>
  | Row<"certificate", BytesField, null>
  | Row<"string", StringField, null>
  | Row<"byte", NumberField, null>
  | Row<"appData", "ticketAppData", null>
  | Row<"ignored", "keyArg", null>;

/** Options of a row, beside its tag, field and type. */
interface RowOptions {
  der?: IntKind | null;
  value?: IntKind | null;
  maxLength?: number;
  always?: boolean;
  read?: ReadRule;
}

type RowOf<T extends FieldType> = Extract<TemplateRow, { type: T }>;

function row<T extends FieldType>(
  tag: number,
  field: RowOf<T>["field"],
  type: T,
  o: RowOptions = {},
): RowOf<T> {
  const der = o.der ?? null;
  return {
    tag,
    field,
    type,
    der,
    value: o.value ?? der,
    maxLength: o.maxLength ?? Infinity,
    always: o.always ?? false,
    read: o.read ?? "asIs",
  } as RowOf<T>;
}

/** An `[n] EXPLICIT INTEGER` row of template type `der` ("Z" types omit 0 unless `always`). */
const integer = (tag: number, field: NumberField, der: IntKind, o: RowOptions = {}) =>
  row(tag, field, "integer", { ...o, der });

/**
 * `SSL_SESSION_ASN1`'s OPTIONAL fields, indexed by their tag: `SESSION_TEMPLATE[n].tag === n`
 * for `[0]` to `[20]`. In template order, which is also the order on the wire; i2d writes each
 * field unless it is 0 or absent (the "Z" integers and the NULL strings), except the rows marked
 * `always`. d2i takes each at most once, in this order, and nothing after the last.
 */
export const SESSION_TEMPLATE: readonly TemplateRow[] = [
  // key_arg: never written; read and ignored.
  row(0, "keyArg", "ignored"),
  // ZINT64, seconds since the epoch; d2i: 0 or absent is now.
  integer(1, "time", INT64, { read: "zeroIsNow" }),
  // ZINT64, seconds; d2i: 0 or absent is 3 seconds.
  integer(2, "timeout", INT64, { read: "zeroIs3s" }),
  // X509, present iff there is a peer certificate.
  row(3, "peerCertificate", "certificate"),
  // session_id_context: i2d always writes it, possibly empty.
  row(4, "sessionIdContext", "octets", { maxLength: MAX_SID_CTX_LENGTH, always: true }),
  // ZINT32 (0 is X509_V_OK).
  integer(5, "verifyResult", INT32),
  // tlsext_hostname, iff set.
  row(6, "hostname", "string"),
  row(7, "pskIdentityHint", "cstring"),
  row(8, "pskIdentity", "cstring"),
  // ZUINT64 tlsext_tick_lifetime_hint.
  integer(9, "ticketLifetimeHint", UINT64),
  // tlsext_tick: the client-side ticket.
  row(10, "ticket", "octets"),
  // comp_id, iff compress_meth != 0.
  row(11, "compressionId", "byte"),
  row(12, "srpUsername", "string"),
  // ZUINT64 on the wire, a uint32_t in the session: d2i keeps the low 32 bits.
  integer(13, "flags", UINT64, { value: UINT32, read: "low32" }),
  // ZUINT32 tlsext_tick_age_add.
  integer(14, "ticketAgeAdd", UINT32),
  // ZUINT32.
  integer(15, "maxEarlyData", UINT32),
  row(16, "alpnSelected", "octets"),
  // ZUINT32 tlsext_max_fragment_len_mode.
  integer(17, "maxFragmentLengthMode", UINT32),
  row(18, "ticketAppData", "appData"),
  // UINT32, not Z: i2d always writes it, even 0.
  integer(19, "kexGroup", UINT32, { always: true }),
  // OpenSSL 3.2+: peer_rpk, DER SubjectPublicKeyInfo.
  row(20, "peerRpk", "octets"),
];

/** The rows whose 0 (or absence) d2i replaces with a default. */
export const ZERO_DEFAULT_ROWS: readonly RowOf<"integer">[] = SESSION_TEMPLATE.filter(
  (r): r is RowOf<"integer"> => r.read === "zeroIsNow" || r.read === "zeroIs3s",
);
