/**
 * Private: the ticket and session commands of the tool: `open`, `seal`, `session` and
 * `client-session`.
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { TicketKeyError } from "../ticket/errors.ts";
import { ticketStatusName } from "../server/names.ts";
import { encodeSession, sessionToPem } from "../session/codec.ts";
import { TLS1_3_VERSION } from "../session/versions.ts";
import type { SslSession } from "../session/ssl_session.ts";
import type { TicketOpenResult } from "../ticket/sealer.ts";
import { TicketStatus } from "../ticket/status.ts";
import type { TicketKey, TicketKeyLayout } from "../ticket/ticket_key.ts";
import { parseArgs } from "./_args.ts";
import { CliError, EXIT_FAILURE, usageError } from "./_errors.ts";
import {
  type CliIo,
  looksLikeHex,
  parseHex,
  parseHexBytes,
  readSource,
  refuseInputAsOutput,
  utf8,
  writeSink,
} from "./_io.ts";
import { activeKeys, parseLayout, readKeyFile } from "./_keys.ts";
import { parseSession, sessionView } from "./_session_io.ts";

const bytes = (n: number) => `${n} byte${n === 1 ? "" : "s"}`;

function sourceName(path: string): string {
  return path === "-" ? "standard input" : path;
}

const HEX_ARGUMENT = /^(?:[0-9a-fA-F]{2})+$/;

/** Whether `path` names something (false also when it cannot be looked up). */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a ticket argument given with `--hex` is the ticket itself rather than a file: an even
 * number of hex digits, and no file of that name.
 */
async function isHexArgument(path: string, hex: boolean): Promise<boolean> {
  return hex && HEX_ARGUMENT.test(path) && !(await exists(path));
}

function oneOrNoPositional(command: string, positionals: string[], what: string): string {
  if (positionals.length > 1) {
    throw usageError(
      `${command} takes one ${what}, got ${positionals.length} arguments; see ${command} --help`,
    );
  }
  return positionals[0] ?? "-";
}

/**
 * Reads a ticket: a file (binary, or hex text with `--hex`), standard input for `-`, or with
 * `--hex` the hex itself on the command line (an even number of hex digits that names no file).
 */
async function readTicket(
  path: string,
  hex: boolean,
  io: CliIo,
): Promise<Uint8Array> {
  if (await isHexArgument(path, hex)) return parseHex(path, "the ticket on the command line");
  const bytes = await readSource(path, "ticket", io);
  return hex ? parseHexBytes(bytes, `ticket ${sourceName(path)}`) : bytes;
}

/**
 * Opens `ticket` with the key of `keys` whose name it carries, using the keys as the product
 * does: for several keys (a haproxy file), the last 3, where a ticket of any key but the sealing
 * one (the penultimate) opens as `SUCCESS_RENEW` (HAProxy's `ssl_tlsext_ticket_key_cb` returns 2).
 *
 * @example
 * ```ts
 * import { openWith } from "./_commands.ts";
 * import { TicketKey } from "../ticket/ticket_key.ts";
 * const key = await TicketKey.generate();
 * const r = await openWith([key], await key.sealBytes(new Uint8Array([0x30, 0])));
 * console.log(r.status, r.failure); // 4 "badSession"
 * ```
 *
 * @param keys The keys of a key file, in file order.
 * @param ticket The ticket.
 * @returns The open result.
 */
export async function openWith(keys: TicketKey[], ticket: Uint8Array): Promise<TicketOpenResult> {
  const { usable, sealer } = activeKeys(keys);
  const key = usable.find((k) => k.matches(ticket)) ?? usable[0];
  const result = await key.open(ticket);
  if (result.status === TicketStatus.SUCCESS && usable.length > 1 && key !== sealer) {
    return { ...result, status: TicketStatus.SUCCESS_RENEW };
  }
  return result;
}

function opened(r: TicketOpenResult): boolean {
  return r.status === TicketStatus.SUCCESS || r.status === TicketStatus.SUCCESS_RENEW;
}

