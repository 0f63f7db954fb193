/**
 * A small scriptable TLS 1.3 client for the server tests, built on the project's own
 * `src/tls` pieces (record framing and AEAD, key schedule, key exchange) and Web Crypto. It
 * builds ClientHellos with every knob a negative test needs (suites, groups, shares including
 * none or invalid ones, signature_algorithms, SNI, ALPN, a compatibility-mode session id,
 * psk_key_exchange_modes, PSK offers from received tickets with correct or deliberately wrong
 * binders, early_data, extra or duplicate extensions, raw mutation hooks), answers a
 * HelloRetryRequest with the second ClientHello of RFC 8446 §4.1.2, decrypts and checks the
 * server flight (Finished always; CertificateVerify against the leaf certificate's key),
 * sends its Finished, keeps NewSessionTickets with their PSKs, exchanges application data and
 * KeyUpdates, and reports the alert the server sent, plaintext or protected. Raw records and
 * handshake messages can be sent at any point.
 *
 * It is a test tool: it does not validate the server's certificate chain.
 *
 * @module
 */

import { TlsAlert } from "../src/server/alert.ts";
import { acceptTls, type TlsConnection, type TlsConnectionOptions } from "../src/tls/connection.ts";
import { TlsConnectionError } from "../src/tls/errors.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import { keyExchange } from "../src/tls/key_exchange.ts";
import {
  binder as computeBinder,
  finishedVerifyData,
  type HashName,
  hkdfExpandLabel,
  KeySchedule,
  nextTrafficSecret,
  trafficKey,
  TranscriptHash,
} from "../src/tls/key_schedule.ts";
import {
  type ExtensionEntry,
  HandshakeBuffer,
  handshakeMessage,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
} from "../src/tls/messages.ts";
import {
  ContentType,
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  RecordCipher,
  RecordReader,
  type TlsTransport,
  writeAll,
} from "../src/tls/record.ts";
import {
  type MemoryTransport,
  type MemoryTransportOptions,
  memoryTransportPair,
} from "./_memory_transport.ts";

/** Cipher suites (RFC 8446 §B.4). */
export const Suite = {
  /** TLS_AES_128_GCM_SHA256. */
  AES_128_GCM_SHA256: 0x1301,
  /** TLS_AES_256_GCM_SHA384. */
  AES_256_GCM_SHA384: 0x1302,
  /** TLS_CHACHA20_POLY1305_SHA256 (the server does not support it). */
  CHACHA20_POLY1305_SHA256: 0x1303,
} as const;

/** Named groups (RFC 8446 §4.2.7). */
export const Group = {
  /** secp256r1. */
  P256: 0x0017,
  /** secp384r1. */
  P384: 0x0018,
  /** secp521r1 (not supported by the server). */
  P521: 0x0019,
  /** x25519. */
  X25519: 0x001d,
  /** x448 (not supported by the server). */
  X448: 0x001e,
} as const;

/** Extension numbers used by the tests. */
export const ExtType = {
  SERVER_NAME: 0,
  SUPPORTED_GROUPS: 10,
  SIGNATURE_ALGORITHMS: 13,
  ALPN: 16,
  PADDING: 21,
  PRE_SHARED_KEY: 41,
  EARLY_DATA: 42,
  SUPPORTED_VERSIONS: 43,
  COOKIE: 44,
  PSK_KEY_EXCHANGE_MODES: 45,
  KEY_SHARE: 51,
} as const;

/** Signature schemes offered by default. */
export const DEFAULT_SIGNATURE_ALGORITHMS: readonly number[] = [
  0x0403,
  0x0503,
  0x0807,
  0x0804,
  0x0805,
  0x0806,
];

const KEY_LENGTHS: Record<number, number> = { 0x17: 65, 0x18: 97, 0x19: 133, 0x1d: 32, 0x1e: 56 };

/** A key share to send: a group to generate a key for, or raw bytes (the client then cannot use it). */
export interface KeyShareSpec {
  /** The group. */
  group: number;
  /** Raw key_exchange bytes; omit to generate a real key pair (or random bytes for groups Web Crypto lacks). */
  keyExchange?: Uint8Array;
}

/** One PSK identity to offer. */
export interface PskIdentitySpec {
  /** The identity (a ticket). */
  identity: Uint8Array;
  /** `obfuscated_ticket_age` (default 0). */
  obfuscatedTicketAge?: number;
  /** The PSK, to compute a correct binder; without it the binder is Hash.length zero bytes. */
  psk?: Uint8Array;
  /** The PSK's hash (default SHA-256). */
  hash?: HashName;
  /** `"wrong"` flips one bit of the computed binder; bytes replace it. */
  binder?: "correct" | "wrong" | Uint8Array;
}

/** Everything a ClientHello can carry; every field has a sensible default. */
export interface ClientHelloOptions {
  /** cipher_suites (default AES-128-GCM, AES-256-GCM). */
  suites?: readonly number[];
  /** supported_groups (default x25519, P-256, P-384); `null` omits the extension. */
  groups?: readonly number[] | null;
  /** key_share entries (default one x25519 share); `[]` sends an empty list, `null` omits it. */
  keyShares?: readonly (number | KeyShareSpec)[] | null;
  /** signature_algorithms (default ECDSA, Ed25519, RSA-PSS); `null` omits it. */
  signatureAlgorithms?: readonly number[] | null;
  /** server_name host name (default none). */
  serverName?: string | null;
  /** ALPN protocols (default none). */
  alpn?: readonly string[] | null;
  /** legacy_session_id (default empty; 32 bytes for middlebox compatibility mode). */
  legacySessionId?: Uint8Array;
  /** legacy_version (default 0x0303). */
  legacyVersion?: number;
  /** random (default 32 random bytes). */
  random?: Uint8Array;
  /** legacy_compression_methods (default [0]). */
  compressionMethods?: readonly number[];
  /** supported_versions (default [0x0304]); `null` omits it (a TLS 1.2 ClientHello). */
  supportedVersions?: readonly number[] | null;
  /** psk_key_exchange_modes (default [psk_dhe_ke]); `null` omits it. */
  pskModes?: readonly number[] | null;
  /** pre_shared_key identities (default none). */
  psk?: readonly PskIdentitySpec[] | null;
  /** Send early_data (default false). */
  earlyData?: boolean;
  /** cookie (set automatically in the second ClientHello when the HelloRetryRequest had one). */
  cookie?: Uint8Array | null;
  /** More extensions, placed before pre_shared_key. */
  extraExtensions?: readonly ExtensionEntry[];
  /** Edits the final extension list (reorder, duplicate, drop) before encoding. */
  editExtensions?: (exts: ExtensionEntry[]) => ExtensionEntry[];
  /** Edits the encoded message (after binders are computed). */
  mutate?: (message: Uint8Array) => Uint8Array;
}

