/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1), synchronous: HKDF-Extract and HKDF-Expand-Label
 * with the `"tls13 "` prefix, Derive-Secret, the early / handshake / master / resumption secrets
 * with their `"derived"` steps, the transcript hash (with the §4.4.1 `message_hash` that replaces
 * the first ClientHello after a HelloRetryRequest), Finished verify_data (§4.4.4), PSK binders
 * (§4.2.11.2), traffic keys and IVs (§7.3) and key updates (§7.2).
 *
 * Built on the synchronous SHA-256 / SHA-384 and HMAC of `src/crypto/` and the HKDF of
 * `src/server/hkdf.ts` (shared with the ticket engine) rather than Web Crypto: a handshake makes
 * about thirty small HMAC calls and reads the transcript hash at several points, and doing that
 * without a promise per step is several times faster (see `bench/tls_hash_bench.ts`). The results
 * agree byte for byte with an independent Web Crypto HKDF and with the RFC 8448 traces
 * (`tests/tls_key_schedule_test.ts`).
 *
 * Secrets are returned as fresh `Uint8Array<ArrayBuffer>`s (ready for `crypto.subtle.importKey`)
 * and never appear in error messages, `toString` or JSON. Caller mistakes (unknown hash, wrong
 * lengths, steps out of order) raise `TlsAlert` internal_error (80).
 *
 * @module
 */

import { HmacKey, Sha2, sha2 } from "../crypto/sha2.ts";
import {
  checkBytes,
  EMPTY,
  EMPTY_HASH,
  expandLabel,
  hashLength,
  type HashName,
  internal,
  ZEROS,
} from "../server/hkdf.ts";

export {
  deriveSecret,
  type HashName,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
} from "../server/hkdf.ts";

/** A client / server pair of traffic secrets. */
export interface TrafficSecrets {
  /** The client's traffic secret (`c hs traffic`, `c ap traffic`). Secret: do not log. */
  client: Uint8Array<ArrayBuffer>;
  /** The server's traffic secret (`s hs traffic`, `s ap traffic`). Secret: do not log. */
  server: Uint8Array<ArrayBuffer>;
}

/** The application traffic secrets and the exporter master secret. */
export interface ApplicationSecrets extends TrafficSecrets {
  /** `exp master`, the exporter master secret (RFC 8446 §7.5). Secret: do not log. */
  exporter: Uint8Array<ArrayBuffer>;
}

/** The 0-RTT secrets derived from the early secret and the ClientHello. */
export interface EarlySecrets {
  /** `c e traffic`, the client's early traffic secret. Secret: do not log. */
  client: Uint8Array<ArrayBuffer>;
  /** `e exp master`, the early exporter master secret. Secret: do not log. */
  exporter: Uint8Array<ArrayBuffer>;
}

/** An AEAD write key and its 12-byte IV (RFC 8446 §7.3). */
export interface TrafficKey {
  /** The AEAD key: 16 bytes (AES-128-GCM) or 32 (AES-256-GCM, ChaCha20-Poly1305). */
  key: Uint8Array<ArrayBuffer>;
  /** The 12-byte IV that the record sequence number is XORed into (§5.3). */
  iv: Uint8Array<ArrayBuffer>;
}

/** A stage of the key schedule whose secret {@link KeySchedule.stageSecret} returns. */
export type KeyScheduleStage = "early" | "handshake" | "master";

/**
 * The running transcript hash of a handshake (RFC 8446 §4.4.1): handshake messages go in as they
 * are sent or received (with their 4-byte handshake headers), and {@link TranscriptHash.digest}
 * can be read at any point without ending the hash.
 *
 * @example
 * ```ts
 * import { TranscriptHash } from "./key_schedule.ts";
 * const t = new TranscriptHash("SHA-256");
 * t.update(new Uint8Array([1, 0, 0, 0]));          // a (fake) empty ClientHello
 * const helloHash = t.digest();
 * t.update(new Uint8Array([2, 0, 0, 0]));
 * console.log(helloHash.length, t.digest().length); // 32 32
 * ```
 */