/** The one-line reason a ticket did not open, with the fix. */
function openFailure(
  r: TicketOpenResult,
  ticket: Uint8Array,
  keys: TicketKey[],
  source: string,
  hexGiven: boolean,
): string {
  const name = r.keyName.toHex();
  const key = keys.find((k) => k.nameHex === name);
  const code = `(${ticketStatusName(r.status)})`;
  switch (r.failure) {
    case null:
    case undefined:
      return `the ticket is empty ${code}; give a file holding a ticket`;
    case "tooShort":
      return `the ticket is ${
        bytes(ticket.length)
      }, too short for any ticket ${code}; check that the file holds the whole ticket`;
    case "tooLong":
      return `the ticket is ${ticket.length} bytes, longer than 65535 ${code}; check that the file holds one ticket`;
    case "unknownKey":
      return `the ticket's key name ${name} matches no key in ${source} ${code}; open it with the key file that sealed it` +
        (!hexGiven && looksLikeHex(ticket) ? " (the ticket file looks like hex: pass --hex)" : "");
    case "badMac":
      return `the ticket's ${
        key?.format === "aes-256-gcm" ? "GCM tag" : "HMAC"
      } does not verify under key ${name} ${code}; check --layout (the same bytes in another product's layout are other keys) or whether the ticket was altered`;
    case "badPadding":
      return `the ticket decrypts to bad padding under key ${name} ${code}; check --layout (the AES key may be another part of the file)`;
    case "badSession":
      return `the ticket decrypts under key ${name}, but not to an SSL_SESSION libssl accepts ${code}; the ticket's sealer wrote a bad session`;
  }
}

/**
 * `open --key FILE --layout L [--hex] [--show-secrets] [TICKET|-]`: prints
 * `{status, statusName, keyName, failure, session}` as JSON; exit status 1 when the ticket does
 * not open.
 *
 * @example
 * ```ts
 * import { openCommand } from "./_commands.ts";
 * import { resolveIo } from "./_io.ts";
 * const key = await Deno.makeTempFile();
 * await Deno.writeFile(key, crypto.getRandomValues(new Uint8Array(80)));
 * let err = "";
 * const io = resolveIo({ stdout: () => {}, stderr: (t) => void (err += t) });
 * // The ticket's hex on the command line: 32 zero bytes, under no key of the file.
 * console.log(await openCommand(["--key", key, "--layout", "openssl-80", "--hex", "00".repeat(32)], io)); // 1
 * console.log(err.startsWith("error: the ticket's key name 0000")); // true
 * await Deno.remove(key);
 * ```
 *
 * @param args Arguments after `open`.
 * @param io Standard streams.
 * @returns The exit status.
 */
export async function openCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs("open", args, {
    key: "string",
    layout: "string",
    hex: "boolean",
    "show-secrets": "boolean",
  });
  const ticketPath = oneOrNoPositional("open", positionals, "TICKET file");
  const layout = parseLayout(options.layout, "--layout", "open");
  if (options.key === "-" && ticketPath === "-") {
    throw usageError(
      "the key and the ticket cannot both come from standard input; give one as a file",
    );
  }
  const { keys, source } = await readKeyFile(options.key, layout, "open", io);
  const hex = options.hex === true;
  const ticket = await readTicket(ticketPath, hex, io);
  const r = await openWith(keys, ticket);
  const out = {
    status: r.status,
    statusName: ticketStatusName(r.status),
    keyName: r.keyName.toHex(),
    failure: r.failure ?? null,
    session: r.session ? sessionView(r.session, options["show-secrets"] === true) : null,
  };
  await io.stdout(utf8(JSON.stringify(out, null, 2) + "\n"));
  if (!opened(r)) {
    await io.stderr(`error: ${openFailure(r, ticket, keys, source, hex)}\n`);
    return EXIT_FAILURE;
  }
  return 0;
}

async function readSessionArg(path: string, io: CliIo): Promise<SslSession> {
  const bytes = await readSource(path, "session", io);
  return parseSession(bytes, sourceName(path));
}

