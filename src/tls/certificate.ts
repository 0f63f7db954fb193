/**
 * A TLS 1.3 server's certificate chain and private key: loaded from PEM, checked against each
 * other, and used to sign CertificateVerify with the signature schemes of RFC 8446 §4.2.3.
 *
 * Keys: ECDSA P-256 and P-384, Ed25519 and RSA (`rsaEncryption`, signing with RSA-PSS), as
 * `PRIVATE KEY` (PKCS#8, RFC 5208), `EC PRIVATE KEY` (SEC1, RFC 5915, as `openssl ecparam
 * -genkey` writes it) or `RSA PRIVATE KEY` (PKCS#1, RFC 8017). They are imported once into
 * Web Crypto as non-extractable `CryptoKey`s.
 *
 * @example
 * ```ts
 * import { ServerCredentials } from "./certificate.ts";
 * // An Ed25519 example certificate (CN=example) and its key; use your own.
 * const cert = `-----BEGIN CERTIFICATE-----
 * MIIBOjCB7aADAgECAhR3oP5+AunsSeudZBsnNw3bOb6nPjAFBgMrZXAwEjEQMA4G
 * A1UEAwwHZXhhbXBsZTAgFw0yNjEyMDEwMjMxMjZaGA8yMTI2MTEwNzAyMzEyNlow
 * EjEQMA4GA1UEAwwHZXhhbXBsZTAqMAUGAytlcAMhAKyje7zhM4ayNl7cG5/QjQii
 * 6LJ/FI//9xVdVui8Hdtdo1MwUTAdBgNVHQ4EFgQUyrBToo5aODkvDLlnJ6ktfGoX
 * WjswHwYDVR0jBBgwFoAUyrBToo5aODkvDLlnJ6ktfGoXWjswDwYDVR0TAQH/BAUw
 * AwEB/zAFBgMrZXADQQChO19mge++69VbGeTQT+O/PonhlJxR11HkTQwMa3LLiG1p
 * DvCjcqt6PyOieHDCjmJ1GPb9ZdoTy6fCA6l7KBsC
 * -----END CERTIFICATE-----`;
 * const key = `-----BEGIN PRIVATE KEY-----
 * MC4CAQAwBQYDK2VwBCIEILLv/++X2E2G/lC07ZkPvMigYYPterbkDWMrf2Z51oAh
 * -----END PRIVATE KEY-----`;
 * const creds = await ServerCredentials.fromPem(cert, key);
 * const scheme = creds.selectScheme([0x0804, 0x0807])!; // 0x0807 ed25519
 * const signature = await creds.sign(scheme, new Uint8Array(64));
 * console.log(creds.keyType, signature.length); // "Ed25519" 64
 * ```
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { TlsAlert } from "../server/alert.ts";
import { type DerHeader, DerReader } from "../der/reader.ts";
import { DerWriter } from "../der/writer.ts";
import { asBufferBytes } from "../ticket/bytes.ts";
import { CertificateError, parsePem } from "./_pem.ts";
import {
  describeBlocks,
  type KeyType,
  type Pkcs8Key,
  privateKeyFromPem,
  spkiType,
} from "./_private_key.ts";

export { CertificateError, type CertificateErrorReason } from "./_pem.ts";
export type { KeyType } from "./_private_key.ts";

/** A TLS SignatureScheme code point (RFC 8446 §4.2.3), e.g. 0x0403. */
export type SignatureScheme = number;

/**
 * The signature schemes {@link ServerCredentials} can sign with (RFC 8446 §4.2.3).
 *
 * @example
 * ```ts
 * import { SignatureScheme } from "./certificate.ts";
 * console.log(SignatureScheme.ED25519.toString(16)); // "807"
 * ```
 */