export class TranscriptHash {
  /** The suite hash. */
  readonly hash: HashName;
  /** Hash.length: 32 or 48. */
  readonly length: 32 | 48;
  #h: Sha2;

  /**
   * Starts an empty transcript.
   *
   * @param hash The suite hash.
   * @throws {TlsAlert} internal_error (80) for any other hash.
   */
  constructor(hash: HashName) {
    this.length = hashLength(hash);
    this.hash = hash;
    this.#h = new Sha2(hash);
  }

  /**
   * The synthetic `message_hash` handshake message that stands for ClientHello1 after a
   * HelloRetryRequest (RFC 8446 §4.4.1): `0xfe, 00 00 Hash.length, Hash(ClientHello1)`.
   *
   * @param hash The suite hash (the one the HelloRetryRequest selects).
   * @param clientHello1 The first ClientHello, with its handshake header.
   * @returns The `4 + Hash.length` bytes of the message.
   * @throws {TlsAlert} internal_error (80) on a bad hash or a non-Uint8Array.
   *
   * @example
   * ```ts
   * import { TranscriptHash } from "./key_schedule.ts";
   * const m = TranscriptHash.messageHash("SHA-384", new Uint8Array([1, 0, 0, 0]));
   * console.log(m.length, m[0], m[3]); // 52 254 48
   * ```
   */
  static messageHash(hash: HashName, clientHello1: Uint8Array): Uint8Array<ArrayBuffer> {
    const len = hashLength(hash);
    checkBytes("ClientHello1", clientHello1, 0, Number.MAX_SAFE_INTEGER);
    const out = new Uint8Array(4 + len);
    out[0] = 254; // HandshakeType.message_hash
    out[3] = len;
    out.set(sha2(hash, clientHello1), 4);
    return out;
  }

  /**
   * The transcript to continue with after sending a HelloRetryRequest (RFC 8446 §4.4.1): it
   * starts with `message_hash` in place of ClientHello1. Add the HelloRetryRequest, ClientHello2
   * and the rest to it as usual.
   *
   * @param hash The suite hash the HelloRetryRequest selects.
   * @param clientHello1 The first ClientHello, with its handshake header.
   * @returns A new transcript holding only the `message_hash` message.
   * @throws {TlsAlert} internal_error (80) on a bad hash or a non-Uint8Array.
   *
   * @example
   * ```ts
   * import { TranscriptHash } from "./key_schedule.ts";
   * const ch1 = new Uint8Array([1, 0, 0, 0]);
   * const t = TranscriptHash.afterHelloRetry("SHA-256", ch1);
   * const same = new TranscriptHash("SHA-256");
   * same.update(TranscriptHash.messageHash("SHA-256", ch1));
   * console.log(t.digest().toHex() === same.digest().toHex()); // true
   * ```
   */
  static afterHelloRetry(hash: HashName, clientHello1: Uint8Array): TranscriptHash {
    const t = new TranscriptHash(hash);
    t.update(TranscriptHash.messageHash(hash, clientHello1));
    return t;
  }

  /**
   * Appends a handshake message (or any part of one: the hash only sees the concatenation).
   *
   * @param message The bytes, including the 4-byte handshake header.
   * @returns This transcript.
   * @throws {TlsAlert} internal_error (80) if `message` is not a Uint8Array.
   *
   * @example
   * ```ts
   * import { TranscriptHash } from "./key_schedule.ts";
   * const t = new TranscriptHash("SHA-256").update(new Uint8Array([20, 0, 0, 0]));
   * console.log(t.digest().length); // 32
   * ```
   */
  update(message: Uint8Array): this {
    if (!(message instanceof Uint8Array)) throw internal("transcript message must be a Uint8Array");
    this.#h.update(message);
    return this;
  }

  /**
   * `Transcript-Hash` of everything added so far. The transcript keeps going.
   *
   * @returns Hash.length bytes.
   *
   * @example
   * ```ts
   * import { TranscriptHash } from "./key_schedule.ts";
   * console.log(new TranscriptHash("SHA-256").digest().toHex().slice(0, 8)); // "e3b0c442"
   * ```
   */
  digest(): Uint8Array<ArrayBuffer> {
    return this.#h.digest();
  }