function encodeError(e: unknown, source: string): never {
  if (e instanceof DerError) {
    throw new CliError(`the session in ${source} cannot be encoded: ${e.message}; fix that field`);
  }
  if (e instanceof TicketKeyError) throw new CliError(`${e.message}`);
  throw e;
}

/**
 * `seal --key FILE --layout L [--hex] [--out FILE|-] [--force] [--iv HEX] SESSION|-`.
 *
 * @example
 * ```ts
 * import { sealCommand } from "./_commands.ts";
 * import { resolveIo } from "./_io.ts";
 * const key = await Deno.makeTempFile();
 * await Deno.writeFile(key, crypto.getRandomValues(new Uint8Array(80)));
 * let n = 0;
 * const io = resolveIo({
 *   stdin: () => Promise.resolve(new TextEncoder().encode('{"cipherId": 49200, "time": 1, "timeout": 300}')),
 *   stdout: (b) => void (n = b.length),
 * });
 * await sealCommand(["--key", key, "--layout", "nginx-80", "-"], io);
 * console.log(n); // 112 (name 16, IV 16, the session encrypted in 48, HMAC 32)
 * await Deno.remove(key);
 * ```
 *
 * @param args Arguments after `seal`.
 * @param io Standard streams.
 * @returns The exit status (0).
 */
export async function sealCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs("seal", args, {
    key: "string",
    layout: "string",
    hex: "boolean",
    out: "string",
    force: "boolean",
    iv: "string",
  });
  if (positionals.length !== 1) {
    throw usageError(
      `seal takes one SESSION file (DER, PEM or JSON; - for standard input), got ${positionals.length}; see seal --help`,
    );
  }
  const layout = parseLayout(options.layout, "--layout", "seal");
  if (options.key === "-" && positionals[0] === "-") {
    throw usageError(
      "the key and the session cannot both come from standard input; give one as a file",
    );
  }
  const out = options.out as string | undefined;
  await refuseInputAsOutput(out, [
    { path: options.key as string | undefined, role: "key file" },
    { path: positionals[0], role: "session" },
  ]);
  const { keys } = await readKeyFile(options.key, layout, "seal", io);
  const key = activeKeys(keys).sealer;
  let iv: Uint8Array | undefined;
  if (typeof options.iv === "string") {
    iv = parseHex(options.iv, "--iv");
    const want = key.format === "openssl" ? 16 : 12;
    if (iv.length !== want) {
      throw usageError(`--iv is ${bytes(iv.length)}, but ${layout} tickets take a ${want}-byte IV`);
    }
  }
  const session = await readSessionArg(positionals[0], io);
  let ticket: Uint8Array;
  try {
    ticket = await key.seal(session, iv === undefined ? undefined : { iv });
  } catch (e) {
    encodeError(e, sourceName(positionals[0]));
  }
  const hex = options.hex === true;
  await writeSink(out, hex ? utf8(ticket.toHex() + "\n") : ticket, "ticket", io, {
    binary: !hex,
    force: options.force === true,
  });
  return 0;
}

/**
 * `session [--show-secrets] [--format json|pem|der] [--out FILE|-] [--force] FILE|-`: a session
 * in DER, PEM or JSON, printed as JSON (secrets redacted unless asked) or converted to PEM or DER
 * (which hold the master key, so a terminal gets them only with `--show-secrets`).
 *
 * @example
 * ```ts
 * import { sessionCommand } from "./_commands.ts";
 * import { resolveIo } from "./_io.ts";
 * let out = "";
 * const io = resolveIo({
 *   stdin: () => Promise.resolve(new TextEncoder().encode('{"cipherId": 49200}')),
 *   stdout: (b) => void (out += new TextDecoder().decode(b)),
 * });
 * await sessionCommand(["-"], io);
 * console.log(JSON.parse(out).cipherName); // "ECDHE-RSA-AES256-GCM-SHA384"
 * ```
 *
 * @param args Arguments after `session`.
 * @param io Standard streams.
 * @returns The exit status (0).
 */
