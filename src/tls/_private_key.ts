/**
 * Private keys from PEM blocks to PKCS#8 (RFC 5208 / RFC 5958), the one form Web Crypto
 * imports: `PRIVATE KEY` as is, `EC PRIVATE KEY` (SEC1, RFC 5915) and `RSA PRIVATE KEY`
 * (PKCS#1, RFC 8017 A.1.2) wrapped in a PrivateKeyInfo. The key type comes from the
 * AlgorithmIdentifier (RFC 5480 for ECDSA, RFC 8410 for Ed25519, RFC 3279 for RSA); the same
 * classifier reads a certificate's SubjectPublicKeyInfo.
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { DerReader } from "../der/reader.ts";
import { DerWriter } from "../der/writer.ts";
import { sameBytes } from "../ticket/bytes.ts";
import { CertificateError, parsePem, type PemBlock } from "./_pem.ts";

/** The key types a server certificate may have. */
export type KeyType = "P-256" | "P-384" | "Ed25519" | "RSA";

/** The PEM form a key was read from. */
export type KeyForm = "pkcs8" | "sec1" | "pkcs1";

/** A private key ready for `crypto.subtle.importKey("pkcs8", ...)`. */
export interface Pkcs8Key {
  /** The key type, from the AlgorithmIdentifier. */
  readonly type: KeyType;
  /** PrivateKeyInfo DER. */
  readonly pkcs8: Uint8Array<ArrayBuffer>;
  /** Which PEM form it came from. */
  readonly form: KeyForm;
}

// Full TLVs of the object identifiers this module writes or compares.
const OID_EC_PUBLIC_KEY = oidTlv("2a8648ce3d0201"); // 1.2.840.10045.2.1
const OID_RSA_ENCRYPTION = oidTlv("2a864886f70d010101"); // 1.2.840.113549.1.1.1
const DER_NULL = new Uint8Array([0x05, 0x00]);

/** Named curves: OID contents (hex) → supported type, or the name of an unsupported curve. */
const CURVES: ReadonlyMap<string, KeyType | string> = new Map([
  ["2a8648ce3d030107", "P-256"], // prime256v1 / secp256r1
  ["2b81040022", "P-384"], // secp384r1
  ["2b81040023", "P-521 (secp521r1)"],
  ["2b8104000a", "secp256k1"],
  ["2b2403030208010107", "brainpoolP256r1"],
  ["2b240303020801010b", "brainpoolP384r1"],
  ["2b240303020801010d", "brainpoolP512r1"],
  ["2a811ccf5501822d", "SM2"],
]);

/** Key algorithms: OID contents (hex) → supported type, or the name of an unsupported one. */
const ALGORITHMS: ReadonlyMap<string, KeyType | string> = new Map([
  ["2b6570", "Ed25519"], // 1.3.101.112
  ["2a864886f70d010101", "RSA"], // rsaEncryption
  ["2b6571", "Ed448"],
  ["2b656e", "X25519 (a key agreement key, it cannot sign)"],
  ["2b656f", "X448 (a key agreement key, it cannot sign)"],
  ["2a864886f70d01010a", "RSA-PSS (id-RSASSA-PSS; only rsaEncryption RSA keys are supported)"],
  ["2a8648ce380401", "DSA"],
  ["2a864886f70d010301", "DH"],
  ["2a8648ce3e0201", "X9.42 DH"],
]);

const SUPPORTED = "supported: ECDSA P-256 and P-384, Ed25519, RSA (rsaEncryption)";

/**
 * Finds the one private key in PEM text and returns it as PKCS#8 with its type.
 *
 * @param text PEM text; other blocks (certificates, in a combined file) are ignored, and an
 *   `EC PARAMETERS` block names the curve of a SEC1 key that does not name its own.
 * @returns The key.
 * @throws {CertificateError} When there is no key or more than one, or the key is encrypted,
 *   malformed or of an unsupported type.
 */
export function privateKeyFromPem(text: string): Pkcs8Key {
  const blocks = parsePem(text, "key PEM");
  const keys: PemBlock[] = [];
  let params: PemBlock | undefined;
  for (const b of blocks) {
    if (b.label === "EC PARAMETERS") params = b;
    else if (b.label.endsWith("PRIVATE KEY")) keys.push(b);
  }
  if (keys.length === 0) {
    throw new CertificateError("missing", `key PEM: no private key block${describeBlocks(blocks)}`);
  }
  if (keys.length > 1) {
    throw new CertificateError(
      "malformed",
      `key PEM: ${keys.length} private key blocks, expected exactly one`,
    );
  }
  const key = keys[0];
  const name = `key PEM: block ${key.index} (${key.label})`;
  if (key.encrypted || key.label === "ENCRYPTED PRIVATE KEY") {
    throw new CertificateError(
      "encrypted",
      `${name}: the private key is encrypted; decrypt it first (openssl pkey -in key.pem)`,
    );
  }
  try {
    switch (key.label) {
      case "PRIVATE KEY":
        return { type: pkcs8Type(key.der, name), pkcs8: key.der, form: "pkcs8" };
      case "EC PRIVATE KEY": {
        const { type, pkcs8 } = sec1ToPkcs8(key.der, params?.der, name);
        return { type, pkcs8, form: "sec1" };
      }
      case "RSA PRIVATE KEY":
        return { type: "RSA", pkcs8: pkcs1ToPkcs8(key.der, name), form: "pkcs1" };
      default:
        throw new CertificateError(
          "unsupported",
          `${name}: unsupported private key format; ${SUPPORTED}, as PRIVATE KEY (PKCS#8), ` +
            "EC PRIVATE KEY (SEC1) or RSA PRIVATE KEY (PKCS#1)",
        );
    }
  } catch (e) {
    throw e instanceof DerError ? new CertificateError("malformed", `${name}: ${e.message}`) : e;
  }
}