/** A NewSessionTicket as received, with its PSK. */
export interface ClientTicket {
  /** ticket_lifetime, seconds. */
  lifetime: number;
  /** ticket_age_add. */
  ageAdd: number;
  /** ticket_nonce. */
  nonce: Uint8Array;
  /** The ticket: the PSK identity. */
  ticket: Uint8Array;
  /** Extension type → body. */
  extensions: Map<number, Uint8Array>;
  /** The resumption PSK (RFC 8446 §4.6.1). */
  psk: Uint8Array;
  /** The hash of the connection's suite. */
  hash: HashName;
  /** The connection's suite. */
  suite: number;
  /** When it arrived (ms since the epoch). */
  receivedAt: number;
}

/**
 * The PSK identity to offer for a ticket: obfuscated age `(age in ms + ticket_age_add) mod 2^32`
 * and the ticket's PSK for a correct binder.
 *
 * @param t The ticket.
 * @param binder Binder choice (default correct).
 * @returns The spec for {@link ClientHelloOptions.psk}.
 */
export function ticketIdentity(
  t: ClientTicket,
  binder: PskIdentitySpec["binder"] = "correct",
): PskIdentitySpec {
  const age = Math.max(0, Date.now() - t.receivedAt);
  return {
    identity: t.ticket,
    obfuscatedTicketAge: (age + t.ageAdd) % 2 ** 32,
    psk: t.psk,
    hash: t.hash,
    binder,
  };
}

/** The server's ServerHello or HelloRetryRequest, read by {@link Tls13Client.readServerHello}. */
export interface ServerHelloInfo {
  /** Whether it was a HelloRetryRequest. */
  helloRetryRequest: boolean;
  /** The whole message. */
  message: Uint8Array;
  /** ServerHello.random. */
  random: Uint8Array;
  /** legacy_session_id_echo. */
  legacySessionId: Uint8Array;
  /** cipher_suite. */
  suite: number;
  /** The group: of the key share, or the one a HelloRetryRequest asks for. */
  group: number;
  /** The selected PSK identity, -1 when none. */
  pskIdentity: number;
  /** The HelloRetryRequest cookie, if any. */
  cookie: Uint8Array | null;
  /** Extension types in order. */
  extensionTypes: number[];
  /** Whether a ChangeCipherSpec came right before this message (compatibility mode). */
  precededByChangeCipherSpec: boolean;
}

/** The decrypted server flight, read by {@link Tls13Client.readServerFlight}. */
export interface ServerFlight {
  /** EncryptedExtensions: type → body. */
  encryptedExtensions: Map<number, Uint8Array>;
  /** The ALPN protocol selected, or null. */
  alpn: string | null;
  /** The certificate chain (DER), empty on resumption. */
  certificates: Uint8Array[];
  /** The CertificateVerify scheme, or null on resumption. */
  signatureScheme: number | null;
  /** Whether the CertificateVerify signature verified (null: not checked or absent). */
  signatureValid: boolean | null;
  /** The raw messages, in order. */
  messages: Uint8Array[];
}

/** What {@link Tls13Client.nextEvent} returns. */
export type ClientEvent =
  | { kind: "data"; data: Uint8Array }
  | { kind: "ticket"; ticket: ClientTicket }
  | { kind: "key_update"; requested: boolean }
  | { kind: "handshake"; type: number; body: Uint8Array; message: Uint8Array }
  | { kind: "alert"; level: number; description: number; protected: boolean }
  | { kind: "ccs" }
  | { kind: "undecryptable"; length: number }
  | { kind: "eof" };

/** The server sent an alert where a handshake message was expected. */
export class ServerAlertError extends Error {
  /** The alert description. */
  readonly alert: number;
  /** @param alert The alert description. */
  constructor(alert: number) {
    super(`the server sent alert ${alert}`);
    this.name = "ServerAlertError";
    this.alert = alert;
  }
}

/** Options of {@link Tls13Client.handshake}. */
export interface HandshakeOptions extends ClientHelloOptions {
  /** Overrides for the second ClientHello (after a HelloRetryRequest). */
  secondHello?: ClientHelloOptions;
  /** Send a ChangeCipherSpec before the client Finished (middlebox compatibility). */
  changeCipherSpec?: boolean;
  /** Runs after the first ClientHello was sent (e.g. to send early data). */
  afterClientHello?: (client: Tls13Client) => Promise<void>;
}

