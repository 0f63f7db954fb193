/**
 * Private: a throw-away self-signed certificate for the demo's real-socket part, made with Web
 * Crypto and the DER writer alone (no `openssl` command): an ECDSA P-256 key, and an X.509 v3
 * certificate (RFC 5280 §4.1) for `CN=localhost` with subjectAltName `DNS:localhost,
 * IP:127.0.0.1`, signed ecdsa-with-SHA256.
 *
 * @module
 */

import { DerWriter } from "../der/writer.ts";
import { p1363ToDer } from "../tls/certificate.ts";

/** What {@link selfSignedCertificate} makes. */
export interface SelfSignedCertificate {
  /** The certificate, PEM (`-----BEGIN CERTIFICATE-----`). */
  certPem: string;
  /** The private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  keyPem: string;
  /** The certificate, DER. */
  certDer: Uint8Array<ArrayBuffer>;
}

/** Options of {@link selfSignedCertificate}. */
export interface SelfSignedOptions {
  /** The subject and issuer common name (default `"localhost"`). */
  commonName?: string;
  /** subjectAltName DNS names (default `["localhost"]`). */
  dnsNames?: readonly string[];
  /** subjectAltName IPv4 addresses, dotted (default `["127.0.0.1"]`). */
  ipAddresses?: readonly string[];
  /** Start of validity (default: an hour ago). */
  notBefore?: Date;
  /** End of validity (default: a day from now). */
  notAfter?: Date;
}

const OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const OID_COMMON_NAME = "2.5.4.3";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";

/** `tag` around the concatenation of `parts` (the writer works back to front). */
function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const w = new DerWriter(parts.reduce((n, p) => n + p.length, 8));
  for (let i = parts.length - 1; i >= 0; i--) w.writeRaw(parts[i]);
  w.wrap(tag, 0);
  return w.toBytes().slice();
}

/** An OBJECT IDENTIFIER from its dotted form (X.690 §8.19). */
function oid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [];
  const base128 = (v: number) => {
    const bytes = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift(0x80 | (v & 0x7f));
    out.push(...bytes);
  };
  base128(arcs[0] * 40 + arcs[1]);
  for (const a of arcs.slice(2)) base128(a);
  return tlv(0x06, new Uint8Array(out));
}

const text = (s: string) => new TextEncoder().encode(s);

/** `Name` with one RDN, `CN=name` as a UTF8String. */
function commonNameOnly(name: string): Uint8Array {
  return tlv(0x30, tlv(0x31, tlv(0x30, oid(OID_COMMON_NAME), tlv(0x0c, text(name)))));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5), whole seconds, UTC. */
function time(d: Date): Uint8Array {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z";
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, text(digits.slice(2))) : tlv(0x18, text(digits));
}

function ipv4(dotted: string): Uint8Array {
  const parts = dotted.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new TypeError(`not an IPv4 address: ${dotted}`);
  }
  return new Uint8Array(parts);
}

function pem(label: string, der: Uint8Array): string {
  const b64 = der.toBase64();
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Makes a fresh ECDSA P-256 key and a self-signed X.509 v3 certificate for it: version 3, a
 * random positive 16-byte serial, ecdsa-with-SHA256, issuer and subject `CN=localhost`,
 * validity an hour ago to a day ahead, the key's SPKI from `exportKey("spki")`, and the
 * extensions basicConstraints (critical, not a CA: clients reject a CA certificate used as a
 * server's) and subjectAltName `DNS:localhost, IP:127.0.0.1`.
 *
 * @example
 * ```ts
 * import { selfSignedCertificate } from "./_self_signed.ts";
 * import { ServerCredentials } from "../tls/certificate.ts";
 * const { certPem, keyPem } = await selfSignedCertificate();
 * const credentials = await ServerCredentials.fromPem(certPem, keyPem);
 * console.log(credentials.keyType, credentials.chain.length); // "P-256" 1
 * ```
 *
 * @param options Names and validity.
 * @returns The certificate (PEM and DER) and the private key (PKCS#8 PEM).
 */
export async function selfSignedCertificate(
  options: SelfSignedOptions = {},
): Promise<SelfSignedCertificate> {
  const cn = options.commonName ?? "localhost";
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - 3600_000);
  const notAfter = options.notAfter ?? new Date(now + 86_400_000);
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] & 0x7f) | 0x01; // positive, and no leading zero byte to strip
  const algorithm = tlv(0x30, oid(OID_ECDSA_WITH_SHA256)); // parameters absent (RFC 5758 §3.2)
  const names = [
    ...(options.dnsNames ?? ["localhost"]).map((d) => tlv(0x82, text(d))), // dNSName [2]
    ...(options.ipAddresses ?? ["127.0.0.1"]).map((ip) => tlv(0x87, ipv4(ip))), // iPAddress [7]
  ];
  const extension = (id: string, critical: boolean, value: Uint8Array) =>
    tlv(0x30, oid(id), ...(critical ? [tlv(0x01, new Uint8Array([0xff]))] : []), tlv(0x04, value));
  const extensions = tlv(
    0xa3,
    tlv(
      0x30,
      extension(OID_BASIC_CONSTRAINTS, true, tlv(0x30)), // cA DEFAULT FALSE
      extension(OID_SUBJECT_ALT_NAME, false, tlv(0x30, ...names)),
    ),
  );
  const tbs = tlv(
    0x30,
    tlv(0xa0, tlv(0x02, new Uint8Array([2]))), // version [0] EXPLICIT v3
    tlv(0x02, serial),
    algorithm,
    commonNameOnly(cn),
    tlv(0x30, time(notBefore), time(notAfter)),
    commonNameOnly(cn),
    spki,
    extensions,
  );
  const p1363 = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      tbs,
    ),
  );
  const signature = tlv(0x03, new Uint8Array([0]), p1363ToDer(p1363)); // BIT STRING, 0 unused bits
  const certDer = tlv(0x30, tbs, algorithm, signature);
  const keyPem = pem("PRIVATE KEY", pkcs8);
  pkcs8.fill(0);
  return { certPem: pem("CERTIFICATE", certDer), keyPem, certDer };
}