export const SignatureScheme = {
  /** ecdsa_secp256r1_sha256: ECDSA on P-256 with SHA-256, DER `ECDSA-Sig-Value`. */
  ECDSA_SECP256R1_SHA256: 0x0403,
  /** ecdsa_secp384r1_sha384: ECDSA on P-384 with SHA-384, DER `ECDSA-Sig-Value`. */
  ECDSA_SECP384R1_SHA384: 0x0503,
  /** rsa_pss_rsae_sha256: RSASSA-PSS, SHA-256, MGF1 SHA-256, 32-byte salt, rsaEncryption key. */
  RSA_PSS_RSAE_SHA256: 0x0804,
  /** rsa_pss_rsae_sha384: RSASSA-PSS, SHA-384, MGF1 SHA-384, 48-byte salt, rsaEncryption key. */
  RSA_PSS_RSAE_SHA384: 0x0805,
  /** ed25519: PureEdDSA (RFC 8032). */
  ED25519: 0x0807,
  /** rsa_pkcs1_sha256: RSASSA-PKCS1-v1_5 with SHA-256 (TLS 1.2 ServerKeyExchange only). */
  RSA_PKCS1_SHA256: 0x0401,
  /** rsa_pkcs1_sha384: RSASSA-PKCS1-v1_5 with SHA-384 (TLS 1.2 ServerKeyExchange only). */
  RSA_PKCS1_SHA384: 0x0501,
} as const;

/** Most certificates accepted in a chain. */
const MAX_CHAIN_CERTS = 16;
/** Smallest RSA modulus accepted, in bits (OpenSSL 3's security level 2). */
const MIN_RSA_BITS = 2048;
/** Largest RSA modulus accepted, in bits. */
const MAX_RSA_BITS = 16384;

/** One signature scheme bound to its imported key. */
interface Signer {
  readonly scheme: number;
  readonly key: CryptoKey;
  readonly params: AlgorithmIdentifier | EcdsaParams | RsaPssParams;
  /** ECDSA: Web Crypto's r|s output is re-encoded as DER. */
  readonly ecdsa: boolean;
  /** Only for TLS 1.2 (RSASSA-PKCS1-v1_5, RFC 8446 §4.2.3 forbids it in TLS 1.3). */
  readonly tls12Only?: boolean;
}

/**
 * A server's certificate chain and private key, checked to belong together, ready to sign
 * TLS 1.3 CertificateVerify messages.
 *
 * @example
 * ```ts
 * import { CertificateError, ServerCredentials } from "./certificate.ts";
 * const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign"]);
 * const pkcs8 = new Uint8Array(
 *   await crypto.subtle.exportKey("pkcs8", (keys as CryptoKeyPair).privateKey),
 * );
 * const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toBase64()}\n-----END PRIVATE KEY-----\n`;
 * try {
 *   await ServerCredentials.fromPem("", keyPem); // a certificate is needed too
 * } catch (e) {
 *   console.log((e as CertificateError).reason); // "missing"
 * }
 * ```
 */
export class ServerCredentials {
  /** The certificates as DER, leaf first, in the order the PEM gave them. */
  readonly chain: readonly Uint8Array<ArrayBuffer>[];
  /** The private key's type. */
  readonly keyType: KeyType;
  /** The signature schemes this key signs in TLS 1.3, in preference order. */
  readonly schemes: readonly SignatureScheme[];
  /** The signature schemes this key signs in a TLS 1.2 ServerKeyExchange, in preference order. */
  readonly schemes12: readonly SignatureScheme[];
  readonly #signers: readonly Signer[];

  private constructor(chain: Uint8Array<ArrayBuffer>[], keyType: KeyType, signers: Signer[]) {
    this.chain = Object.freeze(chain);
    this.keyType = keyType;
    this.#signers = Object.freeze(signers);
    this.schemes = Object.freeze(signers.filter((s) => !s.tls12Only).map((s) => s.scheme));
    this.schemes12 = Object.freeze(signers.map((s) => s.scheme));
  }

