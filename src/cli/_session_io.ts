/**
 * Private: sessions for the command-line tool: reading one given as DER, PEM or JSON, and the
 * JSON view the tool prints (`SslSession.toJSON()` plus the cipher's OpenSSL name).
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { cipherName, decodeSession, encodeSession, sessionFromPem } from "../session/codec.ts";
import { SslSession } from "../session/ssl_session.ts";
import { CliError } from "./_errors.ts";
import { parseHex } from "./_io.ts";

const PEM_BEGIN = "-----BEGIN SSL SESSION PARAMETERS-----";
const REDACTED = "[redacted]";

/**
 * The JSON view of a session the tool prints: `SslSession.toJSON()` (byte fields as hex, the
 * master key `"[redacted]"` unless `showSecrets`) with `cipherName` after `cipherId`.
 *
 * @example
 * ```ts
 * import { sessionView } from "./_session_io.ts";
 * import { SslSession } from "../session/ssl_session.ts";
 * const v = sessionView(new SslSession({ cipherId: 0xc030 }), false);
 * console.log(v.cipherName, v.masterKey); // "ECDHE-RSA-AES256-GCM-SHA384" "[redacted]"
 * ```
 *
 * @param s The session.
 * @param showSecrets Show the master key.
 * @returns A plain object for `JSON.stringify`.
 */
export function sessionView(s: SslSession, showSecrets: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.toJSON({ showSecrets }))) {
    out[k] = v;
    if (k === "cipherId") out.cipherName = cipherName(s.cipherId) ?? null;
  }
  return out;
}

type FieldKind = "int" | "bytes" | "bytes?" | "string?";

const FIELDS: Record<string, FieldKind> = {
  sslVersion: "int",
  cipherId: "int",
  sessionId: "bytes",
  masterKey: "bytes",
  time: "int",
  timeout: "int",
  peerCertificate: "bytes?",
  sessionIdContext: "bytes",
  verifyResult: "int",
  hostname: "string?",
  pskIdentityHint: "bytes?",
  pskIdentity: "bytes?",
  ticketLifetimeHint: "int",
  ticket: "bytes?",
  compressionId: "int",
  srpUsername: "string?",
  flags: "int",
  ticketAgeAdd: "int",
  maxEarlyData: "int",
  alpnSelected: "bytes?",
  maxFragmentLengthMode: "int",
  kexGroup: "int",
  peerRpk: "bytes?",
  ticketAppData: "bytes?",
};

let cipherIds: Map<string, number> | null = null;

function cipherIdByName(name: string): number | undefined {
  if (cipherIds === null) {
    cipherIds = new Map();
    for (let id = 0; id <= 0xffff; id++) {
      const n = cipherName(id);
      if (n !== undefined) cipherIds.set(n, id);
    }
  }
  return cipherIds.get(name);
}

/** What a JSON value is, for messages: short strings and numbers shown, unless `secret`. */
function describe(v: unknown, secret: boolean): string {
  if (typeof v === "string") {
    return v.length > 20 || secret ? "a string" : JSON.stringify(v);
  }
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return secret ? `a ${typeof v}` : String(v);
}

const JSON_SPACE = new Set([" ", "\t", "\n", "\r"]);
const JSON_ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX = /^[0-9a-fA-F]$/;

