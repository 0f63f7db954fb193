/**
 * ECDHE for TLS 1.3 (RFC 8446 §4.2.7, §4.2.8.2, §7.4) on Web Crypto: x25519 (RFC 7748),
 * secp256r1 and secp384r1 (uncompressed points only). A client share of the wrong length or
 * form, a point not on the curve, or an all-zero x25519 result is illegal_parameter (47).
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import { asBufferBytes } from "../ticket/bytes.ts";

/**
 * Named groups this server supports (RFC 8446 §4.2.7), in its order of preference.
 *
 * @example
 * ```ts
 * import { NamedGroup } from "./key_exchange.ts";
 * console.log(NamedGroup.X25519); // 29
 * ```
 */
export const NamedGroup = {
  /** secp256r1 (23). */
  SECP256R1: 0x0017,
  /** secp384r1 (24). */
  SECP384R1: 0x0018,
  /** x25519 (29). */
  X25519: 0x001d,
} as const;

interface GroupInfo {
  readonly name: string;
  readonly params: EcKeyImportParams | Algorithm;
  readonly keyLength: number;
  readonly sharedBits: number;
}

const GROUPS: ReadonlyMap<number, GroupInfo> = new Map<number, GroupInfo>([
  [NamedGroup.X25519, {
    name: "x25519",
    params: { name: "X25519" },
    keyLength: 32,
    sharedBits: 256,
  }],
  [
    NamedGroup.SECP256R1,
    {
      name: "secp256r1",
      params: { name: "ECDH", namedCurve: "P-256" },
      keyLength: 65,
      sharedBits: 256,
    },
  ],
  [
    NamedGroup.SECP384R1,
    {
      name: "secp384r1",
      params: { name: "ECDH", namedCurve: "P-384" },
      keyLength: 97,
      sharedBits: 384,
    },
  ],
]);

/** The groups supported, in preference order. */
export const SUPPORTED_GROUPS: readonly number[] = [
  NamedGroup.X25519,
  NamedGroup.SECP256R1,
  NamedGroup.SECP384R1,
];

/**
 * The name of a group (`x25519`, `secp256r1`, `secp384r1`), or its number in hex.
 *
 * @example
 * ```ts
 * import { groupName } from "./key_exchange.ts";
 * console.log(groupName(0x17)); // secp256r1
 * ```
 */
export function groupName(group: number): string {
  return GROUPS.get(group)?.name ?? `0x${group.toString(16).padStart(4, "0")}`;
}

/**
 * Whether this server can use `group`.
 *
 * @example
 * ```ts
 * import { isSupportedGroup } from "./key_exchange.ts";
 * console.log(isSupportedGroup(0x1d), isSupportedGroup(0x1e)); // true false
 * ```
 */
export function isSupportedGroup(group: number): boolean {
  return GROUPS.has(group);
}

/** Makes the server's ephemeral key pair for a group (tests inject fixed ones). */
export type EphemeralKeyPairSource = (group: number) => Promise<CryptoKeyPair>;

/**
 * A fresh ephemeral key pair for `group` from Web Crypto.
 *
 * @example
 * ```ts
 * import { generateEphemeralKeyPair } from "./key_exchange.ts";
 * const kp = await generateEphemeralKeyPair(0x1d);
 * console.log(kp.publicKey.algorithm.name); // X25519
 * ```
 */
export async function generateEphemeralKeyPair(group: number): Promise<CryptoKeyPair> {
  const info = GROUPS.get(group);
  if (!info) throw new TlsAlert(AlertDescription.INTERNAL_ERROR, `unsupported group ${group}`);
  // Not extractable: the private key never leaves Web Crypto (a public key always exports).
  return await crypto.subtle.generateKey(info.params, false, ["deriveBits"]) as CryptoKeyPair;
}

/** The server's share and the shared secret of one ECDHE exchange. */
export interface KeyExchangeResult {
  /** The server's `key_exchange` bytes for its KeyShareEntry. */
  serverShare: Uint8Array<ArrayBuffer>;
  /** The (EC)DHE shared secret, the IKM of the handshake secret. */
  sharedSecret: Uint8Array<ArrayBuffer>;
}

/**
 * Completes ECDHE against the client's share: checks its form (x25519: 32 bytes; P-256 /
 * P-384: an uncompressed point, `04 | x | y`), derives the shared secret (the x-coordinate
 * for the NIST curves, RFC 8446 §7.4.2) and refuses an all-zero x25519 result (RFC 7748 §6.1).
 *
 * @param group The negotiated group.
 * @param clientShare The client's `key_exchange` bytes.
 * @param keyPairs Where the server's key pair comes from (tests only).
 * @returns The server's share and the shared secret.
 * @throws {TlsAlert} illegal_parameter (47) for an invalid client share.
 *
 * @example
 * ```ts
 * import { generateEphemeralKeyPair, keyExchange } from "./key_exchange.ts";
 * const client = await generateEphemeralKeyPair(0x1d);
 * const share = new Uint8Array(await crypto.subtle.exportKey("raw", client.publicKey));
 * const { serverShare, sharedSecret } = await keyExchange(0x1d, share);
 * console.log(serverShare.length, sharedSecret.length); // 32 32
 * ```
 */
export async function keyExchange(
  group: number,
  clientShare: Uint8Array,
  keyPairs: EphemeralKeyPairSource = generateEphemeralKeyPair,
): Promise<KeyExchangeResult> {
  const info = GROUPS.get(group);
  if (!info) throw new TlsAlert(AlertDescription.INTERNAL_ERROR, `unsupported group ${group}`);
  const illegal = (why: string) => new TlsAlert(AlertDescription.ILLEGAL_PARAMETER, why);
  if (clientShare.length !== info.keyLength) {
    throw illegal(`${info.name} share of ${clientShare.length} bytes, ${info.keyLength} expected`);
  }
  if (info.keyLength !== 32 && clientShare[0] !== 4) {
    throw illegal(`${info.name} share is not an uncompressed point`);
  }
  let peer: CryptoKey;
  try {
    peer = await crypto.subtle.importKey(
      "raw",
      asBufferBytes(clientShare),
      info.params,
      false,
      [],
    );
  } catch {
    throw illegal(`${info.name} share is not a valid public key`);
  }
  const pair = await keyPairs(group);
  // The two Web Crypto calls run side by side: each is a round trip to Deno's blocking pool.
  const exported = crypto.subtle.exportKey("raw", pair.publicKey);
  exported.catch(() => {}); // awaited below unless the derivation fails first
  let shared: Uint8Array<ArrayBuffer>;
  try {
    shared = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: info.params.name, public: peer } as EcdhKeyDeriveParams,
        pair.privateKey,
        info.sharedBits,
      ),
    );
  } catch {
    throw illegal(`${info.name} key agreement failed`);
  }
  if (shared.every((b) => b === 0)) throw illegal(`${info.name} shared secret is all zeros`);
  const serverShare = new Uint8Array(await exported);
  return { serverShare, sharedSecret: shared };
}