  /**
   * Loads a certificate chain and its private key from PEM, and checks that the key belongs to
   * the leaf certificate (by signing a random message and verifying it with the certificate's
   * public key).
   *
   * @param certPem `CERTIFICATE` blocks, leaf first (at most 16, 64 KiB each); other blocks
   *   are ignored, so a combined cert-and-key file works.
   * @param keyPem One `PRIVATE KEY`, `EC PRIVATE KEY` (optionally after `EC PARAMETERS`) or
   *   `RSA PRIVATE KEY` block, unencrypted; other blocks are ignored.
   * @returns The credentials.
   * @throws {CertificateError} When either PEM is malformed, a block is missing, the key is
   *   encrypted or of an unsupported type (P-521, RSA-PSS keys, DSA, Ed448...), an RSA key is
   *   shorter than 2048 bits, or the key does not match the certificate.
   *
   * @example
   * ```ts
   * import { CertificateError, ServerCredentials } from "./certificate.ts";
   * const keys = await crypto.subtle.generateKey(
   *   { name: "ECDSA", namedCurve: "P-521" },
   *   true,
   *   ["sign"],
   * );
   * const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
   * const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toBase64()}\n-----END PRIVATE KEY-----`;
   * const certPem = `-----BEGIN CERTIFICATE-----
   * MIIBOjCB7aADAgECAhR3oP5+AunsSeudZBsnNw3bOb6nPjAFBgMrZXAwEjEQMA4G
   * A1UEAwwHZXhhbXBsZTAgFw0yNjEyMDEwMjMxMjZaGA8yMTI2MTEwNzAyMzEyNlow
   * EjEQMA4GA1UEAwwHZXhhbXBsZTAqMAUGAytlcAMhAKyje7zhM4ayNl7cG5/QjQii
   * 6LJ/FI//9xVdVui8Hdtdo1MwUTAdBgNVHQ4EFgQUyrBToo5aODkvDLlnJ6ktfGoX
   * WjswHwYDVR0jBBgwFoAUyrBToo5aODkvDLlnJ6ktfGoXWjswDwYDVR0TAQH/BAUw
   * AwEB/zAFBgMrZXADQQChO19mge++69VbGeTQT+O/PonhlJxR11HkTQwMa3LLiG1p
   * DvCjcqt6PyOieHDCjmJ1GPb9ZdoTy6fCA6l7KBsC
   * -----END CERTIFICATE-----`;
   * try {
   *   await ServerCredentials.fromPem(certPem, keyPem);
   * } catch (e) {
   *   console.log((e as CertificateError).reason); // "unsupported"
   *   console.log((e as CertificateError).message);
   *   // "key PEM: block 1 (PRIVATE KEY): unsupported private key: ECDSA curve P-521 (secp521r1);
   *   //  supported: ECDSA P-256 and P-384, Ed25519, RSA (rsaEncryption)"
   * }
   * ```
   */
  static async fromPem(certPem: string, keyPem: string): Promise<ServerCredentials> {
    const { chain, leafSpki } = readChain(certPem);
    const key = privateKeyFromPem(keyPem);
    const leafName = "certificate PEM: leaf certificate";
    const certType = derGuard(leafName, () => spkiType(leafSpki, leafName));
    if (certType !== key.type) {
      const has = typeof certType === "string" ? certType : certType.unsupported;
      throw new CertificateError(
        "mismatch",
        `the private key does not match the certificate (the certificate's public key is ` +
          `${has}, the private key is ${key.type})`,
      );
    }
    const signers = await importSigners(key);
    await checkKeyMatches(signers[0], leafSpki, key.type);
    return new ServerCredentials(chain, key.type, signers);
  }

  /**
   * The first of {@link ServerCredentials.schemes} that the client offered in its
   * `signature_algorithms` extension (RFC 8446 §4.2.3), or `null` when there is none (the
   * server then aborts with `handshake_failure`).
   *
   * @param offered The client's list, in its order.
   * @returns A scheme this key can sign with, or `null`.
   *
   * @example
   * ```ts
   * import type { ServerCredentials } from "./certificate.ts";
   * // With an RSA key (schemes [0x0804, 0x0805]) and offered [0x0403, 0x0805, 0x0804], this
   * // returns 0x0804: among the offered schemes, the server's preference order decides.
   * function pickScheme(creds: ServerCredentials, offered: number[]): number {
   *   const scheme = creds.selectScheme(offered);
   *   if (scheme === null) throw new Error("handshake_failure: no common signature scheme");
   *   return scheme;
   * }
   * console.log(typeof pickScheme); // "function"
   * ```
   */
  selectScheme(offered: readonly number[]): SignatureScheme | null {
    for (const s of this.schemes) if (offered.includes(s)) return s;
    return null;
  }