/**
 * Where `text` stops being JSON (RFC 8259): the offset of the first character that cannot
 * continue it (`text.length` when it ends too soon), or `-1` when it is JSON. The tool reports
 * this position instead of `JSON.parse`'s message, which quotes the text around the error (and a
 * session's JSON holds its master key).
 *
 * @example
 * ```ts
 * import { jsonErrorOffset } from "./_session_io.ts";
 * console.log(jsonErrorOffset('{"a": 1}'), jsonErrorOffset("{'a': 1}")); // -1 1
 * ```
 *
 * @param text The text.
 * @returns The offset of the error, or -1.
 */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  let i = 0;
  const space = () => {
    while (i < n && JSON_SPACE.has(text[i])) i++;
  };
  const digits = () => {
    const start = i;
    while (i < n && text[i] >= "0" && text[i] <= "9") i++;
    return i > start;
  };
  // Each returns false with `i` at the offending character.
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    i++;
    while (i < n) {
      const c = text[i];
      if (c === '"') {
        i++;
        return true;
      }
      if (c < " ") return false;
      if (c === "\\") {
        i++;
        if (i >= n) return false;
        if (text[i] === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!HEX.test(text[i + k] ?? "")) {
              i += k;
              return false;
            }
          }
          i += 5;
        } else if (JSON_ESCAPES.has(text[i])) i++;
        else return false;
      } else i++;
    }
    return false;
  };
  const number = (): boolean => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (!(text[i] >= "1" && text[i] <= "9") || !digits()) return false;
    if (text[i] === ".") {
      i++;
      if (!digits()) return false;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!digits()) return false;
    }
    return true;
  };
  const literal = (word: string): boolean => {
    for (const c of word) {
      if (text[i] !== c) return false;
      i++;
    }
    return true;
  };
  const open: string[] = []; // the containers the scan is inside, innermost last
  let want: "value" | "key" | "after" = "value";
  for (;;) {
    space();
    if (want === "key") {
      if (!string()) return i;
      space();
      if (text[i] !== ":") return i;
      i++;
      want = "value";
    } else if (want === "value") {
      const c = text[i];
      if (c === "{" || c === "[") {
        i++;
        space();
        if (text[i] === (c === "{" ? "}" : "]")) {
          i++;
          want = "after";
        } else {
          open.push(c);
          want = c === "{" ? "key" : "value";
        }
        continue;
      }
      const ok = c === '"'
        ? string()
        : c === "t"
        ? literal("true")
        : c === "f"
        ? literal("false")
        : c === "n"
        ? literal("null")
        : number();
      if (!ok) return i;
      want = "after";
    } else {
      const inside = open.at(-1);
      if (inside === undefined) return i === n ? -1 : i;
      if (text[i] === ",") {
        i++;
        want = inside === "{" ? "key" : "value";
      } else if (text[i] === (inside === "{" ? "}" : "]")) {
        i++;
        open.pop();
      } else return i;
    }
  }
}

/** Line and column (from 1) of `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/**
 * Builds a session from the JSON the tool prints (`session`, `open --show-secrets`): either the
 * session object or the whole `open` result (its `session` member). Byte fields are hex; missing
 * fields keep `new SslSession()`'s values; `cipherName` may stand in for `cipherId`;
 * `extendedMasterSecret`, when present, sets flag bit 0.
 *
 * @example
 * ```ts
 * import { sessionFromJson } from "./_session_io.ts";
 * const s = sessionFromJson({ sslVersion: 771, cipherName: "AES128-SHA", masterKey: "00ff" }, "s.json");
 * console.log(s.cipherId, s.masterKey); // 47 Uint8Array(2) [ 0, 255 ]
 * ```
 *
 * @param value Parsed JSON.
 * @param source The file name, for messages.
 * @returns The session.
 * @throws {CliError} Naming the field that is missing, of the wrong type, or redacted.
 */