/**
 * The key type of a PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5958 §2): version 0 or 1, the
 * AlgorithmIdentifier, the privateKey OCTET STRING, then optional attributes and public key.
 */
export function pkcs8Type(der: Uint8Array, name: string): KeyType {
  const r = new DerReader(der);
  const seq = wholeSequence(r, der, name, "PrivateKeyInfo");
  const version = seq.readIntegerValue();
  if (version !== 0 && version !== 1) {
    throw new CertificateError("malformed", `${name}: PrivateKeyInfo version ${version}`);
  }
  const type = readAlgorithm(seq, name, "private key");
  seq.readOctetString();
  if (seq.nextIs(2, 0)) seq.skipElement();
  if (seq.nextIs(2, 1)) seq.skipElement();
  seq.finish();
  return type;
}

/**
 * The key type of a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), or a description of an
 * unsupported one.
 */
export function spkiType(der: Uint8Array, name: string): KeyType | { unsupported: string } {
  const r = new DerReader(der);
  const seq = wholeSequence(r, der, name, "SubjectPublicKeyInfo");
  const type = classifyAlgorithm(seq, name);
  const bits = seq.readHeader();
  if (bits.tag !== 0x03) {
    throw new CertificateError("malformed", `${name}: no public key BIT STRING`);
  }
  seq.readContent(bits);
  seq.finish();
  return type;
}

/**
 * RFC 5915 §3 ECPrivateKey → PKCS#8, as `openssl pkcs8 -topk8` writes it: the curve moves from
 * `parameters [0]` (or the `EC PARAMETERS` block) into the AlgorithmIdentifier; `publicKey [1]`
 * stays.
 */
function sec1ToPkcs8(
  der: Uint8Array,
  paramsBlock: Uint8Array | undefined,
  name: string,
): { type: KeyType; pkcs8: Uint8Array<ArrayBuffer> } {
  const r = new DerReader(der);
  const seq = wholeSequence(r, der, name, "ECPrivateKey");
  if (seq.readIntegerValue() !== 1) {
    throw new CertificateError("malformed", `${name}: ECPrivateKey version is not 1`);
  }
  const privateKey = seq.readOctetString();
  let curve: Uint8Array | undefined;
  if (seq.nextIs(2, 0)) {
    const h = seq.readHeader();
    const inner = seq.enter(h);
    curve = inner.skipElement();
    inner.finish();
    seq.leave(inner);
  }
  let publicKey: Uint8Array | undefined;
  if (seq.nextIs(2, 1)) publicKey = seq.skipElement();
  seq.finish();
  if (paramsBlock !== undefined) {
    const p = new DerReader(paramsBlock);
    const fromBlock = p.skipElement();
    if (!p.atEnd()) {
      throw new CertificateError("malformed", `${name}: EC PARAMETERS has trailing data`);
    }
    if (curve !== undefined && !sameBytes(curve, fromBlock)) {
      throw new CertificateError(
        "malformed",
        `${name}: the EC PARAMETERS block names a different curve than the key`,
      );
    }
    curve = fromBlock;
  }
  if (curve === undefined) {
    throw new CertificateError(
      "malformed",
      `${name}: the SEC1 key names no curve (no parameters [0], no EC PARAMETERS block)`,
    );
  }
  const type = curveType(curve, name);

  const w = new DerWriter(der.length + 64);
  const end = w.length;
  const ecKey = w.length;
  if (publicKey !== undefined) w.writeRaw(publicKey);
  w.writeOctetString(privateKey);
  w.writeInteger(1);
  w.wrap(0x30, ecKey);
  w.wrap(0x04, ecKey);
  const alg = w.length;
  w.writeRaw(curve);
  w.writeRaw(OID_EC_PUBLIC_KEY);
  w.wrap(0x30, alg);
  w.writeInteger(0);
  w.wrap(0x30, end);
  return { type, pkcs8: w.toBytes() };
}