  /**
   * The first of {@link ServerCredentials.schemes12} the client offered in its TLS 1.2
   * `signature_algorithms` (RFC 5246 §7.4.1.4.1), or `null` when there is none. RSA keys
   * prefer RSA-PSS and fall back to PKCS#1 v1.5.
   *
   * @param offered The client's list, in its order.
   * @returns A scheme for the ServerKeyExchange signature, or `null`.
   *
   * @example
   * ```ts
   * import type { ServerCredentials } from "./certificate.ts";
   * // An RSA key offered only [0x0401] (rsa_pkcs1_sha256) signs with 0x0401.
   * const pick = (c: ServerCredentials) => c.selectScheme12([0x0401]);
   * console.log(typeof pick); // "function"
   * ```
   */
  selectScheme12(offered: readonly number[]): SignatureScheme | null {
    for (const s of this.schemes12) if (offered.includes(s)) return s;
    return null;
  }

  /**
   * Signs `data` (for TLS 1.3, the CertificateVerify content of RFC 8446 §4.4.3) and returns
   * the signature as it goes on the wire: ECDSA as a DER `ECDSA-Sig-Value`, RSA-PSS with a salt
   * as long as the hash, Ed25519 as 64 bytes.
   *
   * @param scheme One of {@link ServerCredentials.schemes}.
   * @param data The bytes to sign.
   * @returns The signature.
   * @throws {TlsAlert} 80 (internal_error) for a scheme this key cannot sign with, or when Web
   *   Crypto fails.
   *
   * @example
   * ```ts
   * import { ServerCredentials } from "./certificate.ts";
   * async function certificateVerify(creds: ServerCredentials, content: Uint8Array) {
   *   const scheme = creds.selectScheme([0x0403, 0x0804])!;
   *   return { scheme, signature: await creds.sign(scheme, content) };
   * }
   * console.log(typeof certificateVerify); // "function"
   * ```
   */
  async sign(scheme: SignatureScheme, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const signer = this.#signers.find((s) => s.scheme === scheme);
    if (signer === undefined) {
      throw new TlsAlert(
        80,
        `a ${this.keyType} key cannot sign with signature scheme ${schemeHex(scheme)}`,
      );
    }
    let sig: Uint8Array<ArrayBuffer>;
    try {
      sig = new Uint8Array(
        await crypto.subtle.sign(signer.params, signer.key, asBufferBytes(data)),
      );
    } catch (e) {
      throw new TlsAlert(80, `signing with ${schemeHex(scheme)} failed: ${errorName(e)}`);
    }
    return signer.ecdsa ? p1363ToDer(sig) : sig;
  }
}

/**
 * Re-encodes an ECDSA signature from Web Crypto's IEEE P1363 form (r and s as fixed-length
 * big-endian halves) to the DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` that
 * TLS carries (RFC 8446 §4.2.3, RFC 3279 §2.2.3, RFC 5480): each INTEGER minimal, leading
 * zero bytes removed and a 00 added when the top bit is set.
 *
 * @param sig r|s, an even number of bytes (64 for P-256, 96 for P-384, 132 for P-521).
 * @returns The DER SEQUENCE.
 * @throws {TypeError} When `sig` is empty, odd-length or longer than 264 bytes (a caller bug).
 *
 * @example
 * ```ts
 * import { p1363ToDer } from "./certificate.ts";
 * const sig = new Uint8Array(64);
 * sig[0] = 0x80; // r = 0x80 00...00: its top bit is set, so DER adds a 00
 * sig[63] = 0x05; // s = 5: 31 leading zero bytes dropped
 * const der = p1363ToDer(sig);
 * console.log(der.length, der[3], der[4], der.slice(-3)); // 40 33 0 Uint8Array(3) [ 2, 1, 5 ]
 * ```
 */