export function sessionFromJson(value: unknown, source: string): SslSession {
  let obj = value;
  if (
    obj !== null && typeof obj === "object" && !Array.isArray(obj) && "session" in obj &&
    "status" in obj
  ) {
    const result = obj as { session: unknown; statusName?: unknown };
    if (result.session === null) {
      throw new CliError(
        `${source} is an open result with no session (status ${
          String(result.statusName)
        }); give a ticket that opens, or a session`,
      );
    }
    obj = result.session;
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw new CliError(
      `${source} is JSON but not a session object; give the JSON that session or open --show-secrets prints`,
    );
  }
  const s = new SslSession();
  const target = s as unknown as Record<string, unknown>;
  const bad = (field: string, want: string, got: unknown) =>
    new CliError(
      `${source}: session field "${field}" must be ${want}, got ${
        describe(got, field === "masterKey")
      }; write it the way the session command prints it`,
    );
  let cipherNameValue: string | null = null;
  let ems: boolean | undefined;
  for (const [field, v] of Object.entries(obj as Record<string, unknown>)) {
    if (field === "cipherName") {
      if (v !== null && typeof v !== "string") throw bad(field, "a string or null", v);
      cipherNameValue = v;
      continue;
    }
    if (field === "extendedMasterSecret") {
      if (typeof v !== "boolean") throw bad(field, "true or false", v);
      ems = v;
      continue;
    }
    const kind = Object.hasOwn(FIELDS, field) ? FIELDS[field] : undefined;
    if (kind === undefined) {
      throw new CliError(
        `${source}: unknown session field "${field}"; the fields are ${
          [...Object.keys(FIELDS), "cipherName", "extendedMasterSecret"].join(", ")
        }`,
      );
    }
    if (kind === "int") {
      if (typeof v !== "number" || !Number.isSafeInteger(v)) throw bad(field, "an integer", v);
      target[field] = v;
    } else if (kind === "string?") {
      if (v !== null && typeof v !== "string") throw bad(field, "a string or null", v);
      target[field] = v;
    } else {
      if (v === null && kind === "bytes?") {
        if (field === "ticketAppData") s.setTicketAppData(null);
        else target[field] = null;
        continue;
      }
      if (typeof v !== "string") {
        throw bad(field, kind === "bytes" ? "a hex string" : "a hex string or null", v);
      }
      if (field === "masterKey" && v === REDACTED) {
        throw new CliError(
          `${source}: the master key is "${REDACTED}"; make the JSON with --show-secrets (session or open) so it holds the key`,
        );
      }
      const bytes = parseHex(v, `${source}: session field "${field}"`);
      if (field === "ticketAppData") s.setTicketAppData(bytes);
      else target[field] = bytes;
    }
  }
  if (cipherNameValue !== null) {
    const id = cipherIdByName(cipherNameValue);
    if (id === undefined) {
      throw new CliError(
        `${source}: cipherName "${cipherNameValue}" is not an OpenSSL cipher name; use cipherId (e.g. 49200 for ECDHE-RSA-AES256-GCM-SHA384)`,
      );
    }
    if (Object.hasOwn(obj, "cipherId") && id !== s.cipherId) {
      throw new CliError(
        `${source}: cipherName "${cipherNameValue}" is cipher 0x${
          id.toString(16).padStart(4, "0")
        } but cipherId is 0x${
          s.cipherId.toString(16).padStart(4, "0")
        }; remove one of them or make them agree`,
      );
    }
    s.cipherId = id;
  }
  if (ems !== undefined) s.extendedMasterSecret = ems;
  return s;
}

/**
 * Reads a session given as DER (`i2d_SSL_SESSION`, `openssl sess_id -outform DER`), PEM
 * (`-----BEGIN SSL SESSION PARAMETERS-----`, `openssl s_client -sess_out`) or the tool's JSON.
 *
 * @example
 * ```ts
 * import { parseSession } from "./_session_io.ts";
 * const s = parseSession(new TextEncoder().encode('{"cipherId": 4866, "sslVersion": 772}'), "s.json");
 * console.log(s.sslVersion); // 772
 * ```
 *
 * @param bytes The file contents.
 * @param source The file name, for messages.
 * @returns The session.
 * @throws {CliError} When the bytes are none of the three, or not a session libssl accepts.
 */
export function parseSession(bytes: Uint8Array, source: string): SslSession {
  if (bytes.length === 0) {
    throw new CliError(`${source} is empty; give a session in DER, PEM or JSON`);
  }
  try {
    if (bytes[0] === 0x30) return decodeSession(bytes);
    let text: string | null = null;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      text = null;
    }
    if (text !== null && text.includes(PEM_BEGIN)) return sessionFromPem(text);
    if (text !== null && text.trimStart().startsWith("{")) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        // JSON.parse's message quotes the text near the error: say only where it is.
        const at = jsonErrorOffset(text);
        let where = "";
        if (at >= 0) {
          const { line, column } = lineColumn(text, at);
          where = ` (line ${line}, column ${column})`;
        }
        throw new CliError(`${source} is not valid JSON${where}; fix it or give DER or PEM`);
      }
      const s = sessionFromJson(value, source);
      try {
        encodeSession(s);
      } catch (e) {
        if (!(e instanceof DerError)) throw e;
        throw new CliError(
          `the session in ${source} cannot be encoded: ${e.message}; fix that field`,
        );
      }
      return s;
    }
  } catch (e) {
    if (e instanceof DerError) {
      throw new CliError(
        `${source} is not an SSL_SESSION libssl accepts: ${e.message}; give the DER or PEM that openssl sess_id writes`,
      );
    }
    throw e;
  }
  throw new CliError(
    `${source} is not a session: expected DER (first byte 0x30), PEM (${PEM_BEGIN}) or the JSON that session or open --show-secrets prints`,
  );
}
