/**
 * PEM text (RFC 7468) to DER blocks, strictly: every `-----BEGIN L-----` has its matching
 * `-----END L-----`, block contents are strict base64 (canonical padding, no stray characters),
 * and the input, the number of blocks and each block's size are bounded. Text outside blocks is
 * ignored, as RFC 7468 §2 says (OpenSSL writes such text, e.g. with `openssl x509 -text`).
 *
 * Also home of {@link CertificateError}, which `certificate.ts` re-exports: the helpers below
 * `certificate.ts` throw it, and keeping it here avoids an import cycle.
 *
 * @module
 */

/** Why a {@link CertificateError} was raised. */
export type CertificateErrorReason =
  | "malformed"
  | "missing"
  | "unsupported"
  | "encrypted"
  | "mismatch"
  | "too-large";

/**
 * The certificate chain or the private key given to a TLS server cannot be used: malformed PEM
 * or DER, no certificate or no key, an unsupported or encrypted key, or a key that does not match
 * the leaf certificate. Messages name the block and the problem, never key bytes.
 *
 * @example
 * ```ts
 * import { CertificateError, ServerCredentials } from "./certificate.ts";
 * try {
 *   await ServerCredentials.fromPem("no PEM here", "nor here");
 * } catch (e) {
 *   console.log(e instanceof CertificateError, (e as CertificateError).reason); // true "missing"
 * }
 * ```
 */
export class CertificateError extends Error {
  /** What kind of problem this is, for callers that branch on it. */
  readonly reason: CertificateErrorReason;
  /**
   * Creates a certificate configuration error.
   *
   * @param reason The kind of problem.
   * @param message What is wrong, naming the PEM block or the key type; never key material.
   */
  constructor(reason: CertificateErrorReason, message: string) {
    super(message);
    this.name = "CertificateError";
    this.reason = reason;
  }
}

/** Longest PEM text accepted, in UTF-16 code units (4 MiB). */
export const MAX_PEM_CHARS = 4 * 1024 * 1024;
/** Most PEM blocks accepted in one text. */
export const MAX_PEM_BLOCKS = 64;
/** Largest DER accepted in one block (64 KiB). */
export const MAX_BLOCK_BYTES = 64 * 1024;

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`, `EC PRIVATE KEY`. */
  readonly label: string;
  /** The decoded contents (empty for an encrypted block, which is never decoded). */
  readonly der: Uint8Array<ArrayBuffer>;
  /** Whether RFC 1421 headers say `Proc-Type: 4,ENCRYPTED` (OpenSSL's legacy encrypted keys). */
  readonly encrypted: boolean;
  /** 1-based position among the blocks of the text, for messages. */
  readonly index: number;
}

// RFC 7468 §3: label = [ labelchar *( ["-" / SP] labelchar ) ], labelchar = %x21-2C / %x2E-7E.
const LABEL = /^[\x21-\x2c\x2e-\x7e]+(?:[- ][\x21-\x2c\x2e-\x7e]+)*$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]*$/;

/**
 * Splits PEM text into its blocks, decoding each block's base64.
 *
 * @param text The PEM text.
 * @param what How messages name the text, e.g. `"certificate PEM"`.
 * @returns The blocks in order.
 * @throws {CertificateError} On an unterminated or mismatched block, bad base64, a header line
 *   other than an encryption marker, or a size bound exceeded.
 */
export function parsePem(text: string, what: string): PemBlock[] {
  if (typeof text !== "string") {
    throw new CertificateError("malformed", `${what} must be a string, got ${typeof text}`);
  }
  if (text.length > MAX_PEM_CHARS) {
    throw new CertificateError(
      "too-large",
      `${what} is ${text.length} characters, more than the ${MAX_PEM_CHARS} accepted`,
    );
  }
  const lines = text.split(/\r\n|\r|\n/);
  const blocks: PemBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i++].trim();
    if (!line.includes("-----BEGIN") && !line.includes("-----END")) continue;
    const index = blocks.length + 1;
    const label = boundary(line, "BEGIN");
    if (label === null) {
      throw new CertificateError(
        "malformed",
        `${what}: block ${index}: malformed or misplaced encapsulation boundary line ${i}`,
      );
    }
    if (index > MAX_PEM_BLOCKS) {
      throw new CertificateError(
        "too-large",
        `${what} has more than ${MAX_PEM_BLOCKS} PEM blocks`,
      );
    }
    const name = `${what}: block ${index} (${label})`;
    const body: string[] = [];
    let encrypted = false;
    let headers = false;
    let closed = false;
    let chars = 0;
    const first = i;
    while (i < lines.length) {
      const l = lines[i++].trim();
      if (l.startsWith("-----")) {
        if (boundary(l, "END") !== label) {
          throw new CertificateError(
            "malformed",
            `${name}: expected "-----END ${label}-----" at line ${i}`,
          );
        }
        closed = true;
        break;
      }
      if (i - 1 === first && l.includes(":")) {
        headers = true;
        encrypted = readHeaders(lines, i - 1, name);
        // Skip to the blank line that ends the headers.
        while (i < lines.length && lines[i].trim() !== "") i++;
        continue;
      }
      if (!BASE64_LINE.test(l)) {
        throw new CertificateError("malformed", `${name}: invalid base64 at line ${i}`);
      }
      chars += l.length;
      if (chars > Math.ceil(MAX_BLOCK_BYTES / 3) * 4) {
        throw new CertificateError(
          "too-large",
          `${name} is larger than the ${MAX_BLOCK_BYTES} bytes accepted per block`,
        );
      }
      body.push(l);
    }
    if (!closed) {
      throw new CertificateError("malformed", `${name}: no "-----END ${label}-----" line`);
    }
    if (headers && !encrypted) {
      throw new CertificateError(
        "malformed",
        `${name}: RFC 1421 header lines are not supported (RFC 7468 §2)`,
      );
    }
    if (encrypted) {
      blocks.push({ label, der: new Uint8Array(0), encrypted, index });
      continue;
    }
    let der: Uint8Array<ArrayBuffer>;
    try {
      der = Uint8Array.fromBase64(body.join(""), { lastChunkHandling: "strict" });
    } catch {
      throw new CertificateError(
        "malformed",
        `${name}: invalid base64 (truncated, bad padding or stray characters)`,
      );
    }
    if (der.length === 0) throw new CertificateError("malformed", `${name} is empty`);
    blocks.push({ label, der, encrypted, index });
  }
  return blocks;
}

/** The label of a `-----BEGIN label-----` / `-----END label-----` line, or null. */
function boundary(line: string, kind: "BEGIN" | "END"): string | null {
  const head = `-----${kind} `;
  if (!line.startsWith(head) || !line.endsWith("-----")) return null;
  const label = line.slice(head.length, line.length - 5);
  return LABEL.test(label) ? label : null;
}

/** Reads RFC 1421 headers from `lines[at]` on; true when they mark the block encrypted. */
function readHeaders(lines: string[], at: number, name: string): boolean {
  let encrypted = false;
  for (let j = at; j < lines.length; j++) {
    const l = lines[j];
    if (l.trim() === "") return encrypted;
    if (l.trim().startsWith("-----")) break;
    if (/^Proc-Type:\s*4\s*,\s*ENCRYPTED\s*$/i.test(l.trim())) encrypted = true;
  }
  throw new CertificateError("malformed", `${name}: header lines are not followed by a blank line`);
}