export function p1363ToDer(sig: Uint8Array): Uint8Array<ArrayBuffer> {
  if (sig.length === 0 || sig.length % 2 !== 0 || sig.length > 264) {
    throw new TypeError(`an ECDSA P1363 signature has an even length up to 264, got ${sig.length}`);
  }
  const half = sig.length / 2;
  const w = new DerWriter(sig.length + 12);
  writeUnsigned(w, sig.subarray(half));
  writeUnsigned(w, sig.subarray(0, half));
  w.wrap(0x30, 0);
  return w.toBytes();
}

/** Prepends a non-negative big-endian number as a minimal DER INTEGER. */
function writeUnsigned(w: DerWriter, n: Uint8Array): void {
  let i = 0;
  while (i < n.length - 1 && n[i] === 0) i++;
  const mark = w.length;
  w.writeRaw(n.subarray(i));
  if (n[i] & 0x80) w.writeByte(0);
  w.wrap(0x02, mark);
}

/** The CERTIFICATE blocks of `certPem`, each checked to be an X.509 DER certificate. */
function readChain(certPem: string): { chain: Uint8Array<ArrayBuffer>[]; leafSpki: Uint8Array } {
  const blocks = parsePem(certPem, "certificate PEM");
  const certs = blocks.filter((b) => b.label === "CERTIFICATE");
  if (certs.length === 0) {
    throw new CertificateError(
      "missing",
      `certificate PEM: no CERTIFICATE block${describeBlocks(blocks)}`,
    );
  }
  if (certs.length > MAX_CHAIN_CERTS) {
    throw new CertificateError(
      "too-large",
      `certificate PEM: ${certs.length} certificates, at most ${MAX_CHAIN_CERTS} accepted`,
    );
  }
  let leafSpki: Uint8Array | undefined;
  for (const b of certs) {
    const name = `certificate PEM: block ${b.index} (CERTIFICATE)`;
    if (b.encrypted) throw new CertificateError("malformed", `${name} has encryption headers`);
    const spki = derGuard(`${name} is not a DER X.509 certificate`, () => certificateSpki(b.der));
    leafSpki ??= spki;
  }
  return { chain: certs.map((b) => b.der), leafSpki: leafSpki! };
}

/**
 * Walks an X.509 Certificate (RFC 5280 §4.1) far enough to check its outer shape and returns
 * the TBSCertificate's subjectPublicKeyInfo element.
 */
function certificateSpki(der: Uint8Array): Uint8Array {
  const r = new DerReader(der);
  const outer = expect(r, 0x30, "Certificate");
  if (outer.contentStart + outer.length !== der.length) {
    throw new DerError("trailing data after the Certificate SEQUENCE");
  }
  const cert = r.enter(outer);
  const tbs = cert.enter(expect(cert, 0x30, "tbsCertificate"));
  if (tbs.nextIs(2, 0)) tbs.skipElement(); // version [0] EXPLICIT
  skip(tbs, 0x02, "serialNumber");
  for (const field of ["signature", "issuer", "validity", "subject"]) skip(tbs, 0x30, field);
  const spki = skip(tbs, 0x30, "subjectPublicKeyInfo");
  while (!tbs.atEnd()) tbs.skipElement(); // issuerUniqueID, subjectUniqueID, extensions
  tbs.finish();
  cert.leave(tbs);
  skip(cert, 0x30, "signatureAlgorithm");
  skip(cert, 0x03, "signatureValue");
  cert.finish();
  return spki;
}

/** Reads the header of a definite-length element with this tag. */
function expect(r: DerReader, tag: number, field: string): DerHeader {
  const h = r.readHeader();
  if (h.tag !== tag) throw new DerError(`${field}: expected tag 0x${tag.toString(16)}`, h.start);
  if (h.length < 0) throw new DerError(`${field}: indefinite length`, h.start);
  return h;
}

/** Skips a definite-length element with this tag and returns its bytes. */
function skip(r: DerReader, tag: number, field: string): Uint8Array {
  const start = r.pos;
  const h = expect(r, tag, field);
  r.pos = h.contentStart + h.length;
  return r.bytes.subarray(start, r.pos);
}

/** Runs `f`, turning a DerError into a CertificateError prefixed with `what`. */
function derGuard<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DerError) throw new CertificateError("malformed", `${what}: ${e.message}`);
    throw e;
  }
}