export async function sessionCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs("session", args, {
    "show-secrets": "boolean",
    format: "string",
    out: "string",
    force: "boolean",
  });
  const path = oneOrNoPositional("session", positionals, "session FILE");
  const format = (options.format as string | undefined) ?? "json";
  if (format !== "json" && format !== "pem" && format !== "der") {
    throw usageError(`unknown --format "${format}"; formats: json, pem, der`);
  }
  const out = options.out as string | undefined;
  await refuseInputAsOutput(out, [{ path, role: "session" }]);
  const showSecrets = options["show-secrets"] === true;
  const session = await readSessionArg(path, io);
  let bytes: Uint8Array;
  try {
    bytes = format === "json"
      ? utf8(JSON.stringify(sessionView(session, showSecrets), null, 2) + "\n")
      : format === "pem"
      ? utf8(sessionToPem(session))
      : encodeSession(session);
  } catch (e) {
    encodeError(e, sourceName(path));
  }
  await writeSink(out, bytes, `${format.toUpperCase()} session`, io, {
    secret: format !== "json" || showSecrets,
    showSecrets,
    binary: format === "der",
    force: options.force === true,
  });
  return 0;
}

function parseUint32(value: string, option: string): number {
  const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n <= 0xffffffff)) {
    throw usageError(
      `${option} must be a whole number of seconds from 0 to 4294967295, got "${value}"`,
    );
  }
  return n;
}

/**
 * Turns a session and the ticket that carries it into the session an OpenSSL client stores
 * after receiving that ticket (`ssl/statem/statem_clnt.c:tls_process_new_session_ticket`):
 * the ticket, its lifetime hint, and a session id that is the SHA-256 of the ticket (a TLS 1.2
 * client only recognises a resumption when the server echoes a non-empty session id). The
 * session-id context becomes `sidCtx` (the client's own, normally empty, which
 * `tls_process_server_hello` compares on resumption); the server-only peer certificate (a client
 * certificate) and ticket app data are dropped.
 *
 * @example
 * ```ts
 * import { clientSession } from "./_commands.ts";
 * import { SslSession } from "../session/ssl_session.ts";
 * const s = await clientSession(new SslSession({ timeout: 300 }), new Uint8Array(64), undefined, new Uint8Array());
 * console.log(s.ticketLifetimeHint, s.sessionId.length); // 300 32
 * ```
 *
 * @param server The session sealed in the ticket.
 * @param ticket The ticket.
 * @param lifetime The lifetime hint (default: the session's timeout).
 * @param sidCtx The client's session-id context.
 * @returns The client-side session.
 */
export async function clientSession(
  server: SslSession,
  ticket: Uint8Array,
  lifetime: number | undefined,
  sidCtx: Uint8Array,
): Promise<SslSession> {
  const s = server.dup();
  s.ticket = ticket.slice();
  s.ticketLifetimeHint = lifetime ?? Math.min(Math.max(server.timeout, 0), 0xffffffff);
  s.sessionId = new Uint8Array(
    await crypto.subtle.digest("SHA-256", ticket.slice() as Uint8Array<ArrayBuffer>),
  );
  s.sessionIdContext = sidCtx.slice();
  s.peerCertificate = null;
  s.setTicketAppData(null);
  return s;
}

/**
 * `client-session --ticket T [--hex] (--session S | --key FILE --layout L) [--lifetime SECONDS]
 * [--sid-ctx HEX] [--out FILE|-] [--force] [--show-secrets]`: the PEM `openssl s_client
 * -sess_in` resumes with (it holds the master key, so a terminal gets it only with
 * `--show-secrets`).
 *
 * @example
 * ```ts
 * import { clientSessionCommand } from "./_commands.ts";
 * import { resolveIo } from "./_io.ts";
 * const session = await Deno.makeTempFile();
 * await Deno.writeTextFile(session, '{"sslVersion": 771, "cipherId": 49200, "timeout": 300}');
 * let pem = "";
 * const io = resolveIo({ stdout: (b) => void (pem += new TextDecoder().decode(b)) });
 * // A ticket of 64 bytes given as hex; a pipe, not a terminal, takes the PEM.
 * await clientSessionCommand(["--ticket", "ab".repeat(64), "--hex", "--session", session], io);
 * console.log(pem.startsWith("-----BEGIN SSL SESSION PARAMETERS-----")); // true
 * await Deno.remove(session);
 * ```
 *
 * @param args Arguments after `client-session`.
 * @param io Standard streams.
 * @returns The exit status (0).
 */