  /**
   * An independent copy, e.g. to hash a truncated ClientHello for a binder while the real
   * transcript continues.
   *
   * @returns A new transcript in the same state.
   *
   * @example
   * ```ts
   * import { TranscriptHash } from "./key_schedule.ts";
   * const a = new TranscriptHash("SHA-384").update(new Uint8Array([1, 2]));
   * const b = a.clone().update(new Uint8Array([3]));
   * console.log(a.digest().toHex() === b.digest().toHex()); // false
   * ```
   */
  clone(): TranscriptHash {
    const t = new TranscriptHash(this.hash);
    t.#h.copyFrom(this.#h);
    return t;
  }
}

/**
 * The key schedule of one handshake (RFC 8446 §7.1): the early secret from the PSK (or zeros),
 * then the handshake secret from the (EC)DHE shared secret, then the master secret, each stage
 * salted with `Derive-Secret(previous, "derived", "")`. Stages go in order:
 * {@link KeySchedule.handshake} once, then {@link KeySchedule.application} and
 * {@link KeySchedule.resumption}.
 *
 * @example
 * ```ts
 * import { KeySchedule, TranscriptHash } from "./key_schedule.ts";
 * const transcript = new TranscriptHash("SHA-256");
 * transcript.update(new Uint8Array([1, 0, 0, 0])).update(new Uint8Array([2, 0, 0, 0]));
 * const ks = new KeySchedule("SHA-256");            // full handshake: no PSK
 * const hs = ks.handshake(crypto.getRandomValues(new Uint8Array(32)), transcript.digest());
 * // ... EncryptedExtensions, Certificate, CertificateVerify, server Finished ...
 * const app = ks.application(transcript.digest());
 * console.log(hs.server.length, app.client.length, app.exporter.length); // 32 32 32
 * ```
 */
export class KeySchedule {
  /** The suite hash. */
  readonly hash: HashName;
  #len: 32 | 48;
  #early: Uint8Array<ArrayBuffer>;
  #earlyKey: HmacKey;
  #handshake?: Uint8Array<ArrayBuffer>;
  #master?: Uint8Array<ArrayBuffer>;
  #masterKey?: HmacKey;

  /**
   * Computes the early secret: `HKDF-Extract(0, PSK)`, with Hash.length zeros as the PSK when
   * there is none.
   *
   * @param hash The suite hash.
   * @param psk The pre-shared key (a resumption PSK is Hash.length bytes); omit for a full
   *   handshake.
   * @throws {TlsAlert} internal_error (80) on a bad hash or an empty / oversized PSK.
   *
   * @example
   * ```ts
   * import { KeySchedule } from "./key_schedule.ts";
   * const ks = new KeySchedule("SHA-384", new Uint8Array(48).fill(7));
   * console.log(ks.binderKey().length); // 48
   * ```
   */
  constructor(hash: HashName, psk?: Uint8Array) {
    this.#len = hashLength(hash);
    this.hash = hash;
    if (psk !== undefined) checkBytes("PSK", psk, 1, 0xffff);
    this.#early = new HmacKey(hash, ZEROS[hash]).sign(psk ?? ZEROS[hash]);
    this.#earlyKey = new HmacKey(hash, this.#early);
  }