/** Imports the key once per scheme it signs (RSA: one CryptoKey per PSS hash). */
async function importSigners(key: Pkcs8Key): Promise<Signer[]> {
  const load = async (alg: EcKeyImportParams | RsaHashedImportParams | Algorithm) => {
    try {
      return await crypto.subtle.importKey("pkcs8", key.pkcs8, alg, false, ["sign"]);
    } catch (e) {
      throw new CertificateError(
        "malformed",
        `key PEM: the ${key.type} private key (${key.form}) cannot be imported: ${errorName(e)}`,
      );
    }
  };
  switch (key.type) {
    case "P-256":
    case "P-384": {
      const p256 = key.type === "P-256";
      return [{
        scheme: p256 ? 0x0403 : 0x0503,
        key: await load({ name: "ECDSA", namedCurve: key.type }),
        params: { name: "ECDSA", hash: p256 ? "SHA-256" : "SHA-384" },
        ecdsa: true,
      }];
    }
    case "Ed25519":
      return [{
        scheme: 0x0807,
        key: await load({ name: "Ed25519" }),
        params: "Ed25519",
        ecdsa: false,
      }];
    case "RSA": {
      const sha256 = await load({ name: "RSA-PSS", hash: "SHA-256" });
      const bits = (sha256.algorithm as RsaHashedKeyAlgorithm).modulusLength;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        throw new CertificateError(
          "unsupported",
          `key PEM: a ${bits}-bit RSA key is not supported (${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits)`,
        );
      }
      return [
        { scheme: 0x0804, key: sha256, params: { name: "RSA-PSS", saltLength: 32 }, ecdsa: false },
        {
          scheme: 0x0805,
          key: await load({ name: "RSA-PSS", hash: "SHA-384" }),
          params: { name: "RSA-PSS", saltLength: 48 },
          ecdsa: false,
        },
        {
          scheme: 0x0401,
          key: await load({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }),
          params: { name: "RSASSA-PKCS1-v1_5" },
          ecdsa: false,
          tls12Only: true,
        },
        {
          scheme: 0x0501,
          key: await load({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }),
          params: { name: "RSASSA-PKCS1-v1_5" },
          ecdsa: false,
          tls12Only: true,
        },
      ];
    }
  }
}

/**
 * Signs a random message with `signer` and verifies it with the public key of the leaf
 * certificate's SubjectPublicKeyInfo.
 */
async function checkKeyMatches(signer: Signer, spki: Uint8Array, type: KeyType): Promise<void> {
  const alg = type === "RSA"
    ? { name: "RSA-PSS", hash: "SHA-256" }
    : type === "Ed25519"
    ? { name: "Ed25519" }
    : { name: "ECDSA", namedCurve: type };
  let publicKey: CryptoKey;
  try {
    publicKey = await crypto.subtle.importKey("spki", new Uint8Array(spki), alg, false, ["verify"]);
  } catch (e) {
    throw new CertificateError(
      "malformed",
      `certificate PEM: the leaf certificate's ${type} public key cannot be imported: ${
        errorName(e)
      }`,
    );
  }
  const message = crypto.getRandomValues(new Uint8Array(32));
  let sig: ArrayBuffer;
  try {
    sig = await crypto.subtle.sign(signer.params, signer.key, message);
  } catch (e) {
    // Web Crypto may import a malformed key and refuse it only when it signs.
    throw new CertificateError(
      "malformed",
      `key PEM: the ${type} private key cannot be imported: it cannot sign (${errorName(e)})`,
    );
  }
  let ok: boolean;
  try {
    ok = await crypto.subtle.verify(signer.params, publicKey, sig, message);
  } catch (e) {
    throw new CertificateError(
      "malformed",
      `certificate PEM: the leaf certificate's ${type} public key cannot be used (${errorName(e)})`,
    );
  }
  if (!ok) {
    throw new CertificateError("mismatch", "the private key does not match the certificate");
  }
}

function schemeHex(scheme: number): string {
  return `0x${scheme.toString(16).padStart(4, "0")}`;
}

/** A Web Crypto error's name and message (static text, never key material). */
function errorName(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
