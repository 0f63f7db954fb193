/**
 * The TLS 1.2 pseudorandom function (RFC 5246 §5) and what is derived with it: the master
 * secret, with and without the extended master secret of RFC 7627 §4, the key block of §6.3
 * (AEAD suites: two keys and two 4-byte implicit nonces), and Finished's verify_data (§7.4.9).
 * HMAC is the synchronous SHA-2 of `src/crypto/sha2.ts`.
 *
 * @module
 */

import { HmacKey, type Sha2Name } from "../crypto/sha2.ts";
import { concatBytes } from "../ticket/bytes.ts";

const LATIN1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * `PRF(secret, label, seed)` = `P_hash(secret, label + seed)` truncated to `length` bytes,
 * where `P_hash` chains `A(i) = HMAC(secret, A(i-1))` and outputs `HMAC(secret, A(i) + seed)`
 * (RFC 5246 §5).
 *
 * @param hash The suite's PRF hash (SHA-256 for the `_SHA256` suites, SHA-384 for `_SHA384`).
 * @param secret The secret.
 * @param label The ASCII label, e.g. `"master secret"`.
 * @param seed The seed.
 * @param length Bytes wanted.
 * @returns `length` bytes.
 *
 * @example
 * ```ts
 * import { prf } from "./prf.ts";
 * const out = prf("SHA-256", new Uint8Array(16), "test label", new Uint8Array(4), 12);
 * console.log(out.length); // 12
 * ```
 */
export function prf(
  hash: Sha2Name,
  secret: Uint8Array,
  label: string,
  seed: Uint8Array,
  length: number,
): Uint8Array<ArrayBuffer> {
  const key = new HmacKey(hash, secret);
  const labelBytes = LATIN1(label);
  const fullSeed = new Uint8Array(labelBytes.length + seed.length);
  fullSeed.set(labelBytes);
  fullSeed.set(seed, labelBytes.length);
  const out = new Uint8Array(length);
  const n = key.outputLength;
  const input = new Uint8Array(n + fullSeed.length);
  input.set(fullSeed, n);
  let a: Uint8Array = fullSeed;
  for (let off = 0; off < length; off += n) {
    a = key.sign(a); // A(i)
    input.set(a, 0);
    const block = key.sign(input);
    out.set(block.subarray(0, Math.min(n, length - off)), off);
  }
  return out;
}

/**
 * The 48-byte master secret (RFC 5246 §8.1): `PRF(pms, "master secret", client_random +
 * server_random)`, or with extended master secret (RFC 7627 §4) `PRF(pms, "extended master
 * secret", session_hash)` where `session_hash` is the transcript hash through the
 * ClientKeyExchange.
 *
 * @param hash The suite's PRF hash.
 * @param preMaster The ECDHE shared secret.
 * @param seed Either `{ sessionHash }` (EMS) or `{ clientRandom, serverRandom }`.
 * @returns 48 bytes. Secret: do not log.
 *
 * @example
 * ```ts
 * import { masterSecret } from "./prf.ts";
 * const ms = masterSecret("SHA-256", new Uint8Array(32), { sessionHash: new Uint8Array(32) });
 * console.log(ms.length); // 48
 * ```
 */
export function masterSecret(
  hash: Sha2Name,
  preMaster: Uint8Array,
  seed: { sessionHash: Uint8Array } | { clientRandom: Uint8Array; serverRandom: Uint8Array },
): Uint8Array<ArrayBuffer> {
  if ("sessionHash" in seed) {
    return prf(hash, preMaster, "extended master secret", seed.sessionHash, 48);
  }
  return prf(
    hash,
    preMaster,
    "master secret",
    concatBytes([seed.clientRandom, seed.serverRandom]),
    48,
  );
}

/** The keys of an AES-GCM suite from the key block (RFC 5246 §6.3, RFC 5288 §3). */
export interface Tls12Keys {
  /** client_write_key. Secret. */
  clientKey: Uint8Array<ArrayBuffer>;
  /** server_write_key. Secret. */
  serverKey: Uint8Array<ArrayBuffer>;
  /** client_write_IV: the 4-byte implicit part of the GCM nonce (the salt). */
  clientIv: Uint8Array<ArrayBuffer>;
  /** server_write_IV. */
  serverIv: Uint8Array<ArrayBuffer>;
}

/**
 * The key block for an AEAD suite (no MAC keys): `PRF(master, "key expansion", server_random +
 * client_random)`, cut into client key, server key, client IV, server IV (RFC 5246 §6.3).
 *
 * @param hash The suite's PRF hash.
 * @param master The master secret.
 * @param clientRandom ClientHello.random.
 * @param serverRandom ServerHello.random.
 * @param keyLength 16 (AES-128-GCM) or 32 (AES-256-GCM).
 * @returns The keys and 4-byte IVs.
 *
 * @example
 * ```ts
 * import { keyBlock } from "./prf.ts";
 * const k = keyBlock("SHA-384", new Uint8Array(48), new Uint8Array(32), new Uint8Array(32), 32);
 * console.log(k.serverKey.length, k.serverIv.length); // 32 4
 * ```
 */
export function keyBlock(
  hash: Sha2Name,
  master: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  keyLength: 16 | 32,
): Tls12Keys {
  const block = prf(
    hash,
    master,
    "key expansion",
    concatBytes([serverRandom, clientRandom]),
    2 * keyLength + 8,
  );
  const keys = {
    clientKey: block.slice(0, keyLength),
    serverKey: block.slice(keyLength, 2 * keyLength),
    clientIv: block.slice(2 * keyLength, 2 * keyLength + 4),
    serverIv: block.slice(2 * keyLength + 4, 2 * keyLength + 8),
  };
  block.fill(0);
  return keys;
}

/**
 * Finished.verify_data (RFC 5246 §7.4.9): the first 12 bytes of `PRF(master, "client
 * finished" | "server finished", Hash(handshake_messages))`.
 *
 * @param hash The suite's PRF hash.
 * @param master The master secret.
 * @param sender `"client"` or `"server"`.
 * @param transcriptHash The hash of every handshake message before this Finished.
 * @returns 12 bytes.
 *
 * @example
 * ```ts
 * import { verifyData12 } from "./prf.ts";
 * console.log(verifyData12("SHA-256", new Uint8Array(48), "server", new Uint8Array(32)).length); // 12
 * ```
 */
export function verifyData12(
  hash: Sha2Name,
  master: Uint8Array,
  sender: "client" | "server",
  transcriptHash: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return prf(hash, master, `${sender} finished`, transcriptHash, 12);
}