/** What a completed {@link Tls13Client.handshake} saw. */
export interface HandshakeOutcome {
  /** The HelloRetryRequest, when one came. */
  helloRetryRequest: ServerHelloInfo | null;
  /** The ServerHello. */
  serverHello: ServerHelloInfo;
  /** The server flight. */
  flight: ServerFlight;
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers

/** Big-endian unsigned integer of `n` bytes. */
export function uint(v: number, n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

/** `u8/u16/u24 length || body`. */
export function vec(lengthBytes: 1 | 2 | 3, body: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes([uint(body.length, lengthBytes), body]);
}

function u16s(values: readonly number[]): Uint8Array<ArrayBuffer> {
  return concatBytes(values.map((v) => uint(v, 2)));
}

function latin1(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** An extension block: `u16 length, { u16 type, u16 length, body }*`. */
export function extensionBlock(exts: readonly ExtensionEntry[]): Uint8Array<ArrayBuffer> {
  return vec(2, concatBytes(exts.map(([t, b]) => concatBytes([uint(t, 2), vec(2, b)]))));
}

/** A plaintext record (`TLSPlaintext`) with any type and legacy version. */
export function record(type: number, body: Uint8Array, version = 0x0303): Uint8Array<ArrayBuffer> {
  return concatBytes([
    new Uint8Array([type, version >> 8, version & 0xff]),
    uint(body.length, 2),
    body,
  ]);
}

/** Parses `{ u16 type, u16 len, body }*` inside a u16-prefixed block. */
function parseExtensionBlock(
  b: Uint8Array,
  off: number,
): { map: Map<number, Uint8Array>; order: number[] } {
  const total = (b[off] << 8) | b[off + 1];
  let p = off + 2;
  const end = p + total;
  if (end > b.length) throw new Error("extension block overruns its message");
  const map = new Map<number, Uint8Array>();
  const order: number[] = [];
  while (p < end) {
    const type = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    map.set(type, b.subarray(p + 4, p + 4 + len));
    order.push(type);
    p += 4 + len;
  }
  return { map, order };
}

const SUITES: Record<number, { hash: HashName; keyLength: 16 | 32; hashLength: number }> = {
  0x1301: { hash: "SHA-256", keyLength: 16, hashLength: 32 },
  0x1302: { hash: "SHA-384", keyLength: 32, hashLength: 48 },
};

const hashLength = (h: HashName) => (h === "SHA-384" ? 48 : 32);

async function cipherFor(hash: HashName, secret: Uint8Array, keyLength: 16 | 32) {
  const { key, iv } = trafficKey(hash, secret, keyLength);
  return await RecordCipher.create(key, iv);
}

// ---------------------------------------------------------------------------------------------
// Certificates: enough DER to find the leaf's SubjectPublicKeyInfo

function tlv(b: Uint8Array, off: number): { tag: number; start: number; end: number } {
  const tag = b[off];
  let len = b[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i];
    start += n;
  }
  return { tag, start, end: start + len };
}

/** The DER SubjectPublicKeyInfo of an X.509 certificate. */
export function certificateSpki(cert: Uint8Array): Uint8Array<ArrayBuffer> {
  const c = tlv(cert, 0);
  const tbs = tlv(cert, c.start);
  let p = tbs.start;
  let t = tlv(cert, p);
  if (t.tag === 0xa0) t = tlv(cert, p = t.end); // version
  p = t.end; // serialNumber
  for (let i = 0; i < 4; i++) p = tlv(cert, p).end; // signature, issuer, validity, subject
  const spki = tlv(cert, p);
  return cert.slice(p, spki.end);
}

function derToP1363(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const seq = tlv(der, 0);
  const r = tlv(der, seq.start);
  const s = tlv(der, r.end);
  const out = new Uint8Array(2 * size);
  const put = (x: { start: number; end: number }, at: number) => {
    let v = der.subarray(x.start, x.end);
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    out.set(v, at + size - v.length);
  };
  put(r, 0);
  put(s, size);
  return out;
}

/** The content a server CertificateVerify signs (RFC 8446 §4.4.3). */
export function certificateVerifyContent(transcriptHash: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes([
    new Uint8Array(64).fill(0x20),
    latin1("TLS 1.3, server CertificateVerify"),
    new Uint8Array([0]),
    transcriptHash,
  ]);
}

/**
 * Verifies a CertificateVerify signature with the leaf certificate's public key.
 *
 * @returns Whether it verifies; `null` for a scheme this helper does not know.
 */
export async function verifyCertificateVerify(
  cert: Uint8Array,
  scheme: number,
  signature: Uint8Array,
  transcriptHash: Uint8Array,
): Promise<boolean | null> {
  const spki = certificateSpki(cert);
  const data = certificateVerifyContent(transcriptHash);
  const sig = new Uint8Array(signature);
  switch (scheme) {
    case 0x0403:
    case 0x0503: {
      const [curve, hash, size] = scheme === 0x0403
        ? ["P-256", "SHA-256", 32] as const
        : ["P-384", "SHA-384", 48] as const;
      const key = await crypto.subtle.importKey(
        "spki",
        spki,
        { name: "ECDSA", namedCurve: curve },
        false,
        [
          "verify",
        ],
      );
      return await crypto.subtle.verify({ name: "ECDSA", hash }, key, derToP1363(sig, size), data);
    }
    case 0x0807: {
      const key = await crypto.subtle.importKey("spki", spki, { name: "Ed25519" }, false, [
        "verify",
      ]);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, sig, data);
    }
    case 0x0804:
    case 0x0805:
    case 0x0806: {
      const hash = scheme === 0x0804 ? "SHA-256" : scheme === 0x0805 ? "SHA-384" : "SHA-512";
      const saltLength = scheme === 0x0804 ? 32 : scheme === 0x0805 ? 48 : 64;
      const key = await crypto.subtle.importKey("spki", spki, { name: "RSA-PSS", hash }, false, [
        "verify",
      ]);
      return await crypto.subtle.verify({ name: "RSA-PSS", saltLength }, key, sig, data);
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The client

/**
 * One client connection over a transport.
 *
 * @example
 * ```ts ignore
 * const [c, s] = memoryTransportPair();
 * const conn = acceptTls(s, { credentials, context });
 * const client = new Tls13Client(c);
 * await client.handshake({ serverName: "localhost" });
 * await client.write(new TextEncoder().encode("ping"));
 * ```
 */
export class Tls13Client {
  /** The transport. */
  readonly transport: TlsTransport;
  /** Tickets received so far. */
  readonly tickets: ClientTicket[] = [];
  /** Answer a KeyUpdate with update_requested by sending one (default true). */
  autoKeyUpdate = true;
  /** Verify the CertificateVerify signature (default true). */
  verifySignature = true;
  /** The most handshake bytes per record this client sends (to test fragmentation). */
  handshakeRecordSize = MAX_PLAINTEXT_LENGTH;
  readonly #reader: RecordReader;
  readonly #hs = new HandshakeBuffer(1 << 24);
  #read: RecordCipher | null = null;
  #write: RecordCipher | null = null;
  #first: ClientHelloOptions = {};
  #ch1: Uint8Array | null = null;
  #hrr: Uint8Array | null = null;
  #hrrInfo: ServerHelloInfo | null = null;
  #keyPairs = new Map<number, CryptoKeyPair>();
  #psk: readonly PskIdentitySpec[] = [];
  #transcript: TranscriptHash | null = null;
  #pendingHellos: Uint8Array[] = [];
  #suite = 0;
  #hash: HashName = "SHA-256";
  #keyLength: 16 | 32 = 16;
  #schedule: KeySchedule | null = null;
  #hsSecrets: { client: Uint8Array; server: Uint8Array } | null = null;
  #app: { client: Uint8Array; server: Uint8Array } | null = null;
  #resumption: Uint8Array | null = null;
  #sawCcs = false;

  /** @param transport The client end of the connection. */
  constructor(transport: TlsTransport) {
    this.transport = transport;
    this.#reader = new RecordReader(transport);
    this.#reader.maxBodyLength = MAX_CIPHERTEXT_LENGTH;
  }

  /** The negotiated suite's hash. */
  get hash(): HashName {
    return this.#hash;
  }

  /** The client and server handshake traffic secrets, once derived. */
  get handshakeSecrets(): { client: Uint8Array; server: Uint8Array } | null {
    return this.#hsSecrets;
  }

  /** The current application traffic secrets, once derived. */
  get applicationSecrets(): { client: Uint8Array; server: Uint8Array } | null {
    return this.#app;
  }

  /** The key length of the negotiated suite. */
  get keyLength(): 16 | 32 {
    return this.#keyLength;
  }

  /** The current write protection (null before the ServerHello). */
  get writeCipher(): RecordCipher | null {
    return this.#write;
  }

  /** Replaces the write protection (for tests that forge records). */
  set writeCipher(c: RecordCipher | null) {
    this.#write = c;
  }

  // --- ClientHello ---------------------------------------------------------------------------

  async #share(spec: number | KeyShareSpec): Promise<ExtensionEntry> {
    const s = typeof spec === "number" ? { group: spec } : spec;
    if (s.keyExchange !== undefined) return [s.group, s.keyExchange];
    if (s.group === Group.X25519 || s.group === Group.P256 || s.group === Group.P384) {
      let pair = this.#keyPairs.get(s.group);
      if (pair === undefined) {
        const params = s.group === Group.X25519
          ? { name: "X25519" }
          : { name: "ECDH", namedCurve: s.group === Group.P256 ? "P-256" : "P-384" };
        pair = await crypto.subtle.generateKey(params, true, ["deriveBits"]) as CryptoKeyPair;
        this.#keyPairs.set(s.group, pair);
      }
      return [s.group, new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))];
    }
    const n = KEY_LENGTHS[s.group] ?? 32;
    const key = crypto.getRandomValues(new Uint8Array(n));
    if (s.group === Group.P521) key[0] = 4;
    return [s.group, key];
  }

  /** Uses this key pair for `group` instead of a fresh one (deterministic tests). */
  setKeyPair(group: number, pair: CryptoKeyPair): void {
    this.#keyPairs.set(group, pair);
  }

  /**
   * Encodes a ClientHello. PSK binders are computed over the truncated message, after the
   * messages of `prefix` (the HelloRetryRequest exchange for a second ClientHello).
   */
  async buildClientHello(
    o: ClientHelloOptions,
    prefix: (hash: HashName) => Uint8Array[] = () => [],
  ): Promise<Uint8Array<ArrayBuffer>> {
    const exts: ExtensionEntry[] = [];
    if (o.serverName) {
      const name = latin1(o.serverName);
      exts.push([ExtType.SERVER_NAME, vec(2, concatBytes([new Uint8Array([0]), vec(2, name)]))]);
    }
    const groups = o.groups === undefined ? [Group.X25519, Group.P256, Group.P384] : o.groups;
    if (groups !== null) exts.push([ExtType.SUPPORTED_GROUPS, vec(2, u16s(groups))]);
    const sigs = o.signatureAlgorithms === undefined
      ? DEFAULT_SIGNATURE_ALGORITHMS
      : o.signatureAlgorithms;
    if (sigs !== null) exts.push([ExtType.SIGNATURE_ALGORITHMS, vec(2, u16s(sigs))]);
    if (o.alpn) {
      exts.push([ExtType.ALPN, vec(2, concatBytes(o.alpn.map((p) => vec(1, latin1(p)))))]);
    }
    const shares = o.keyShares === undefined ? [Group.X25519] : o.keyShares;
    if (shares !== null) {
      const entries = await Promise.all(shares.map((s) => this.#share(s)));
      exts.push([
        ExtType.KEY_SHARE,
        vec(2, concatBytes(entries.map(([g, k]) => concatBytes([uint(g, 2), vec(2, k)])))),
      ]);
    }
    const versions = o.supportedVersions === undefined ? [0x0304] : o.supportedVersions;
    if (versions !== null) exts.push([ExtType.SUPPORTED_VERSIONS, vec(1, u16s(versions))]);
    if (o.cookie) exts.push([ExtType.COOKIE, vec(2, o.cookie)]);
    const modes = o.pskModes === undefined ? [1] : o.pskModes;
    if (modes !== null) exts.push([ExtType.PSK_KEY_EXCHANGE_MODES, vec(1, Uint8Array.from(modes))]);
    if (o.earlyData) exts.push([ExtType.EARLY_DATA, new Uint8Array(0)]);
    for (const e of o.extraExtensions ?? []) exts.push(e);
    const psk = o.psk ?? [];
    let bindersLength = 0;
    if (psk.length > 0) {
      const ids = concatBytes(
        psk.map((p) => concatBytes([vec(2, p.identity), uint(p.obfuscatedTicketAge ?? 0, 4)])),
      );
      const binders = concatBytes(psk.map((p) =>
        vec(
          1,
          p.binder instanceof Uint8Array
            ? p.binder
            : new Uint8Array(hashLength(p.hash ?? "SHA-256")),
        )
      ));
      bindersLength = binders.length + 2;
      exts.push([ExtType.PRE_SHARED_KEY, concatBytes([vec(2, ids), vec(2, binders)])]);
    }
    const finalExts = o.editExtensions ? o.editExtensions(exts.slice()) : exts;
    const body = concatBytes([
      uint(o.legacyVersion ?? 0x0303, 2),
      o.random ?? crypto.getRandomValues(new Uint8Array(32)),
      vec(1, o.legacySessionId ?? new Uint8Array(0)),
      vec(2, u16s(o.suites ?? [Suite.AES_128_GCM_SHA256, Suite.AES_256_GCM_SHA384])),
      vec(1, Uint8Array.from(o.compressionMethods ?? [0])),
      extensionBlock(finalExts),
    ]);
    const message = handshakeMessage(HandshakeType.CLIENT_HELLO, body);
    const last = finalExts[finalExts.length - 1];
    if (psk.length > 0 && last?.[0] === ExtType.PRE_SHARED_KEY) {
      const truncated = message.subarray(0, message.length - bindersLength);
      let off = message.length - bindersLength + 2;
      for (const p of psk) {
        const len = message[off];
        if (p.psk !== undefined && !(p.binder instanceof Uint8Array)) {
          const hash = p.hash ?? "SHA-256";
          const th = new TranscriptHash(hash);
          for (const m of prefix(hash)) th.update(m);
          th.update(truncated);
          const b = computeBinder(hash, new KeySchedule(hash, p.psk).binderKey(), th.digest());
          if (p.binder === "wrong") b[b.length - 1] ^= 1;
          message.set(b.subarray(0, len), off + 1);
        }
        off += 1 + len;
      }
    }
    return o.mutate ? new Uint8Array(o.mutate(message)) : message;
  }

  /**
   * Builds and sends the first ClientHello (legacy_record_version 0x0301; in records of at most
   * {@link Tls13Client.handshakeRecordSize} bytes).
   *
   * @returns The message sent.
   */
  async sendClientHello(o: ClientHelloOptions = {}): Promise<Uint8Array> {
    const resolved = {
      random: o.random ?? crypto.getRandomValues(new Uint8Array(32)),
      legacySessionId: o.legacySessionId ?? new Uint8Array(0),
    };
    this.#first = { ...o, ...resolved }; // the second ClientHello keeps random and session id
    this.#psk = o.psk ?? [];
    const message = await this.buildClientHello(this.#first);
    this.#ch1 = message;
    this.#pendingHellos = [message];
    await this.sendHandshake(message, 0x0301);
    return message;
  }

  /**
   * Sends the second ClientHello after a HelloRetryRequest (RFC 8446 §4.1.2): the first one
   * with a single share for the requested group, the cookie echoed, early_data removed and
   * the binders recomputed; `overrides` change anything else.
   *
   * @returns The message sent.
   */
  async sendSecondClientHello(overrides: ClientHelloOptions = {}): Promise<Uint8Array> {
    const hrr = this.#hrrInfo;
    if (hrr === null || this.#ch1 === null || this.#hrr === null) {
      throw new Error("no HelloRetryRequest to answer");
    }
    const { mutate: _m, editExtensions: _e, ...carried } = this.#first;
    const o: ClientHelloOptions = {
      ...carried,
      keyShares: [hrr.group],
      earlyData: false,
      cookie: hrr.cookie,
      ...overrides,
    };
    this.#psk = o.psk ?? [];
    const ch1 = this.#ch1, hrrMsg = this.#hrr;
    const message = await this.buildClientHello(
      o,
      (hash) => [TranscriptHash.messageHash(hash, ch1), hrrMsg],
    );
    this.#transcript?.update(message);
    await this.sendHandshake(message);
    return message;
  }

  // --- reading -------------------------------------------------------------------------------

  /** The next record, decrypted when protected and a read key is set. */
  async #nextRecord(): Promise<
    { type: number; content: Uint8Array; protected: boolean } | { type: -1 } | {
      type: -2;
      length: number;
    }
  > {
    const raw = await this.#reader.next();
    if (raw === null) return { type: -1 };
    if (raw.type === ContentType.APPLICATION_DATA && this.#read !== null) {
      const opened = await this.#read.open(raw.header, raw.body);
      return { type: opened.type, content: opened.content, protected: true };
    }
    if (raw.type === ContentType.APPLICATION_DATA) return { type: -2, length: raw.body.length };
    return { type: raw.type, content: raw.body.slice(), protected: false };
  }

  /** The next handshake message during the handshake; an alert throws {@link ServerAlertError}. */
  async #readHandshake(): Promise<{ type: number; body: Uint8Array; message: Uint8Array }> {
    for (;;) {
      const ready = this.#hs.next();
      if (ready) return { type: ready.type, body: ready.body, message: ready.message.slice() };
      const rec = await this.#nextRecord();
      if (rec.type === -1) throw new Error("the server closed the connection");
      if (rec.type === -2) throw new Error("protected record before the ServerHello");
      const { content } = rec as { content: Uint8Array };
      if (rec.type === ContentType.CHANGE_CIPHER_SPEC) {
        this.#sawCcs = true;
        continue;
      }
      if (rec.type === ContentType.ALERT) throw new ServerAlertError(content[1]);
      if (rec.type !== ContentType.HANDSHAKE) {
        throw new Error(`record of type ${rec.type} during the handshake`);
      }
      this.#hs.push(content);
    }
  }

  /**
   * Reads the ServerHello or HelloRetryRequest. After a ServerHello the handshake keys are
   * installed.
   */
  async readServerHello(): Promise<ServerHelloInfo> {
    this.#sawCcs = false;
    const msg = await this.#readHandshake();
    if (msg.type !== HandshakeType.SERVER_HELLO) {
      throw new Error(`expected ServerHello, got message ${msg.type}`);
    }
    const b = msg.body;
    const random = b.subarray(2, 34);
    const sidLen = b[34];
    const legacySessionId = b.subarray(35, 35 + sidLen);
    let p = 35 + sidLen;
    const suite = (b[p] << 8) | b[p + 1];
    p += 3; // suite, compression
    const { map, order } = parseExtensionBlock(b, p);
    const helloRetryRequest = random.every((v, i) => v === HELLO_RETRY_REQUEST_RANDOM[i]);
    const ks = map.get(ExtType.KEY_SHARE);
    const psk = map.get(ExtType.PRE_SHARED_KEY);
    const cookieExt = map.get(ExtType.COOKIE);
    const info: ServerHelloInfo = {
      helloRetryRequest,
      message: msg.message,
      random: random.slice(),
      legacySessionId: legacySessionId.slice(),
      suite,
      group: ks ? (ks[0] << 8) | ks[1] : -1,
      pskIdentity: psk ? (psk[0] << 8) | psk[1] : -1,
      cookie: cookieExt ? cookieExt.slice(2) : null,
      extensionTypes: order,
      precededByChangeCipherSpec: this.#sawCcs,
    };
    const s = SUITES[suite];
    if (!s) throw new Error(`the server chose suite ${suite.toString(16)}`);
    this.#suite = suite;
    this.#hash = s.hash;
    this.#keyLength = s.keyLength;
    if (helloRetryRequest) {
      if (this.#hrr !== null) throw new Error("a second HelloRetryRequest");
      this.#hrr = msg.message;
      this.#hrrInfo = info;
      this.#transcript = TranscriptHash.afterHelloRetry(s.hash, this.#ch1!).update(msg.message);
      return info;
    }
    if (this.#transcript === null) {
      this.#transcript = new TranscriptHash(s.hash);
      for (const m of this.#pendingHellos) this.#transcript.update(m);
    }
    this.#transcript.update(msg.message);
    const pair = this.#keyPairs.get(info.group);
    if (ks === undefined || pair === undefined) {
      throw new Error(`the server chose group ${info.group}, for which no key pair exists`);
    }
    const serverShare = ks.subarray(4, 4 + ((ks[2] << 8) | ks[3]));
    const { sharedSecret } = await keyExchange(
      info.group,
      serverShare,
      () => Promise.resolve(pair),
    );
    const pskSpec = info.pskIdentity >= 0 ? this.#psk[info.pskIdentity] : undefined;
    if (info.pskIdentity >= 0 && pskSpec?.psk === undefined) {
      throw new Error(`the server chose PSK identity ${info.pskIdentity}, which has no key`);
    }
    this.#schedule = new KeySchedule(s.hash, pskSpec?.psk);
    this.#hsSecrets = this.#schedule.handshake(sharedSecret, this.#transcript.digest());
    this.#read = await cipherFor(s.hash, this.#hsSecrets.server, s.keyLength);
    this.#write = await cipherFor(s.hash, this.#hsSecrets.client, s.keyLength);
    return info;
  }

  /**
   * Reads EncryptedExtensions, Certificate, CertificateVerify (full handshakes) and Finished,
   * verifies the Finished (and the signature), then installs the server's application key.
   */
  async readServerFlight(): Promise<ServerFlight> {
    const t = this.#transcript!, hash = this.#hash;
    const messages: Uint8Array[] = [];
    const ee = await this.#readHandshake();
    if (ee.type !== HandshakeType.ENCRYPTED_EXTENSIONS) {
      throw new Error(`expected EncryptedExtensions, got message ${ee.type}`);
    }
    t.update(ee.message);
    messages.push(ee.message);
    const encryptedExtensions = parseExtensionBlock(ee.body, 0).map;
    const alpnBody = encryptedExtensions.get(ExtType.ALPN);
    const alpn = alpnBody ? String.fromCharCode(...alpnBody.subarray(3, 3 + alpnBody[2])) : null;
    let next = await this.#readHandshake();
    const certificates: Uint8Array[] = [];
    let signatureScheme: number | null = null;
    let signatureValid: boolean | null = null;
    if (next.type === HandshakeType.CERTIFICATE) {
      t.update(next.message);
      messages.push(next.message);
      const b = next.body;
      let p = 1 + b[0];
      const end = p + 3 + ((b[p] << 16) | (b[p + 1] << 8) | b[p + 2]);
      p += 3;
      while (p < end) {
        const len = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
        certificates.push(b.slice(p + 3, p + 3 + len));
        p += 3 + len;
        p += 2 + ((b[p] << 8) | b[p + 1]);
      }
      const cv = await this.#readHandshake();
      if (cv.type !== HandshakeType.CERTIFICATE_VERIFY) {
        throw new Error(`expected CertificateVerify, got message ${cv.type}`);
      }
      signatureScheme = (cv.body[0] << 8) | cv.body[1];
      const sig = cv.body.subarray(4, 4 + ((cv.body[2] << 8) | cv.body[3]));
      if (this.verifySignature && certificates.length > 0) {
        signatureValid = await verifyCertificateVerify(
          certificates[0],
          signatureScheme,
          sig,
          t.digest(),
        );
      }
      t.update(cv.message);
      messages.push(cv.message);
      next = await this.#readHandshake();
    }
    if (next.type !== HandshakeType.FINISHED) {
      throw new Error(`expected Finished, got message ${next.type}`);
    }
    const expected = finishedVerifyData(hash, this.#hsSecrets!.server, t.digest());
    if (expected.toHex() !== next.body.toHex()) {
      throw new Error("the server Finished does not verify");
    }
    t.update(next.message);
    messages.push(next.message);
    this.#app = this.#schedule!.application(t.digest());
    this.#read = await cipherFor(hash, this.#app.server, this.#keyLength);
    return {
      encryptedExtensions,
      alpn,
      certificates,
      signatureScheme,
      signatureValid,
      messages,
    };
  }

  /** The client Finished message that would verify now. */
  finishedMessage(): Uint8Array<ArrayBuffer> {
    const vd = finishedVerifyData(this.#hash, this.#hsSecrets!.client, this.#transcript!.digest());
    return handshakeMessage(HandshakeType.FINISHED, vd);
  }

  /**
   * Sends the client Finished under the handshake key (or `message` instead), then switches to
   * the application key and derives the resumption master secret.
   */
  async sendFinished(message?: Uint8Array): Promise<void> {
    const fin = message ?? this.finishedMessage();
    await this.sendHandshake(fin);
    this.#transcript!.update(fin);
    this.#resumption = this.#schedule!.resumption(this.#transcript!.digest());
    this.#write = await cipherFor(this.#hash, this.#app!.client, this.#keyLength);
  }

  /** Runs a whole handshake: ClientHello (and the second one after a HelloRetryRequest), server flight, Finished. */
  async handshake(o: HandshakeOptions = {}): Promise<HandshakeOutcome> {
    await this.sendClientHello(o);
    if (o.afterClientHello) await o.afterClientHello(this);
    let sh = await this.readServerHello();
    let hrr: ServerHelloInfo | null = null;
    if (sh.helloRetryRequest) {
      hrr = sh;
      await this.sendSecondClientHello(o.secondHello);
      sh = await this.readServerHello();
      if (sh.helloRetryRequest) throw new Error("a second HelloRetryRequest");
    }
    const flight = await this.readServerFlight();
    if (o.changeCipherSpec) {
      await this.sendRaw(record(ContentType.CHANGE_CIPHER_SPEC, new Uint8Array([1])));
    }
    await this.sendFinished();
    return { helloRetryRequest: hrr, serverHello: sh, flight };
  }

  /** The next thing the server sent after (or outside) the handshake. */
  async nextEvent(): Promise<ClientEvent> {
    for (;;) {
      const ready = this.#hs.next();
      if (ready) return await this.#postHandshake(ready.type, ready.body, ready.message.slice());
      const rec = await this.#nextRecord();
      if (rec.type === -1) return { kind: "eof" };
      if (rec.type === -2) {
        return { kind: "undecryptable", length: (rec as { length: number }).length };
      }
      const r = rec as { type: number; content: Uint8Array; protected: boolean };
      if (r.type === ContentType.CHANGE_CIPHER_SPEC) return { kind: "ccs" };
      if (r.type === ContentType.ALERT) {
        return {
          kind: "alert",
          level: r.content[0],
          description: r.content[1],
          protected: r.protected,
        };
      }
      if (r.type === ContentType.APPLICATION_DATA) return { kind: "data", data: r.content };
      if (r.type === ContentType.HANDSHAKE) {
        this.#hs.push(r.content);
        continue;
      }
      throw new Error(`record of type ${r.type}`);
    }
  }

  async #postHandshake(type: number, body: Uint8Array, message: Uint8Array): Promise<ClientEvent> {
    if (type === HandshakeType.NEW_SESSION_TICKET && this.#resumption !== null) {
      const lifetime = ((body[0] << 24) >>> 0) + (body[1] << 16) + (body[2] << 8) + body[3];
      const ageAdd = ((body[4] << 24) >>> 0) + (body[5] << 16) + (body[6] << 8) + body[7];
      let p = 8;
      const nonce = body.slice(p + 1, p + 1 + body[p]);
      p += 1 + body[p];
      const tlen = (body[p] << 8) | body[p + 1];
      const ticket = body.slice(p + 2, p + 2 + tlen);
      p += 2 + tlen;
      const extensions = parseExtensionBlock(body, p).map;
      const psk = hkdfExpandLabel(
        this.#hash,
        this.#resumption,
        "resumption",
        nonce,
        hashLength(this.#hash),
      );
      const t: ClientTicket = {
        lifetime,
        ageAdd,
        nonce,
        ticket,
        extensions,
        psk,
        hash: this.#hash,
        suite: this.#suite,
        receivedAt: Date.now(),
      };
      this.tickets.push(t);
      return { kind: "ticket", ticket: t };
    }
    if (type === HandshakeType.KEY_UPDATE && this.#app !== null) {
      this.#app.server = nextTrafficSecret(this.#hash, this.#app.server);
      this.#read = await cipherFor(this.#hash, this.#app.server, this.#keyLength);
      const requested = body[0] === 1;
      if (requested && this.autoKeyUpdate) await this.keyUpdate(false);
      return { kind: "key_update", requested };
    }
    return { kind: "handshake", type, body, message };
  }

  /** Reads events until application data arrives; tickets and key updates are handled on the way. */
  async readData(): Promise<Uint8Array> {
    for (;;) {
      const e = await this.nextEvent();
      if (e.kind === "data") return e.data;
      if (e.kind === "alert") throw new ServerAlertError(e.description);
      if (e.kind === "eof") throw new Error("the server closed the connection");
    }
  }

  /** Reads events until `n` tickets in all were received. */
  async readTickets(n: number): Promise<ClientTicket[]> {
    while (this.tickets.length < n) {
      const e = await this.nextEvent();
      if (e.kind === "alert") throw new ServerAlertError(e.description);
      if (e.kind === "eof") throw new Error("the server closed the connection");
    }
    return this.tickets.slice(0, n);
  }

  /**
   * Reads (and processes) records until the server's alert; returns its description, or
   * `null` when the server closed the connection without one.
   */
  async readAlert(): Promise<number | null> {
    for (;;) {
      let e: ClientEvent;
      try {
        e = await this.nextEvent();
      } catch (err) {
        if (err instanceof Deno.errors.BadResource) return null;
        throw err;
      }
      if (e.kind === "alert") return e.description;
      if (e.kind === "eof") return null;
    }
  }

  // --- writing -------------------------------------------------------------------------------

  /** Writes raw bytes. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    await writeAll(this.transport, bytes);
  }

  /** Sends a plaintext record of any type and version. */
  async sendRecord(type: number, body: Uint8Array, version = 0x0303): Promise<void> {
    await this.sendRaw(record(type, body, version));
  }

  /** Seals `content` as one record of inner type `type` with the current write key. */
  async sealRecord(type: number, content: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#write === null) throw new Error("no write key yet");
    return await this.#write.seal(type, content);
  }

  /**
   * Sends a protected record; `padding` zero bytes follow the inner type (RFC 8446 §5.4).
   */
  async sendProtected(type: number, content: Uint8Array, padding = 0): Promise<void> {
    if (padding === 0) return await this.sendRaw(await this.sealRecord(type, content));
    // seal() appends its type byte last: pass the real type inside the content, then zeros.
    const inner = concatBytes([content, new Uint8Array([type]), new Uint8Array(padding - 1)]);
    await this.sendRaw(await this.sealRecord(0, inner));
  }

  /**
   * Sends a handshake message, protected when a write key is set, in records of at most
   * {@link Tls13Client.handshakeRecordSize} bytes.
   */
  async sendHandshake(message: Uint8Array, version = 0x0303): Promise<void> {
    const size = Math.max(1, this.handshakeRecordSize);
    for (let off = 0; off < message.length || off === 0; off += size) {
      const part = message.subarray(off, off + size);
      if (this.#write === null) await this.sendRecord(ContentType.HANDSHAKE, part, version);
      else await this.sendProtected(ContentType.HANDSHAKE, part);
      if (message.length === 0) break;
    }
  }

  /** Sends application data (split into records of at most 2^14 bytes). */
  async write(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length || off === 0; off += MAX_PLAINTEXT_LENGTH) {
      await this.sendProtected(
        ContentType.APPLICATION_DATA,
        data.subarray(off, off + MAX_PLAINTEXT_LENGTH),
      );
      if (data.length === 0) break;
    }
  }

  /** Sends KeyUpdate (value 1 with `requested`, or any `value`) and switches to the next key. */
  async keyUpdate(requested: boolean, value = requested ? 1 : 0): Promise<void> {
    await this.sendHandshake(handshakeMessage(HandshakeType.KEY_UPDATE, new Uint8Array([value])));
    await this.rotateWriteKey();
  }

  /** Switches to the next client application traffic secret (RFC 8446 §7.2). */
  async rotateWriteKey(): Promise<void> {
    this.#app!.client = nextTrafficSecret(this.#hash, this.#app!.client);
    this.#write = await cipherFor(this.#hash, this.#app!.client, this.#keyLength);
  }

  /** Sends an alert (protected when a write key is set). */
  async sendAlert(description: number, level = description === 0 ? 1 : 2): Promise<void> {
    const body = new Uint8Array([level, description]);
    if (this.#write === null) return await this.sendRecord(ContentType.ALERT, body);
    await this.sendProtected(ContentType.ALERT, body);
  }

  /** Sends close_notify (the transport stays open for reading). */
  async close(): Promise<void> {
    await this.sendAlert(0);
  }
}

// ---------------------------------------------------------------------------------------------
// A client and a server connection over an in-memory transport

/** A {@link Tls13Client} wired to an `acceptTls` connection. */
export interface ClientServerPair {
  /** The client. */
  client: Tls13Client;
  /** The server connection. */
  conn: TlsConnection;
  /** The client's end of the transport. */
  transport: MemoryTransport;
  /** Closes the client's end and waits until the server's handshake has settled. */
  done(): Promise<void>;
}

/**
 * Starts `acceptTls` on one end of a {@link memoryTransportPair} and a client on the other.
 *
 * @param options The server's options.
 * @param transport Buffer and read-size options of the transport.
 */
export function connectPair(
  options: TlsConnectionOptions,
  transport: MemoryTransportOptions = {},
): ClientServerPair {
  const [c, s] = memoryTransportPair(transport);
  const conn = acceptTls(s, options);
  return {
    client: new Tls13Client(c),
    conn,
    transport: c,
    async done() {
      c.close();
      await conn.handshake().catch(() => {});
    },
  };
}

/** Whether to print the server's error messages (`TLS_DEBUG=1`). */
const DEBUG = (() => {
  try {
    return Deno.env.get("TLS_DEBUG") !== undefined;
  } catch {
    return false;
  }
})();

/**
 * How an error from the server side ended things: the alert number it sent (`TlsAlert`), the
 * `TlsConnectionError` kind, or the error itself for anything else.
 */
export function describeError(e: unknown): number | string | unknown {
  if (DEBUG && e instanceof Error) console.log(`  server: ${e.message}`);
  if (e instanceof TlsAlert) return e.alert;
  if (e instanceof TlsConnectionError) return e.kind;
  return e;
}

/** How the server's handshake ended: `"ok"`, the alert it sent, or a `TlsConnectionError` kind. */
export async function serverOutcome(conn: TlsConnection): Promise<number | string | unknown> {
  try {
    await conn.handshake();
    return "ok";
  } catch (e) {
    return describeError(e);
  }
}

/** Reads the server's readable once: `"done"`, the data as text, or how it failed. */
export async function serverReadOnce(conn: TlsConnection): Promise<unknown> {
  const r = conn.readable.getReader();
  try {
    const { value, done } = await r.read();
    return done ? "done" : new TextDecoder().decode(value);
  } catch (e) {
    return describeError(e);
  } finally {
    r.releaseLock();
  }
}