  /**
   * The PSK binder key: `Derive-Secret(early, "res binder" | "ext binder", "")` (RFC 8446 §7.1).
   *
   * @param external `true` for an external PSK (`"ext binder"`), `false` for a resumption PSK.
   * @returns Hash.length bytes; pass to {@link binder}. Secret: do not log.
   *
   * @example
   * ```ts
   * import { KeySchedule } from "./key_schedule.ts";
   * const ks = new KeySchedule("SHA-256", new Uint8Array(32));
   * console.log(ks.binderKey().toHex() === ks.binderKey(true).toHex()); // false
   * ```
   */
  binderKey(external = false): Uint8Array<ArrayBuffer> {
    const label = external ? "ext binder" : "res binder";
    return expandLabel(this.#earlyKey, label, EMPTY_HASH[this.hash], this.#len);
  }

  /**
   * The 0-RTT secrets: `c e traffic` and `e exp master` over the whole ClientHello.
   *
   * @param clientHelloHash `Transcript-Hash(ClientHello)`, Hash.length bytes.
   * @returns The client early traffic secret and the early exporter master secret.
   * @throws {TlsAlert} internal_error (80) on a wrong-length hash.
   *
   * @example
   * ```ts
   * import { KeySchedule, TranscriptHash } from "./key_schedule.ts";
   * const ks = new KeySchedule("SHA-256", new Uint8Array(32).fill(1));
   * const ch = new TranscriptHash("SHA-256").update(new Uint8Array([1, 0, 0, 0]));
   * console.log(ks.earlyTraffic(ch.digest()).client.length); // 32
   * ```
   */
  earlyTraffic(clientHelloHash: Uint8Array): EarlySecrets {
    checkBytes("ClientHello hash", clientHelloHash, this.#len, this.#len);
    return {
      client: expandLabel(this.#earlyKey, "c e traffic", clientHelloHash, this.#len),
      exporter: expandLabel(this.#earlyKey, "e exp master", clientHelloHash, this.#len),
    };
  }

  /**
   * Enters the handshake stage: `handshake = HKDF-Extract(Derive-Secret(early, "derived", ""),
   * (EC)DHE)`, then the handshake traffic secrets over `ClientHello…ServerHello`.
   *
   * @param dhe The (EC)DHE shared secret (1 … 255 bytes, e.g. 32 for X25519).
   * @param helloHash `Transcript-Hash(ClientHello…ServerHello)`, Hash.length bytes.
   * @returns `c hs traffic` and `s hs traffic`. Secret: do not log.
   * @throws {TlsAlert} internal_error (80) on bad lengths or when called a second time.
   *
   * @example
   * ```ts
   * import { KeySchedule } from "./key_schedule.ts";
   * const ks = new KeySchedule("SHA-256");
   * const { client, server } = ks.handshake(new Uint8Array(32).fill(9), new Uint8Array(32));
   * console.log(client.toHex() === server.toHex()); // false
   * ```
   */
  handshake(dhe: Uint8Array, helloHash: Uint8Array): TrafficSecrets {
    if (this.#handshake !== undefined) throw internal("handshake secret already derived");
    checkBytes("(EC)DHE shared secret", dhe, 1, 255);
    checkBytes("ClientHello..ServerHello hash", helloHash, this.#len, this.#len);
    const salt = expandLabel(this.#earlyKey, "derived", EMPTY_HASH[this.hash], this.#len);
    const hs = this.#handshake = new HmacKey(this.hash, salt).sign(dhe);
    salt.fill(0);
    const key = new HmacKey(this.hash, hs);
    const client = expandLabel(key, "c hs traffic", helloHash, this.#len);
    const server = expandLabel(key, "s hs traffic", helloHash, this.#len);
    // Master secret: HKDF-Extract(Derive-Secret(handshake, "derived", ""), 0).
    const salt2 = expandLabel(key, "derived", EMPTY_HASH[this.hash], this.#len);
    this.#master = new HmacKey(this.hash, salt2).sign(ZEROS[this.hash]);
    salt2.fill(0);
    this.#masterKey = new HmacKey(this.hash, this.#master);
    return { client, server };
  }

  #requireMaster(): HmacKey {
    if (this.#masterKey === undefined) throw internal("key schedule: handshake() has not run");
    return this.#masterKey;
  }

  /**
   * The application traffic secrets and the exporter master secret over
   * `ClientHello…server Finished`.
   *
   * @param finishedHash `Transcript-Hash(ClientHello…server Finished)`, Hash.length bytes.
   * @returns `c ap traffic`, `s ap traffic` and `exp master`. Secret: do not log.
   * @throws {TlsAlert} internal_error (80) on a bad length or before {@link KeySchedule.handshake}.
   *
   * @example
   * ```ts
   * import { KeySchedule } from "./key_schedule.ts";
   * const ks = new KeySchedule("SHA-384");
   * ks.handshake(new Uint8Array(48).fill(1), new Uint8Array(48));
   * console.log(ks.application(new Uint8Array(48)).exporter.length); // 48
   * ```
   */
  application(finishedHash: Uint8Array): ApplicationSecrets {
    const key = this.#requireMaster();
    checkBytes("ClientHello..server Finished hash", finishedHash, this.#len, this.#len);
    return {
      client: expandLabel(key, "c ap traffic", finishedHash, this.#len),
      server: expandLabel(key, "s ap traffic", finishedHash, this.#len),
      exporter: expandLabel(key, "exp master", finishedHash, this.#len),
    };
  }

  /**
   * The resumption master secret `res master` over `ClientHello…client Finished`; ticket PSKs
   * are `HKDF-Expand-Label(it, "resumption", ticket_nonce, Hash.length)` (RFC 8446 §4.6.1).
   *
   * @param clientFinishedHash `Transcript-Hash(ClientHello…client Finished)`, Hash.length bytes.
   * @returns Hash.length bytes. Secret: do not log.
   * @throws {TlsAlert} internal_error (80) on a bad length or before {@link KeySchedule.handshake}.
   *
   * @example
   * ```ts
   * import { hkdfExpandLabel, KeySchedule } from "./key_schedule.ts";
   * const ks = new KeySchedule("SHA-256");
   * ks.handshake(new Uint8Array(32).fill(1), new Uint8Array(32));
   * const rms = ks.resumption(new Uint8Array(32));
   * const psk = hkdfExpandLabel("SHA-256", rms, "resumption", new Uint8Array(8), 32);
   * console.log(psk.length); // 32
   * ```
   */
  resumption(clientFinishedHash: Uint8Array): Uint8Array<ArrayBuffer> {
    const key = this.#requireMaster();
    checkBytes("ClientHello..client Finished hash", clientFinishedHash, this.#len, this.#len);
    return expandLabel(key, "res master", clientFinishedHash, this.#len);
  }

  /**
   * A copy of a stage secret (early, handshake or master), for test vectors and diagnostics.
   *
   * @param stage Which secret.
   * @returns Hash.length bytes. Secret: do not log.
   * @throws {TlsAlert} internal_error (80) for a stage not reached yet.
   *
   * @example
   * ```ts
   * import { KeySchedule } from "./key_schedule.ts";
   * const ks = new KeySchedule("SHA-256");
   * console.log(ks.stageSecret("early").toHex().slice(0, 8)); // "33ad0a1c"
   * ```
   */
  stageSecret(stage: KeyScheduleStage): Uint8Array<ArrayBuffer> {
    let s: Uint8Array<ArrayBuffer> | undefined;
    if (stage === "early") s = this.#early;
    else if (stage === "handshake") s = this.#handshake;
    else if (stage === "master") s = this.#master;
    else throw internal(`unknown key schedule stage ${String(stage)}`);
    if (s === undefined) throw internal(`key schedule: ${stage} secret not derived yet`);
    return s.slice();
  }

  /** Shows the hash and the stage reached, never a secret. */
  toString(): string {
    const stage = this.#master ? "master" : "early";
    return `KeySchedule(${this.hash}, ${stage})`;
  }

  /** JSON form without secrets. */
  toJSON(): { hash: HashName } {
    return { hash: this.hash };
  }
}

/**
 * Finished `verify_data` (RFC 8446 §4.4.4): `HMAC(finished_key, transcriptHash)` with
 * `finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)`.
 *
 * @param hash The suite hash.
 * @param baseKey The sender's handshake traffic secret, Hash.length bytes.
 * @param transcriptHash `Transcript-Hash` up to (not including) this Finished, Hash.length bytes.
 * @returns Hash.length bytes of verify_data (compare received ones with
 * `constantTimeEqual` from `../ticket/bytes.ts`).
 * @throws {TlsAlert} internal_error (80) on a bad hash or lengths.
 *
 * @example
 * ```ts
 * import { finishedVerifyData } from "./key_schedule.ts";
 * const vd = finishedVerifyData("SHA-256", new Uint8Array(32).fill(2), new Uint8Array(32));
 * console.log(vd.length); // 32
 * ```
 */
export function finishedVerifyData(
  hash: HashName,
  baseKey: Uint8Array,
  transcriptHash: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const hLen = hashLength(hash);
  checkBytes("Finished base key", baseKey, hLen, hLen);
  checkBytes("transcript hash", transcriptHash, hLen, hLen);
  const finishedKey = expandLabel(new HmacKey(hash, baseKey), "finished", EMPTY, hLen);
  const out = new HmacKey(hash, finishedKey).sign(transcriptHash);
  finishedKey.fill(0);
  return out;
}

/**
 * A PSK binder (RFC 8446 §4.2.11.2): the Finished computation keyed by the binder key over the
 * hash of the ClientHello truncated before the binders list.
 *
 * @param hash The suite hash (the PSK's).
 * @param binderKey From {@link KeySchedule.binderKey}, Hash.length bytes.
 * @param truncatedHelloHash `Transcript-Hash(Truncate(ClientHello))` (after a HelloRetryRequest,
 *   with the earlier messages in front), Hash.length bytes.
 * @returns Hash.length bytes (compare with `constantTimeEqual` from `../ticket/bytes.ts`).
 * @throws {TlsAlert} internal_error (80) on a bad hash or lengths.
 *
 * @example
 * ```ts
 * import { binder, KeySchedule, TranscriptHash } from "./key_schedule.ts";
 * const ks = new KeySchedule("SHA-256", new Uint8Array(32).fill(5));
 * const truncated = new TranscriptHash("SHA-256").update(new Uint8Array([1, 0, 1, 0]));
 * console.log(binder("SHA-256", ks.binderKey(), truncated.digest()).length); // 32
 * ```
 */
export function binder(
  hash: HashName,
  binderKey: Uint8Array,
  truncatedHelloHash: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return finishedVerifyData(hash, binderKey, truncatedHelloHash);
}

/**
 * The record protection key and IV of a traffic secret (RFC 8446 §7.3):
 * `HKDF-Expand-Label(secret, "key", "", keyLength)` and `HKDF-Expand-Label(secret, "iv", "", 12)`.
 *
 * @param hash The suite hash.
 * @param secret A traffic secret, Hash.length bytes.
 * @param keyLength 16 for AES-128-GCM, 32 for AES-256-GCM and ChaCha20-Poly1305.
 * @returns The key and the 12-byte IV. Secret: do not log.
 * @throws {TlsAlert} internal_error (80) on a bad hash, secret length or key length.
 *
 * @example
 * ```ts
 * import { trafficKey } from "./key_schedule.ts";
 * const { key, iv } = trafficKey("SHA-256", new Uint8Array(32).fill(3), 16);
 * const aes = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
 * console.log(aes.algorithm.name, iv.length); // "AES-GCM" 12
 * ```
 */
export function trafficKey(hash: HashName, secret: Uint8Array, keyLength: 16 | 32): TrafficKey {
  const hLen = hashLength(hash);
  checkBytes("traffic secret", secret, hLen, hLen);
  if (keyLength !== 16 && keyLength !== 32) throw internal("traffic key length must be 16 or 32");
  const key = new HmacKey(hash, secret);
  return { key: expandLabel(key, "key", EMPTY, keyLength), iv: expandLabel(key, "iv", EMPTY, 12) };
}

/**
 * The next application traffic secret after a KeyUpdate (RFC 8446 §7.2):
 * `HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)`.
 *
 * @param hash The suite hash.
 * @param secret The current application traffic secret, Hash.length bytes.
 * @returns Hash.length bytes. Secret: do not log.
 * @throws {TlsAlert} internal_error (80) on a bad hash or length.
 *
 * @example
 * ```ts
 * import { nextTrafficSecret } from "./key_schedule.ts";
 * const s1 = nextTrafficSecret("SHA-384", new Uint8Array(48).fill(4));
 * console.log(s1.length); // 48
 * ```
 */
export function nextTrafficSecret(hash: HashName, secret: Uint8Array): Uint8Array<ArrayBuffer> {
  const hLen = hashLength(hash);
  checkBytes("traffic secret", secret, hLen, hLen);
  return expandLabel(new HmacKey(hash, secret), "traffic upd", EMPTY, hLen);
}