/** RFC 8017 A.1.2 RSAPrivateKey → PKCS#8 with `rsaEncryption` and NULL parameters. */
function pkcs1ToPkcs8(der: Uint8Array, name: string): Uint8Array<ArrayBuffer> {
  const r = new DerReader(der);
  const seq = wholeSequence(r, der, name, "RSAPrivateKey");
  const version = seq.readIntegerValue();
  if (version === 1) {
    throw new CertificateError("unsupported", `${name}: multi-prime RSA keys are not supported`);
  }
  if (version !== 0) {
    throw new CertificateError("malformed", `${name}: RSAPrivateKey version ${version}`);
  }
  const w = new DerWriter(der.length + 32);
  const end = w.length;
  w.writeOctetString(der);
  const alg = w.length;
  w.writeRaw(DER_NULL);
  w.writeRaw(OID_RSA_ENCRYPTION);
  w.wrap(0x30, alg);
  w.writeInteger(0);
  w.wrap(0x30, end);
  return w.toBytes();
}

/** Reads a private key's AlgorithmIdentifier; an unsupported algorithm throws. */
function readAlgorithm(r: DerReader, name: string, what: string): KeyType {
  const type = classifyAlgorithm(r, name);
  if (typeof type === "string") return type;
  throw new CertificateError(
    "unsupported",
    `${name}: unsupported ${what}: ${type.unsupported}; ${SUPPORTED}`,
  );
}

/** Reads an AlgorithmIdentifier (RFC 5280 §4.1.1.2) and classifies the key algorithm. */
function classifyAlgorithm(r: DerReader, name: string): KeyType | { unsupported: string } {
  const h = r.readHeader();
  if (h.tag !== 0x30 || h.length < 0) {
    throw new CertificateError("malformed", `${name}: AlgorithmIdentifier is not a SEQUENCE`);
  }
  const alg = r.enter(h);
  const oid = readOid(alg, name);
  const hex = oid.toHex();
  let result: KeyType | { unsupported: string };
  if (sameBytes(oid, OID_EC_PUBLIC_KEY.subarray(2))) {
    if (!alg.nextIs(0, 6)) {
      throw new CertificateError(
        "unsupported",
        `${name}: EC keys with explicit curve parameters are not supported; use a named curve`,
      );
    }
    const curve = alg.skipElement();
    const known = CURVES.get(curve.subarray(2).toHex());
    result = known === "P-256" || known === "P-384"
      ? known
      : { unsupported: `ECDSA curve ${known ?? dotted(curve.subarray(2))}` };
  } else {
    const known = ALGORITHMS.get(hex);
    if (known === "Ed25519") {
      result = known;
    } else if (known === "RSA") {
      if (alg.nextIs(0, 5)) alg.skipElement(); // parameters NULL (RFC 3279 §2.3.1)
      result = known;
    } else {
      result = { unsupported: known ?? `key algorithm ${dotted(oid)}` };
    }
  }
  if (typeof result === "string" && !alg.atEnd()) {
    throw new CertificateError("malformed", `${name}: unexpected ${result} key parameters`);
  }
  if (typeof result === "object") {
    while (!alg.atEnd()) alg.skipElement();
  }
  alg.finish();
  r.leave(alg);
  return result;
}

/** The supported key type of a named-curve OID TLV; other curves throw. */
function curveType(curve: Uint8Array, name: string): KeyType {
  if (curve[0] !== 0x06 || curve.length < 3 || curve[1] !== curve.length - 2) {
    throw new CertificateError(
      "unsupported",
      `${name}: EC keys with explicit curve parameters are not supported; use a named curve`,
    );
  }
  const known = CURVES.get(curve.subarray(2).toHex());
  if (known === "P-256" || known === "P-384") return known;
  throw new CertificateError(
    "unsupported",
    `${name}: unsupported private key: ECDSA curve ${
      known ?? dotted(curve.subarray(2))
    }; ${SUPPORTED}`,
  );
}

/** A definite-length SEQUENCE that spans all of `der`; returns a reader over its contents. */
function wholeSequence(r: DerReader, der: Uint8Array, name: string, what: string): DerReader {
  const h = r.readHeader();
  if (h.tag !== 0x30 || h.length < 0 || h.contentStart + h.length !== der.length) {
    throw new CertificateError("malformed", `${name}: not a DER ${what} SEQUENCE`);
  }
  return r.enter(h);
}

function readOid(r: DerReader, name: string): Uint8Array {
  const h = r.readHeader();
  if (h.tag !== 0x06 || h.length < 1) {
    throw new CertificateError("malformed", `${name}: algorithm OBJECT IDENTIFIER expected`);
  }
  return r.readContent(h);
}

/** Dotted form of OID contents, for messages. */
function dotted(oid: Uint8Array): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (const b of oid) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0n;
    }
  }
  if (arcs.length === 0) return "(empty OID)";
  const first = arcs[0] < 40n ? 0n : arcs[0] < 80n ? 1n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join(".");
}

function oidTlv(hex: string): Uint8Array {
  const body = Uint8Array.fromHex(hex);
  const out = new Uint8Array(body.length + 2);
  out[0] = 0x06;
  out[1] = body.length;
  out.set(body, 2);
  return out;
}

/** " (found: LABEL, ...)" for a message saying a wanted block is missing. */
export function describeBlocks(blocks: readonly PemBlock[]): string {
  return blocks.length === 0
    ? " (no PEM blocks at all)"
    : ` (found: ${[...new Set(blocks.map((b) => b.label))].join(", ")})`;
}