export async function clientSessionCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs("client-session", args, {
    ticket: "string",
    hex: "boolean",
    session: "string",
    key: "string",
    layout: "string",
    lifetime: "string",
    "sid-ctx": "string",
    out: "string",
    force: "boolean",
    "show-secrets": "boolean",
  });
  if (positionals.length > 0) {
    throw usageError(
      `client-session takes options only, got "${
        positionals[0]
      }"; give the ticket with --ticket FILE`,
    );
  }
  if (typeof options.ticket !== "string") {
    throw usageError("client-session needs --ticket FILE; see client-session --help");
  }
  const bySession = typeof options.session === "string";
  const byKey = options.key !== undefined || options.layout !== undefined;
  if (bySession === byKey) {
    throw usageError(
      bySession
        ? "give either --session S or --key FILE --layout L, not both; see client-session --help"
        : "client-session needs --session S (the session sealed in the ticket) or --key FILE --layout L to open the ticket; see client-session --help",
    );
  }
  const stdinUsers = [options.ticket, options.session, options.key].filter((p) => p === "-");
  if (stdinUsers.length > 1) {
    throw usageError("only one input can come from standard input (-); give the others as files");
  }
  const out = options.out as string | undefined;
  await refuseInputAsOutput(out, [
    { path: options.ticket, role: "ticket" },
    { path: options.session as string | undefined, role: "session" },
    { path: options.key as string | undefined, role: "key file" },
  ]);
  const lifetime = typeof options.lifetime === "string"
    ? parseUint32(options.lifetime, "--lifetime")
    : undefined;
  const sidCtx = typeof options["sid-ctx"] === "string"
    ? parseHex(options["sid-ctx"], "--sid-ctx")
    : new Uint8Array(0);
  if (sidCtx.length > 32) {
    throw usageError(`--sid-ctx is ${sidCtx.length} bytes; a session-id context is at most 32`);
  }
  let layout: TicketKeyLayout | null = null;
  if (byKey) layout = parseLayout(options.layout, "--layout", "client-session");
  const hex = options.hex === true;
  const ticket = await readTicket(options.ticket, hex, io);
  if (ticket.length === 0 || ticket.length > 65535) {
    throw new CliError(
      `the ticket is ${
        bytes(ticket.length)
      }; a ticket is 1 to 65535 bytes (check the --ticket file${
        hex ? "" : ", and pass --hex for a hex file"
      })`,
    );
  }
  let server: SslSession;
  if (layout !== null) {
    const { keys, source } = await readKeyFile(options.key, layout, "client-session", io);
    const r = await openWith(keys, ticket);
    if (!opened(r)) throw new CliError(openFailure(r, ticket, keys, source, hex));
    server = r.session!;
  } else {
    server = await readSessionArg(options.session as string, io);
  }
  const s = await clientSession(server, ticket, lifetime, sidCtx);
  let pem: string;
  try {
    pem = sessionToPem(s);
  } catch (e) {
    encodeError(e, options.session as string);
  }
  if (s.sslVersion === TLS1_3_VERSION) {
    const age = Math.floor(Date.now() / 1000) - s.time;
    if (age < 0 || age - 1 > s.ticketLifetimeHint) {
      await io.stderr(
        `warning: the session's time is ${
          age < 0 ? `${-age} s in the future` : `${age} s ago`
        } and the ticket lifetime hint is ${s.ticketLifetimeHint} s; OpenSSL's TLS 1.3 client will not offer this ticket (pass --lifetime SECONDS, or seal a session with a current time)\n`,
      );
    }
  }
  await writeSink(out, utf8(pem), "client session", io, {
    secret: true,
    showSecrets: options["show-secrets"] === true,
    force: options.force === true,
  });
  return 0;
}
