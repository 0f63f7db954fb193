/**
 * Tests of the command-line tool (`cli.ts`): every command's normal output, exactly where it is
 * deterministic, and its error lines and exit statuses. Most run `main` in-process with captured
 * streams; a few run `deno run cli.ts` as a real process, and one checks the client session with
 * `openssl sess_id` (skipped, saying why, without OpenSSL 3.x).
 */
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { decodeSession, sessionFromPem, sessionToPem } from "../src/session/codec.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { helpText } from "../src/cli/_help.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import { KEYS_00_4F, TLS12_DER, TLS12_TICKET, TLS13_DER, TLS13_TICKET } from "./_vectors.ts";
import { findOpenssl, parseSessionText, runOpenssl } from "./interop/_openssl.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** The IV libssl chose for TLS12_TICKET (bytes 16..31 of the ticket). */
const TLS12_IV_HEX = "a7a3281f357aa2089a694076f1ef43da";
const TLS12_MASTER_KEY_HEX =
  "f01de22b939337e8c049326e3845aa884f2bddfa20dae67e1627fe8f1ce545a164dd9edbb8443116ac0355da145b6c7c";
const LAYOUTS = "gcm, openssl-80, openssl-48, node-48, nginx-48, nginx-80, haproxy-48, haproxy-80";

interface Run {
  code: number;
  stdout: Uint8Array;
  out: string;
  err: string;
}

/** Runs `main(args)` in-process with captured streams and optional standard input. */
async function cli(
  args: string[],
  stdin: Uint8Array | string = new Uint8Array(0),
  stdoutIsTerminal = false,
): Promise<Run> {
  const chunks: Uint8Array[] = [];
  let err = "";
  const code = await main(args, {
    stdout: (b) => void chunks.push(b.slice()),
    stderr: (t) => void (err += t),
    // A copy: the tool zeroes key material it has read.
    stdin: () => Promise.resolve(typeof stdin === "string" ? enc(stdin) : stdin.slice()),
    stdoutIsTerminal,
  });
  const stdout = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    stdout.set(c, off);
    off += c.length;
  }
  return { code, stdout, out: dec(stdout), err };
}

/** Asserts a failed run: its exit status and one stderr line starting with `start`. */
function assertError(r: Run, code: number, start: string): void {
  assert.equal(r.code, code, `exit status (stderr: ${r.err})`);
  assert.ok(r.err.startsWith(start), `stderr ${JSON.stringify(r.err)} starts with ${start}`);
  assert.equal(r.err.split("\n").length, 2, "exactly one line on stderr");
  assert.ok(!/\n\s+at /.test(r.err), "no stack trace");
}

/** A fresh temporary directory, removed after `fn`. */
async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_cli_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The JSON `session` and `open` print for TLS12_DER (secrets redacted). */
const TLS12_SESSION_JSON = {
  sslVersion: 0x0303,
  cipherId: 0xc030,
  cipherName: "ECDHE-RSA-AES256-GCM-SHA384",
  sessionId: "",
  masterKey: "[redacted]",
  time: 1795963723,
  timeout: 7200,
  peerCertificate: null,
  sessionIdContext: "",
  verifyResult: 0,
  hostname: null,
  pskIdentityHint: null,
  pskIdentity: null,
  ticketLifetimeHint: 0,
  ticket: null,
  compressionId: 0,
  srpUsername: null,
  flags: 1,
  ticketAgeAdd: 0,
  maxEarlyData: 0,
  alpnSelected: null,
  maxFragmentLengthMode: 0,
  kexGroup: 29,
  peerRpk: null,
  extendedMasterSecret: true,
  ticketAppData: "48656c6c6f576f726c64",
};

// ---------------------------------------------------------------------------------------------
// help and usage

Deno.test("cli --help: the overview lists every command and layout; exit 0", async () => {
  const r = await cli(["--help"]);
  assert.equal(r.code, 0);
  assert.equal(r.err, "");
  assert.equal(r.out, helpText(""));
  assert.ok(r.out.startsWith("Usage: deno task cli <command> [options]\n"));
  for (const c of ["keygen", "convert", "open", "seal", "session", "client-session", "demo"]) {
    assert.match(r.out, new RegExp(`^  ${c} `, "m"));
  }
  for (const l of LAYOUTS.split(", ")) assert.match(r.out, new RegExp(`^  ${l} `, "m"));
  assert.match(r.out, /^ {2}nginx-48 +48 bytes +name16\|aes16\|hmac16 /m);
  assert.match(r.out, /^ {2}haproxy-80 +base64 lines of 80 bytes +name16\|aes32\|hmac32 /m);
  assert.deepEqual(await cli(["-h"]), r);
  assert.deepEqual(await cli(["help"]), r);
});

Deno.test("cli <command> --help, -h and help <command>: the command's usage; exit 0", async () => {
  for (const c of ["keygen", "convert", "open", "seal", "session", "client-session", "demo"]) {
    const r = await cli([c, "--help"]);
    assert.equal(r.code, 0, c);
    assert.ok(r.out.startsWith(`Usage: ${c}`), c);
    assert.equal(r.out, helpText(c));
    assert.equal((await cli([c, "-h"])).out, r.out);
    assert.equal((await cli(["help", c])).out, r.out);
    // --help wins over missing or bad options.
    assert.equal((await cli([c, "--layout", "nope", "--help"])).code, 0);
  }
});

Deno.test("cli usage errors: exit 2 and one line naming the problem and the fix", async () => {
  assertError(await cli([]), 2, "error: no command given; commands: keygen, convert, open,");
  assertError(
    await cli(["frobnicate"]),
    2,
    'error: unknown command "frobnicate"; commands: keygen',
  );
  assertError(await cli(["help", "frob"]), 2, 'error: unknown command "frob"');
  assertError(
    await cli(["open", "--frob"]),
    2,
    "error: unknown option --frob for open; see open --help",
  );
  assertError(await cli(["open", "-x"]), 2, "error: unknown option -x for open");
  assertError(await cli(["open", "--layout"]), 2, "error: option --layout needs a value");
  assertError(await cli(["open", "--hex=1"]), 2, "error: option --hex takes no value");
  assertError(
    await cli(["open", "--layout", "gcm", "--layout", "gcm"]),
    2,
    "error: option --layout is given twice",
  );
  assertError(
    await cli(["open", "--key", "k", "t"]),
    2,
    "error: open needs --layout L (one of gcm, openssl-80,",
  );
  assertError(
    await cli(["open", "--layout", "gcm", "t"]),
    2,
    "error: open needs --key FILE (a gcm key file)",
  );
  assertError(await cli(["demo", "x"]), 2, 'error: demo takes no arguments, got "x"');
});

/** The one message of the ticket layer's layout check (`parseTicketKeyLayout`), as a usage error. */
const UNKNOWN_LAYOUT = 'error: unknown ticket key layout "nginx-49"; layouts: gcm (48 bytes: ' +
  "name16|aes32), openssl-80 (80 bytes: name16|hmac32|aes32), openssl-48 (48 bytes: " +
  "name16|hmac16|aes16), node-48 (48 bytes: name16|hmac16|aes16), nginx-48 (48 bytes: " +
  "name16|aes16|hmac16), nginx-80 (80 bytes: name16|hmac32|aes32), haproxy-48 (base64 lines " +
  "of 48 bytes: name16|aes16|hmac16), haproxy-80 (base64 lines of 80 bytes: name16|aes32|hmac32)\n";

Deno.test("cli: an unknown layout is a usage error listing the valid layouts", async () => {
  for (
    const args of [
      ["keygen", "--layout", "nginx-49"],
      ["open", "--key", "k", "--layout", "nginx-49", "t"],
      ["seal", "--key", "k", "--layout", "nginx-49", "s"],
      ["convert", "--from", "nginx-49", "--to", "node-48"],
      ["convert", "--from", "node-48", "--to", "nginx-49"],
    ]
  ) {
    const r = await cli(args);
    assertError(r, 2, 'error: unknown ticket key layout "nginx-49"');
    assert.equal(r.err, UNKNOWN_LAYOUT);
  }
});

// ---------------------------------------------------------------------------------------------
// keygen

Deno.test("cli keygen: raw layouts write one key of the layout's size that imports in that layout", async () => {
  const sizes = {
    "gcm": 48,
    "openssl-80": 80,
    "openssl-48": 48,
    "node-48": 48,
    "nginx-48": 48,
    "nginx-80": 80,
  } as const;
  for (const [layout, size] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
    const a = await cli(["keygen", "--layout", layout]);
    const b = await cli(["keygen", "--layout", layout]);
    assert.equal(a.code, 0);
    assert.equal(a.err, "");
    assert.equal(a.stdout.length, size, layout);
    assert.notDeepEqual(a.stdout, b.stdout, "fresh keys differ");
    const key = await TicketKey.import(a.stdout, layout, { extractable: true });
    assert.deepEqual(await key.export(layout), a.stdout);
    assert.equal(
      key.cipher,
      layout === "gcm" ? "AES-256-GCM" : `AES-${size === 80 ? 256 : 128}-CBC-HMAC-SHA256`,
    );
  }
});

Deno.test("cli keygen --hex: one line of lower-case hex of the raw key", async () => {
  const r = await cli(["keygen", "--layout", "nginx-80", "--hex"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^[0-9a-f]{160}\n$/);
  await TicketKey.import(Uint8Array.fromHex(r.out.trim()), "nginx-80");
});

Deno.test("cli keygen haproxy-*: base64 lines (3 by default, HAProxy's TLS_TICKETS_NO), --count N", async () => {
  for (const [layout, size] of [["haproxy-48", 48], ["haproxy-80", 80]] as const) {
    const r = await cli(["keygen", "--layout", layout]);
    assert.equal(r.code, 0);
    const lines = r.out.split("\n");
    assert.equal(lines.length, 4);
    assert.equal(lines[3], "");
    for (const l of lines.slice(0, 3)) assert.equal(Uint8Array.fromBase64(l).length, size);
    assert.equal((await TicketKey.importAll(r.out, layout)).length, 3);
    const five = await cli(["keygen", "--layout", layout, "--count", "5"]);
    assert.equal(five.out.trimEnd().split("\n").length, 5);
  }
});

Deno.test("cli keygen --out: mode 0600, refuses to overwrite without --force", async () => {
  await inTemp(async (dir) => {
    const path = `${dir}/ticket.key`;
    const r = await cli(["keygen", "--layout", "nginx-48", "--out", path]);
    assert.equal(r.code, 0);
    assert.equal(r.out, "");
    const first = await Deno.readFile(path);
    assert.equal(first.length, 48);
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertError(
      await cli(["keygen", "--layout", "nginx-48", "--out", path]),
      1,
      `error: ${path} already exists; pass --force to overwrite it`,
    );
    assert.deepEqual(await Deno.readFile(path), first);
    assert.equal((await cli(["keygen", "--layout", "nginx-48", "--out", path, "--force"])).code, 0);
    assert.notDeepEqual(await Deno.readFile(path), first);
  });
});

Deno.test("cli keygen errors: --count on a raw layout, --hex on a text layout, binary to a terminal", async () => {
  assertError(
    await cli(["keygen", "--layout", "nginx-80", "--count", "2"]),
    2,
    "error: nginx-80 files hold one key; --count is for the haproxy layouts",
  );
  assertError(
    await cli(["keygen", "--layout", "haproxy-80", "--count", "0"]),
    2,
    'error: --count must be a whole number from 1 to 999, got "0"',
  );
  assertError(
    await cli(["keygen", "--layout", "haproxy-48", "--hex"]),
    2,
    "error: haproxy-48 key files are already text (base64 lines); drop --hex",
  );
  assertError(await cli(["keygen"]), 2, "error: keygen needs --layout L");
  assertError(
    await cli(["keygen", "--layout", "gcm", "x"]),
    2,
    'error: keygen takes no arguments, got "x"',
  );
  assertError(
    await cli(["keygen", "--layout", "nginx-80"], "", true),
    1,
    "error: refusing to write a binary nginx-80 key to the terminal; pass --out FILE",
  );
  // Text keys go to a terminal only with --show-secrets (see the "secrets to a terminal" test).
  assert.equal(
    (await cli(["keygen", "--layout", "nginx-80", "--hex", "--show-secrets"], "", true)).code,
    0,
  );
});

// ---------------------------------------------------------------------------------------------
// convert (nginx src/event/ngx_event_openssl.c:ngx_ssl_session_ticket_keys, HAProxy
// include/haproxy/ssl_sock-t.h tls_sess_key_128/256, Node src/crypto/crypto_context.cc)

const seq = (n: number, start = 0) => Uint8Array.from({ length: n }, (_, i) => start + i);

Deno.test("cli convert nginx-48 -> node-48: name|aes|hmac becomes name|hmac|aes (src/event/ngx_event_openssl.c, Node src/crypto/crypto_context.cc)", async () => {
  const nginx = seq(48); // name 00..0f, aes 10..1f, hmac 20..2f
  const r = await cli(["convert", "--from", "nginx-48", "--to", "node-48"], nginx);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.stdout, concatBytes([seq(16), seq(16, 0x20), seq(16, 0x10)]));
  // And back.
  const back = await cli(["convert", "--from", "node-48", "--to", "nginx-48"], r.stdout);
  assert.deepEqual(back.stdout, nginx);
  // openssl-48 and node-48 are the same bytes; nginx-80 and openssl-80 too.
  assert.deepEqual(
    (await cli(["convert", "--from", "node-48", "--to", "openssl-48"], nginx)).stdout,
    nginx,
  );
  assert.deepEqual(
    (await cli(["convert", "--from", "nginx-80", "--to", "openssl-80"], KEYS_00_4F)).stdout,
    KEYS_00_4F,
  );
});

Deno.test("cli convert openssl-80 <-> haproxy-80: name|hmac|aes to a base64 line of name|aes|hmac", async () => {
  const r = await cli(["convert", "--from", "openssl-80", "--to", "haproxy-80"], KEYS_00_4F);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, concatBytes([seq(16), seq(32, 0x30), seq(32, 0x10)]).toBase64() + "\n");
  const back = await cli(["convert", "--from", "haproxy-80", "--to", "nginx-80"], r.out);
  assert.deepEqual(back.stdout, KEYS_00_4F);
  const hex = await cli(["convert", "--from", "haproxy-80", "--to", "nginx-80", "--hex"], r.out);
  assert.equal(hex.out, KEYS_00_4F.toHex() + "\n");
});

Deno.test("cli convert: files, hex input, several --in into one haproxy file, --line out of one", async () => {
  await inTemp(async (dir) => {
    const a = `${dir}/a.key`, b = `${dir}/b.key`, c = `${dir}/c.hex`;
    await Deno.writeFile(a, seq(48));
    await Deno.writeFile(b, seq(48, 100));
    await Deno.writeTextFile(c, seq(48, 200).toHex() + "\n"); // hex text is accepted too
    const file = `${dir}/haproxy.keys`;
    const r = await cli([
      "convert",
      "--from",
      "nginx-48",
      "--to",
      "haproxy-48",
      "--in",
      a,
      "--in",
      b,
      "--in",
      c,
      "--out",
      file,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "");
    const text = await Deno.readTextFile(file);
    assert.equal(
      text,
      [seq(48), seq(48, 100), seq(48, 200)].map((k) => k.toBase64() + "\n").join(""),
    );
    // A raw layout holds one key: --line picks it.
    assertError(
      await cli(["convert", "--from", "haproxy-48", "--to", "node-48", "--in", file]),
      1,
      `error: ${file} holds 3 haproxy-48 keys, but node-48 files hold one; pick one with --line N (1 to 3; HAProxy seals with line 2)`,
    );
    const two = await cli([
      "convert",
      "--from",
      "haproxy-48",
      "--to",
      "node-48",
      "--in",
      file,
      "--line",
      "2",
    ]);
    assert.deepEqual(two.stdout, concatBytes([seq(16, 100), seq(16, 132), seq(16, 116)]));
    assertError(
      await cli([
        "convert",
        "--from",
        "haproxy-48",
        "--to",
        "node-48",
        "--in",
        file,
        "--line",
        "4",
      ]),
      1,
      "error: --line 4 is out of range: the input holds 3 keys; pick 1 to 3",
    );
    assertError(
      await cli(["convert", "--from", "nginx-48", "--to", "node-48", "--in", a, "--in", b]),
      2,
      "error: --in is given 2 times, but node-48 files hold one key",
    );
  });
});

Deno.test("cli convert: impossible conversions are usage errors that say why", async () => {
  assertError(
    await cli(["convert", "--from", "nginx-48", "--to", "nginx-80"], seq(48)),
    2,
    "error: cannot convert nginx-48 to nginx-80: a 48-byte key (AES-128-CBC with an HMAC-SHA256 key) cannot become an 80-byte key",
  );
  assertError(
    await cli(["convert", "--from", "haproxy-80", "--to", "node-48"]),
    2,
    "error: cannot convert haproxy-80 to node-48: an 80-byte key (AES-256-CBC with an HMAC-SHA256 key) cannot become a 48-byte key",
  );
  assertError(
    await cli(["convert", "--from", "gcm", "--to", "nginx-48"]),
    2,
    "error: cannot convert gcm to nginx-48: gcm keys are AES-256-GCM with no HMAC key, nginx-48 keys are AES-128-CBC",
  );
  assertError(
    await cli(["convert", "--from", "openssl-80", "--to", "gcm"]),
    2,
    "error: cannot convert openssl-80 to gcm: openssl-80 keys are AES-256-CBC with an HMAC-SHA256 key, gcm keys are AES-256-GCM",
  );
  assertError(
    await cli(["convert", "--from", "nginx-48", "--to", "node-48"], seq(80)),
    1,
    "error: nginx-48 keys are 48 bytes, got 80 from standard input; did you mean --layout nginx-80?",
  );
});

// ---------------------------------------------------------------------------------------------
// open (ssl/t1_lib.c:tls_decrypt_ticket)

Deno.test("cli open (ssl/t1_lib.c:tls_decrypt_ticket): the TLS 1.2 ticket libssl sealed under keys 00..4f (openssl-80) is SUCCESS with its session", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/k`, KEYS_00_4F);
    await Deno.writeFile(`${dir}/t`, TLS12_TICKET);
    const r = await cli(["open", "--key", `${dir}/k`, "--layout", "openssl-80", `${dir}/t`]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.deepEqual(JSON.parse(r.out), {
      status: 5,
      statusName: "SUCCESS",
      keyName: "000102030405060708090a0b0c0d0e0f",
      failure: null,
      session: TLS12_SESSION_JSON,
    });
    assert.ok(r.out.endsWith("}\n"));
    assert.ok(!r.out.includes(TLS12_MASTER_KEY_HEX), "master key redacted");
    // --show-secrets: the master key, nothing else changes.
    const s = await cli([
      "open",
      "--key",
      `${dir}/k`,
      "--layout",
      "openssl-80",
      "--show-secrets",
      `${dir}/t`,
    ]);
    assert.deepEqual(JSON.parse(s.out).session, {
      ...TLS12_SESSION_JSON,
      masterKey: TLS12_MASTER_KEY_HEX,
    });
    // The same 80 bytes are an nginx-80 key too (name|hmac|aes).
    const n = await cli(["open", "--key", `${dir}/k`, "--layout", "nginx-80", `${dir}/t`]);
    assert.equal(n.out, r.out);
    // The ticket from standard input, and as hex.
    assert.equal(
      (await cli(["open", "--key", `${dir}/k`, "--layout", "openssl-80"], TLS12_TICKET)).out,
      r.out,
    );
    await Deno.writeTextFile(`${dir}/t.hex`, TLS12_TICKET.toHex().replace(/(.{64})/g, "$1\n"));
    assert.equal(
      (await cli(["open", "--key", `${dir}/k`, "--layout", "openssl-80", "--hex", `${dir}/t.hex`]))
        .out,
      r.out,
    );
  });
});

Deno.test("cli open: the TLS 1.3 ticket libssl sealed under keys 00..4f is SUCCESS (TLS_AES_256_GCM_SHA384)", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/k`, KEYS_00_4F);
    const r = await cli(
      ["open", "--key", `${dir}/k`, "--layout", "openssl-80", "--show-secrets"],
      TLS13_TICKET,
    );
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.status, 5);
    assert.equal(j.session.sslVersion, 0x0304);
    assert.equal(j.session.cipherName, "TLS_AES_256_GCM_SHA384");
    assert.equal(j.session.ticketAgeAdd, 0x6cc2081e);
    assert.equal(j.session.masterKey, decodeSession(TLS13_DER).masterKey.toHex());
  });
});

Deno.test("cli open (ssl/t1_lib.c:tls_decrypt_ticket): tickets that do not open print the JSON, then one error line; exit 1", async () => {
  await inTemp(async (dir) => {
    const k = `${dir}/k`;
    await Deno.writeFile(k, KEYS_00_4F);
    const open = (ticket: Uint8Array | string, ...extra: string[]) =>
      cli(["open", "--key", k, "--layout", "openssl-80", ...extra], ticket);

    const flipped = TLS12_TICKET.slice();
    flipped[175] ^= 1;
    let r = await open(flipped);
    assertError(
      r,
      1,
      "error: the ticket's HMAC does not verify under key 000102030405060708090a0b0c0d0e0f (NO_DECRYPT); check --layout",
    );
    assert.deepEqual(JSON.parse(r.out), {
      status: 4,
      statusName: "NO_DECRYPT",
      keyName: "000102030405060708090a0b0c0d0e0f",
      failure: "badMac",
      session: null,
    });

    const other = TLS12_TICKET.slice();
    other[0] = 0xff;
    r = await open(other);
    assertError(
      r,
      1,
      `error: the ticket's key name ff0102030405060708090a0b0c0d0e0f matches no key in ${k} (NO_DECRYPT); open it with the key file that sealed it\n`,
    );
    assert.equal(JSON.parse(r.out).failure, "unknownKey");

    r = await open(new Uint8Array(0));
    assertError(r, 1, "error: the ticket is empty (EMPTY)");
    assert.deepEqual(JSON.parse(r.out), {
      status: 3,
      statusName: "EMPTY",
      keyName: "",
      failure: null,
      session: null,
    });

    assertError(
      await open(TLS12_TICKET.subarray(0, 20)),
      1,
      "error: the ticket is 20 bytes, too short for any ticket (NO_DECRYPT)",
    );

    // A hex file given without --hex.
    r = await open(TLS12_TICKET.toHex());
    assertError(
      r,
      1,
      "error: the ticket's key name 30303031303230333034303530363037 matches no key",
    );
    assert.ok(r.err.endsWith("(the ticket file looks like hex: pass --hex)\n"));

    // Keys 00..4f in the HAProxy order (name|aes|hmac) are other keys with the same name.
    const haproxy = `${dir}/h`;
    await Deno.writeTextFile(
      haproxy,
      concatBytes([seq(16), seq(32, 0x10), seq(32, 0x30)]).toBase64() + "\n",
    );
    r = await cli(["open", "--key", haproxy, "--layout", "haproxy-80"], TLS12_TICKET);
    assertError(r, 1, "error: the ticket's HMAC does not verify");
  });
});

Deno.test("cli open: bad input files: wrong key length names the layouts, missing files, bad hex", async () => {
  await inTemp(async (dir) => {
    const k80 = `${dir}/k80`, t = `${dir}/t`;
    await Deno.writeFile(k80, KEYS_00_4F);
    await Deno.writeFile(t, TLS12_TICKET);
    const open = (...args: string[]) => cli(["open", ...args]);
    assertError(
      await open("--key", k80, "--layout", "nginx-48", t),
      1,
      `error: nginx-48 keys are 48 bytes, got 80 from ${k80}; did you mean --layout nginx-80?\n`,
    );
    assertError(
      await open("--key", k80, "--layout", "node-48", t),
      1,
      `error: node-48 keys are 48 bytes, got 80 from ${k80}; did you mean --layout openssl-80 or --layout nginx-80?\n`,
    );
    assertError(
      await open("--key", k80, "--layout", "haproxy-80", t),
      1,
      `error: ${k80} is binary (80 bytes), but haproxy-80 key files are base64 text, one key per line; did you mean --layout openssl-80 or --layout nginx-80?\n`,
    );
    const b64 = `${dir}/b64`;
    await Deno.writeTextFile(b64, seq(48).toBase64() + "\n");
    assertError(
      await open("--key", b64, "--layout", "nginx-48", t),
      1,
      `error: nginx-48 keys are 48 bytes, got 65 from ${b64}; it is base64 text of 48-byte keys; did you mean --layout haproxy-48?\n`,
    );
    assertError(
      await open("--key", b64, "--layout", "haproxy-80", t),
      1,
      `error: haproxy-80 lines are base64 of 80 bytes, line 1 of ${b64} decodes to 48; did you mean --layout haproxy-48?\n`,
    );
    assertError(
      await open("--key", `${dir}/missing`, "--layout", "openssl-80", t),
      1,
      `error: cannot read key file ${dir}/missing: no such file; check the path\n`,
    );
    assertError(
      await open("--key", k80, "--layout", "openssl-80", `${dir}/missing`),
      1,
      `error: cannot read ticket ${dir}/missing: no such file; check the path\n`,
    );
    await Deno.writeTextFile(`${dir}/bad.hex`, "0001zz");
    assertError(
      await open("--key", k80, "--layout", "openssl-80", "--hex", `${dir}/bad.hex`),
      1,
      `error: ticket ${dir}/bad.hex is not valid hex (character 5 is not a hex digit)`,
    );
    await Deno.writeTextFile(`${dir}/odd.hex`, "000");
    assertError(
      await open("--key", k80, "--layout", "openssl-80", "--hex", `${dir}/odd.hex`),
      1,
      `error: ticket ${dir}/odd.hex is not valid hex (odd number of digits: 3)`,
    );
    assertError(
      await open("--key", k80, "--layout", "openssl-80", "--hex", t),
      1,
      `error: ticket ${t} is not valid hex`,
    );
    assertError(
      await open("--key", "-", "--layout", "openssl-80"),
      2,
      "error: the key and the ticket cannot both come from standard input",
    );
  });
});

Deno.test("cli open/seal haproxy-*: the last 3 lines, the penultimate seals, others renew (src/ssl_sock.c:ssl_tlsext_ticket_key_cb)", async () => {
  await inTemp(async (dir) => {
    const file = `${dir}/keys`;
    const lines = [1, 2, 3, 4].map((n) =>
      concatBytes([seq(16, n * 16), seq(32, 100 + n), seq(32, 150 + n)])
    );
    await Deno.writeTextFile(file, lines.map((l) => l.toBase64()).join("\n") + "\n");
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    const sealed = await cli(["seal", "--key", file, "--layout", "haproxy-80", `${dir}/s.der`]);
    assert.equal(sealed.code, 0, sealed.err);
    assert.deepEqual(sealed.stdout.subarray(0, 16), seq(16, 3 * 16), "line 3 (penultimate) seals");
    const open = (t: Uint8Array) => cli(["open", "--key", file, "--layout", "haproxy-80"], t);
    assert.equal(JSON.parse((await open(sealed.stdout)).out).statusName, "SUCCESS");
    const keys = await TicketKey.importAll(await Deno.readTextFile(file), "haproxy-80");
    const fromLine4 = await keys[3].seal(decodeSession(TLS12_DER));
    const r4 = await open(fromLine4);
    assert.equal(r4.code, 0);
    assert.equal(JSON.parse(r4.out).status, 6);
    assert.equal(JSON.parse(r4.out).statusName, "SUCCESS_RENEW");
    const r1 = await open(await keys[0].seal(decodeSession(TLS12_DER)));
    assert.equal(r1.code, 1);
    assert.equal(JSON.parse(r1.out).failure, "unknownKey", "line 1 is not among the last 3");
  });
});

// ---------------------------------------------------------------------------------------------
// seal (ssl/statem/statem_srvr.c:construct_stateless_ticket)

Deno.test("cli seal --iv (ssl/statem/statem_srvr.c:construct_stateless_ticket): reproduces libssl's TLS 1.2 ticket byte for byte from DER, PEM and open's JSON", async () => {
  await inTemp(async (dir) => {
    const k = `${dir}/k`;
    await Deno.writeFile(k, KEYS_00_4F);
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    await Deno.writeTextFile(`${dir}/s.pem`, sessionToPem(decodeSession(TLS12_DER)));
    const opened = await cli(
      ["open", "--key", k, "--layout", "openssl-80", "--show-secrets"],
      TLS12_TICKET,
    );
    await Deno.writeTextFile(`${dir}/s.json`, opened.out);
    // Just the session object, as `session --show-secrets` prints it.
    await Deno.writeTextFile(`${dir}/session.json`, JSON.stringify(JSON.parse(opened.out).session));
    for (const f of ["s.der", "s.pem", "s.json", "session.json"]) {
      const r = await cli([
        "seal",
        "--key",
        k,
        "--layout",
        "openssl-80",
        "--iv",
        TLS12_IV_HEX,
        `${dir}/${f}`,
      ]);
      assert.equal(r.code, 0, `${f}: ${r.err}`);
      assert.deepEqual(r.stdout, TLS12_TICKET, f);
    }
    const hex = await cli([
      "seal",
      "--key",
      k,
      "--layout",
      "nginx-80",
      "--iv",
      TLS12_IV_HEX,
      "--hex",
      "-",
    ], TLS12_DER);
    assert.equal(hex.out, TLS12_TICKET.toHex() + "\n");
    await cli([
      "seal",
      "--key",
      k,
      "--layout",
      "openssl-80",
      "--out",
      `${dir}/t.bin`,
      `${dir}/s.der`,
    ]);
    assert.equal((await Deno.readFile(`${dir}/t.bin`)).length, 176);
  });
});

Deno.test("cli seal then open: the session comes back, in every layout", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/s.der`, TLS13_DER);
    for (const layout of LAYOUTS.split(", ")) {
      const key = `${dir}/${layout}.key`;
      assert.equal((await cli(["keygen", "--layout", layout, "--out", key])).code, 0);
      const sealed = await cli(["seal", "--key", key, "--layout", layout, `${dir}/s.der`]);
      assert.equal(sealed.code, 0, sealed.err);
      assert.equal(sealed.stdout.length, layout === "gcm" ? 143 + 44 : 32 + 144 + 32, layout);
      const r = await cli(
        ["open", "--key", key, "--layout", layout, "--show-secrets"],
        sealed.stdout,
      );
      assert.equal(r.code, 0, `${layout}: ${r.err}`);
      const session = await cli(["session", "--show-secrets", `${dir}/s.der`]);
      assert.deepEqual(JSON.parse(r.out).session, JSON.parse(session.out), layout);
    }
  });
});

Deno.test("cli seal errors: redacted JSON, not a session, bad fields, IV length, binary to a terminal", async () => {
  await inTemp(async (dir) => {
    const k = `${dir}/k`;
    await Deno.writeFile(k, KEYS_00_4F);
    const seal = (file: string, ...extra: string[]) =>
      cli(["seal", "--key", k, "--layout", "openssl-80", ...extra, file]);
    const redacted = await cli(["open", "--key", k, "--layout", "openssl-80"], TLS12_TICKET);
    await Deno.writeTextFile(`${dir}/r.json`, redacted.out);
    assertError(
      await seal(`${dir}/r.json`),
      1,
      `error: ${dir}/r.json: the master key is "[redacted]"; make the JSON with --show-secrets`,
    );
    await Deno.writeTextFile(`${dir}/x.txt`, "hello");
    assertError(
      await seal(`${dir}/x.txt`),
      1,
      `error: ${dir}/x.txt is not a session: expected DER (first byte 0x30), PEM`,
    );
    await Deno.writeTextFile(`${dir}/f.json`, '{"cipherId": "c030"}');
    assertError(
      await seal(`${dir}/f.json`),
      1,
      `error: ${dir}/f.json: session field "cipherId" must be an integer, got "c030"`,
    );
    await Deno.writeTextFile(`${dir}/u.json`, '{"cipher": 1}');
    assertError(
      await seal(`${dir}/u.json`),
      1,
      `error: ${dir}/u.json: unknown session field "cipher"; the fields are sslVersion, cipherId,`,
    );
    await Deno.writeTextFile(`${dir}/big.json`, `{"sessionId": "${"00".repeat(33)}"}`);
    assertError(
      await seal(`${dir}/big.json`),
      1,
      `error: the session in ${dir}/big.json cannot be encoded: cannot encode sessionId: 33 bytes, OpenSSL allows at most 32`,
    );
    await Deno.writeTextFile(`${dir}/bad.json`, "{nope");
    assertError(
      await seal(`${dir}/bad.json`),
      1,
      `error: ${dir}/bad.json is not valid JSON (line 1, column 2); fix it or give DER or PEM\n`,
    );
    await Deno.writeFile(`${dir}/trail.der`, concatBytes([TLS12_DER, new Uint8Array([0])]));
    assertError(
      await seal(`${dir}/trail.der`),
      1,
      `error: ${dir}/trail.der is not an SSL_SESSION libssl accepts: trailing bytes after the SSL_SESSION`,
    );
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    assertError(
      await seal(`${dir}/s.der`, "--iv", "00"),
      2,
      "error: --iv is 1 byte, but openssl-80 tickets take a 16-byte IV",
    );
    assertError(
      await cli(["seal", "--key", k, "--layout", "openssl-80", `${dir}/s.der`], "", true),
      1,
      "error: refusing to write a binary ticket to the terminal",
    );
    assertError(
      await cli(["seal", "--key", k, "--layout", "openssl-80"]),
      2,
      "error: seal takes one SESSION file (DER, PEM or JSON; - for standard input), got 0",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// session (ssl/ssl_asn1.c:d2i_SSL_SESSION / i2d_SSL_SESSION)

Deno.test("cli session (ssl/ssl_asn1.c:d2i_SSL_SESSION, i2d_SSL_SESSION): DER, PEM and JSON in; JSON (redacted), PEM and DER out", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    const r = await cli(["session", `${dir}/s.der`]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), TLS12_SESSION_JSON);
    assert.equal(r.out, JSON.stringify(TLS12_SESSION_JSON, null, 2) + "\n");
    const pem = await cli(["session", "--format", "pem", `${dir}/s.der`]);
    assert.equal(pem.out, sessionToPem(decodeSession(TLS12_DER)));
    assert.equal((await cli(["session", "-"], pem.out)).out, r.out, "PEM in");
    const der = await cli(["session", "--format", "der", "-"], pem.out);
    assert.deepEqual(der.stdout, TLS12_DER);
    const secrets = await cli(["session", "--show-secrets", "-"], TLS12_DER);
    assert.equal(JSON.parse(secrets.out).masterKey, TLS12_MASTER_KEY_HEX);
    // The JSON with secrets goes back to the same DER; cipherName may stand in for cipherId.
    assert.deepEqual(
      (await cli(["session", "--format", "der", "-"], secrets.out)).stdout,
      TLS12_DER,
    );
    const j = JSON.parse(secrets.out);
    delete j.cipherId;
    assert.deepEqual(
      (await cli(["session", "--format", "der", "-"], JSON.stringify(j))).stdout,
      TLS12_DER,
    );
    j.cipherId = 0x1302;
    assertError(
      await cli(["session", "-"], JSON.stringify(j)),
      1,
      'error: standard input: cipherName "ECDHE-RSA-AES256-GCM-SHA384" is cipher 0xc030 but cipherId is 0x1302',
    );
    assertError(
      await cli(["session", "--format", "der", "-"], TLS12_DER, true),
      1,
      "error: refusing to write a binary DER session to the terminal",
    );
    assertError(
      await cli(["session", "--format", "xml", "-"]),
      2,
      'error: unknown --format "xml"; formats: json, pem, der',
    );
    assertError(
      await cli(["session", "-"], new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x02])),
      1,
      "error: standard input is not an SSL_SESSION libssl accepts: version is 2; only 1 is known",
    );
    assertError(
      await cli(["session", "-"]),
      1,
      "error: standard input is empty; give a session in DER, PEM or JSON",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// client-session (ssl/statem/statem_clnt.c:tls_process_new_session_ticket, tls_process_server_hello)

Deno.test("cli client-session (ssl/statem/statem_clnt.c:tls_process_new_session_ticket): the ticket, its hint, SHA-256(ticket) as id, no sid_ctx", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/t`, TLS12_TICKET);
    await Deno.writeFile(`${dir}/k`, KEYS_00_4F);
    const server = decodeSession(TLS12_DER);
    server.sessionIdContext = new Uint8Array([1, 0, 0, 0]); // as openssl s_server sets it
    await Deno.writeTextFile(`${dir}/s.pem`, sessionToPem(server));
    const r = await cli(["client-session", "--ticket", `${dir}/t`, "--session", `${dir}/s.pem`]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.ok(r.out.startsWith("-----BEGIN SSL SESSION PARAMETERS-----\n"));
    const c = sessionFromPem(r.out);
    assert.deepEqual(c.ticket, TLS12_TICKET);
    assert.equal(c.ticketLifetimeHint, 7200, "the session timeout");
    assert.deepEqual(
      c.sessionId,
      new Uint8Array(await crypto.subtle.digest("SHA-256", TLS12_TICKET.slice())),
    );
    assert.deepEqual(c.sessionIdContext, new Uint8Array(0));
    assert.deepEqual(c.masterKey, server.masterKey);
    assert.equal(c.cipherId, 0xc030);
    assert.equal(c.sslVersion, 0x0303);
    assert.equal(c.time, server.time);
    assert.equal(c.getTicketAppData(), null, "app data stays inside the ticket");
    // Opening the ticket with the key gives the same session as --session.
    const byKey = await cli([
      "client-session",
      "--ticket",
      `${dir}/t`,
      "--key",
      `${dir}/k`,
      "--layout",
      "openssl-80",
    ]);
    assert.equal(byKey.code, 0, byKey.err);
    assert.equal(byKey.out, r.out);
    // --lifetime, --sid-ctx, --hex ticket, --out.
    await Deno.writeTextFile(`${dir}/t.hex`, TLS12_TICKET.toHex());
    const o = await cli([
      "client-session",
      "--ticket",
      `${dir}/t.hex`,
      "--hex",
      "--session",
      `${dir}/s.pem`,
      "--lifetime",
      "100",
      "--sid-ctx",
      "01000000",
      "--out",
      `${dir}/c.pem`,
    ]);
    assert.equal(o.code, 0, o.err);
    const c2 = sessionFromPem(await Deno.readTextFile(`${dir}/c.pem`));
    assert.equal(c2.ticketLifetimeHint, 100);
    assert.deepEqual(c2.sessionIdContext, new Uint8Array([1, 0, 0, 0]));
    assert.deepEqual(c2.ticket, TLS12_TICKET);
  });
});

Deno.test("cli client-session errors and the TLS 1.3 age warning", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/t`, TLS13_TICKET);
    await Deno.writeFile(`${dir}/k`, KEYS_00_4F);
    await Deno.writeFile(`${dir}/s.der`, TLS13_DER);
    const r = await cli(["client-session", "--ticket", `${dir}/t`, "--session", `${dir}/s.der`]);
    assert.equal(r.code, 0);
    const age = Math.floor(Date.now() / 1000) - decodeSession(TLS13_DER).time;
    if (age > 7201 || age < 0) {
      assert.ok(r.err.startsWith("warning: the session's time is "), r.err);
      assert.ok(
        r.err.endsWith(
          "OpenSSL's TLS 1.3 client will not offer this ticket (pass --lifetime SECONDS, or seal a session with a current time)\n",
        ),
      );
    }
    assert.equal(sessionFromPem(r.out).ticketAgeAdd, 0x6cc2081e);
    // ssl/statem/extensions_clnt.c:tls_construct_ctos_psk skips a ticket older than its hint.
    const secrets = await cli(["session", "--show-secrets", `${dir}/s.der`]);
    for (const [time, words] of [[1000, "s ago"], [4102444800, "s in the future"]] as const) {
      await Deno.writeTextFile(
        `${dir}/old.json`,
        JSON.stringify({ ...JSON.parse(secrets.out), time }),
      );
      const old = await cli([
        "client-session",
        "--ticket",
        `${dir}/t`,
        "--session",
        `${dir}/old.json`,
      ]);
      assert.equal(old.code, 0);
      assert.match(
        old.err,
        new RegExp(
          `^warning: the session's time is \\d+ ${words} and the ticket lifetime hint is 7200 s; OpenSSL's TLS 1.3 client will not offer this ticket \\(pass --lifetime SECONDS, or seal a session with a current time\\)\n$`,
        ),
      );
      assert.equal(sessionFromPem(old.out).time, time);
    }
    assertError(
      await cli(["client-session", "--ticket", `${dir}/t`]),
      2,
      "error: client-session needs --session S (the session sealed in the ticket) or --key FILE --layout L",
    );
    assertError(
      await cli(["client-session", "--session", `${dir}/s.der`]),
      2,
      "error: client-session needs --ticket FILE",
    );
    assertError(
      await cli([
        "client-session",
        "--ticket",
        `${dir}/t`,
        "--session",
        `${dir}/s.der`,
        "--key",
        `${dir}/k`,
      ]),
      2,
      "error: give either --session S or --key FILE --layout L, not both",
    );
    assertError(
      await cli([
        "client-session",
        "--ticket",
        `${dir}/t`,
        "--session",
        `${dir}/s.der`,
        "--lifetime",
        "-1",
      ]),
      2,
      'error: --lifetime must be a whole number of seconds from 0 to 4294967295, got "-1"',
    );
    const bad = TLS13_TICKET.slice();
    bad[100] ^= 1;
    assertError(
      await cli(
        ["client-session", "--ticket", "-", "--key", `${dir}/k`, "--layout", "openssl-80"],
        bad,
      ),
      1,
      "error: the ticket's HMAC does not verify under key 000102030405060708090a0b0c0d0e0f (NO_DECRYPT)",
    );
    assertError(
      await cli(["client-session", "--ticket", "-", "--session", `${dir}/s.der`]),
      1,
      "error: the ticket is 0 bytes; a ticket is 1 to 65535 bytes",
    );
  });
});

const openssl = await findOpenssl();

Deno.test({
  name:
    "cli client-session: openssl sess_id parses it and prints the ticket and its lifetime hint (ssl/ssl_txt.c:SSL_SESSION_print)",
  ignore: openssl.bin === null,
  async fn() {
    await inTemp(async (dir) => {
      await Deno.writeFile(`${dir}/t`, TLS12_TICKET);
      await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
      const r = await cli([
        "client-session",
        "--ticket",
        `${dir}/t`,
        "--session",
        `${dir}/s.der`,
        "--out",
        `${dir}/c.pem`,
      ]);
      assert.equal(r.code, 0, r.err);
      const text = await runOpenssl(openssl.bin!, [
        "sess_id",
        "-in",
        `${dir}/c.pem`,
        "-noout",
        "-text",
      ]);
      const parsed = parseSessionText(text.stdout);
      assert.equal(parsed.fields.get("Protocol"), "TLSv1.2");
      assert.equal(parsed.fields.get("Cipher"), "ECDHE-RSA-AES256-GCM-SHA384");
      assert.equal(parsed.fields.get("TLS session ticket lifetime hint"), "7200 (seconds)");
      assert.deepEqual(parsed.ticket, TLS12_TICKET);
      const id = new Uint8Array(await crypto.subtle.digest("SHA-256", TLS12_TICKET.slice()));
      assert.equal(parsed.fields.get("Session-ID"), id.toHex().toUpperCase());
      assert.equal(parsed.fields.get("Master-Key"), TLS12_MASTER_KEY_HEX.toUpperCase());
      // And OpenSSL writes back exactly the DER we wrote.
      const der = await runOpenssl(openssl.bin!, [
        "sess_id",
        "-in",
        `${dir}/c.pem`,
        "-outform",
        "DER",
      ]);
      const pem = await Deno.readTextFile(`${dir}/c.pem`);
      const body = pem.split("\n").filter((l) => l !== "" && !l.startsWith("-----")).join("");
      assert.deepEqual(der.stdoutBytes, Uint8Array.fromBase64(body));
    });
  },
});
if (openssl.bin === null) {
  console.warn(`cli_test: skipping the openssl sess_id test: ${openssl.reason}`);
}

// ---------------------------------------------------------------------------------------------
// demo

const DEMO = `session-tickets demo

Part A: loopback handshakes through SslContext and ServerConnection

TLS 1.2 (ECDHE-RSA-AES256-GCM-SHA384), ticket keys 00..4f set on the SslContext
  1. Fresh connection: the client sends an empty session_ticket extension.
     dec_cb: status EMPTY (3), keyname_len 0, app data none -> returns IGNORE_RENEW (2)
     -> full handshake
     gen_cb: sets ticket app data "user=42" on the session being sealed
     NewSessionTicket: 176-byte ticket, key name 00010203..., lifetime hint 7200 s
  2. The client comes back with that ticket. dec_cb's every return value, in turn:
     dec_cb: status SUCCESS (5), keyname_len 16, app data "user=42" -> returns USE (3)
     -> resumed
     no NewSessionTicket sent
   dec_cb forced to ABORT:
     dec_cb: status SUCCESS (5), keyname_len 16, app data "user=42" -> returns ABORT (0)
     -> fatal alert 80 (internal_error): handshake fails
   dec_cb forced to IGNORE:
     dec_cb: status SUCCESS (5), keyname_len 16, app data "user=42" -> returns IGNORE (1)
     -> full handshake
     no NewSessionTicket sent
   dec_cb forced to IGNORE_RENEW:
     dec_cb: status SUCCESS (5), keyname_len 16, app data "user=42" -> returns IGNORE_RENEW (2)
     -> full handshake
     gen_cb: sets ticket app data "user=42" on the session being sealed
     NewSessionTicket: 176-byte ticket, key name 00010203..., lifetime hint 7200 s
   dec_cb forced to USE:
     dec_cb: status SUCCESS (5), keyname_len 16, app data "user=42" -> returns USE (3)
     -> resumed
     no NewSessionTicket sent
   dec_cb forced to USE_RENEW:
     dec_cb: status SUCCESS (5), keyname_len 16, app data "user=42" -> returns USE_RENEW (4)
     -> resumed
     gen_cb: sets ticket app data "user=42" on the session being sealed
     NewSessionTicket: 208-byte ticket, key name 00010203..., lifetime hint 0 s

TLS 1.3 (TLS_AES_256_GCM_SHA384), the same context
  1. Fresh connection: no pre_shared_key, so no dec_cb; two tickets (num_tickets 2).
     -> full handshake
     gen_cb: sets ticket app data "user=42" on the session being sealed
     gen_cb: sets ticket app data "user=42" on the session being sealed
     NewSessionTicket: 208-byte ticket, key name 00010203..., lifetime hint 7200 s, nonce 0000000000000000
     NewSessionTicket: 208-byte ticket, key name 00010203..., lifetime hint 7200 s, nonce 0000000000000001
  2. The client offers the first ticket as its PSK identity. dec_cb's every return value:
     dec_cb: status SUCCESS_RENEW (6), keyname_len 16, app data "user=42" -> returns USE_RENEW (4)
     -> resumed
     gen_cb: sets ticket app data "user=42" on the session being sealed
     NewSessionTicket: 208-byte ticket, key name 00010203..., lifetime hint 7200 s, nonce 0000000000000000
   dec_cb forced to ABORT:
     dec_cb: status SUCCESS_RENEW (6), keyname_len 16, app data "user=42" -> returns ABORT (0)
     -> fatal alert 80 (internal_error): handshake fails
   dec_cb forced to IGNORE:
     dec_cb: status SUCCESS_RENEW (6), keyname_len 16, app data "user=42" -> returns IGNORE (1)
     -> full handshake
     no NewSessionTicket sent
   dec_cb forced to IGNORE_RENEW:
     dec_cb: status SUCCESS_RENEW (6), keyname_len 16, app data "user=42" -> returns IGNORE_RENEW (2)
     -> full handshake
     gen_cb: sets ticket app data "user=42" on the session being sealed
     gen_cb: sets ticket app data "user=42" on the session being sealed
     NewSessionTicket: 208-byte ticket, key name 00010203..., lifetime hint 7200 s, nonce 0000000000000000
     NewSessionTicket: 208-byte ticket, key name 00010203..., lifetime hint 7200 s, nonce 0000000000000001
   dec_cb forced to USE:
     dec_cb: status SUCCESS_RENEW (6), keyname_len 16, app data "user=42" -> returns USE (3)
     -> resumed
     no NewSessionTicket sent
   dec_cb forced to USE_RENEW:
     dec_cb: status SUCCESS_RENEW (6), keyname_len 16, app data "user=42" -> returns USE_RENEW (4)
     -> resumed
     gen_cb: sets ticket app data "user=42" on the session being sealed
     NewSessionTicket: 208-byte ticket, key name 00010203..., lifetime hint 7200 s, nonce 0000000000000000

Part B: ticket formats and key layouts

1. Tickets libssl 3.0 sealed under the 80 key bytes 00..4f (layout openssl-80):
   TLS 1.2 ticket, 176 bytes -> SUCCESS: TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384, 48-byte master key, app data "HelloWorld"
   TLS 1.3 ticket, 208 bytes -> SUCCESS: TLSv1.3 TLS_AES_256_GCM_SHA384, 48-byte resumption PSK, app data "HelloWorld"

2. The TLS 1.2 session (107 bytes of DER) sealed and opened under a fresh key in each layout:
   gcm         48-byte key          name16|aes32         151-byte ticket -> SUCCESS, same session
   openssl-80  80-byte key          name16|hmac32|aes32  176-byte ticket -> SUCCESS, same session
   openssl-48  48-byte key          name16|hmac16|aes16  176-byte ticket -> SUCCESS, same session
   node-48     48-byte key          name16|hmac16|aes16  176-byte ticket -> SUCCESS, same session
   nginx-48    48-byte key          name16|aes16|hmac16  176-byte ticket -> SUCCESS, same session
   nginx-80    80-byte key          name16|hmac32|aes32  176-byte ticket -> SUCCESS, same session
   haproxy-48  3 lines of 48 bytes  name16|aes16|hmac16  176-byte ticket (line 2 seals) -> SUCCESS, same session
   haproxy-80  3 lines of 80 bytes  name16|aes32|hmac32  176-byte ticket (line 2 seals) -> SUCCESS, same session

3. Layouts put the same 48 bytes in different places (nginx: name|aes|hmac, Node: name|hmac|aes):
   a ticket sealed with an nginx-48 file, opened with that file read as node-48 -> NO_DECRYPT (badMac)
   the same ticket, opened with the file after convert --from nginx-48 --to node-48 -> SUCCESS

4. Tickets that do not open:
   one flipped bit in the 176-byte ticket -> NO_DECRYPT (badMac)
   the ticket opened with another key -> NO_DECRYPT (unknownKey)
   an empty ticket -> EMPTY

Part C: a real socket: this module's TLS 1.3 server (listenTls) and Deno's own TLS clients

A fresh ECDSA P-256 key and a self-signed certificate for localhost and 127.0.0.1, made
with Web Crypto and the DER writer; listenTls on 127.0.0.1 (an ephemeral port) with a
random ticket key, a gen_cb that sets app data "session N" when a session begins, and a
dec_cb that uses every ticket that opens.
  1. Deno.connectTls (caCerts: the certificate), first connection:
     server: full handshake, TLS_AES_256_GCM_SHA384, x25519, CertificateVerify ecdsa_secp256r1_sha256, ALPN none
     dec_cb: not called (the client offered no ticket)
     gen_cb: 2 calls; 2 NewSessionTickets sent; the session's app data "session 1"
  2. Deno.connectTls again:
     server: full handshake, TLS_AES_256_GCM_SHA384, x25519, CertificateVerify ecdsa_secp256r1_sha256, ALPN none
     dec_cb: not called (the client offered no ticket)
     gen_cb: 2 calls; 2 NewSessionTickets sent; the session's app data "session 2"
     -> no ticket offered: Deno.connectTls keeps none of the 2 tickets it received, so every connection is a full handshake
  3. fetch through one Deno.createHttpClient (caCerts, poolMaxIdlePerHost 0: a new
     connection per request), first request:
     server: full handshake, TLS_AES_256_GCM_SHA384, x25519, CertificateVerify ecdsa_secp256r1_sha256, ALPN http/1.1
     dec_cb: not called (the client offered no ticket)
     gen_cb: 2 calls; 2 NewSessionTickets sent; the session's app data "session 3"
  4. the same client, second request:
     server: resumed (PSK identity 0), TLS_AES_256_GCM_SHA384, x25519, ALPN http/1.1
     dec_cb: status SUCCESS_RENEW (6), keyname_len 16 -> returns USE_RENEW (4)
     gen_cb: 1 call; 1 NewSessionTicket sent; the session's app data "session 3"
     -> resumed: fetch's HttpClient keeps the tickets it receives and offers one next time

Next: "keygen --layout nginx-80 --out ticket.key", then "seal" and "open"; "--help" lists all.
`;

Deno.test("cli demo: narrated handshakes (gen_cb, dec_cb and each return), formats, and real-socket handshakes with Deno's clients, the same text on every run", async () => {
  const r = await cli(["demo"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, "");
  assert.equal(r.out, DEMO);
});

// ---------------------------------------------------------------------------------------------
// as a real process

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function spawn(args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-write", CLI, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, err: dec(out.stderr) };
}

Deno.test("cli as a process: open reads the ticket from a pipe and prints the JSON", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/k`, KEYS_00_4F);
    const r = await spawn(
      ["open", "--key", `${dir}/k`, "--layout", "openssl-80", "-"],
      TLS12_TICKET,
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.equal(JSON.parse(dec(r.stdout)).session.cipherName, "ECDHE-RSA-AES256-GCM-SHA384");
  });
});

Deno.test("cli as a process: convert through pipes, and errors are one line with exit 1 or 2", async () => {
  const r = await spawn(["convert", "--from", "nginx-48", "--to", "node-48"], seq(48));
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.stdout, concatBytes([seq(16), seq(16, 0x20), seq(16, 0x10)]));
  const usage = await spawn(["open", "--layout", "nginx-49"]);
  assert.equal(usage.code, 2);
  assert.equal(usage.err, UNKNOWN_LAYOUT);
  const fail = await spawn(
    ["open", "--key", "/nonexistent/k", "--layout", "nginx-48", "-"],
    TLS12_TICKET,
  );
  assert.equal(fail.code, 1);
  assert.equal(
    fail.err,
    "error: cannot read key file /nonexistent/k: no such file; check the path\n",
  );
  assert.equal(fail.stdout.length, 0);
});

// ---------------------------------------------------------------------------------------------
// issue 11: safe by default, and the README's commands as written

const KEY_MODE = 0o600;

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test("issue 11, seal --out k.key where k.key is a key file: refused without --force, the 0600 key file kept", async () => {
  await inTemp(async (dir) => {
    const k = `${dir}/k.key`;
    const other = `${dir}/other.key`;
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    assert.equal((await cli(["keygen", "--layout", "openssl-80", "--out", k])).code, 0);
    assert.equal((await cli(["keygen", "--layout", "openssl-80", "--out", other])).code, 0);
    const key = await Deno.readFile(other);
    const seal = ["seal", "--key", k, "--layout", "openssl-80", `${dir}/s.der`];
    const r = await cli([...seal, "--out", other]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `error: ${other} already exists; pass --force to overwrite it\n`);
    assert.deepEqual(await Deno.readFile(other), key);
    if (Deno.build.os !== "windows") assert.equal(await mode(other), KEY_MODE);
    // With --force it is replaced (by a ticket of 176 bytes sealed under k.key).
    const forced = await cli([...seal, "--out", other, "--force"]);
    assert.equal(forced.code, 0, forced.err);
    const ticket = await Deno.readFile(other);
    assert.equal(ticket.length, 176);
    assert.deepEqual(ticket.subarray(0, 16), (await Deno.readFile(k)).subarray(0, 16));
    // A new file needs no --force.
    assert.equal((await cli([...seal, "--out", `${dir}/new.bin`])).code, 0);
  });
});

Deno.test("issue 11, client-session --out k.key and session --format pem --out s.json s.json: refused without --force; an input is never its own output, even with --force", async () => {
  await inTemp(async (dir) => {
    const k = `${dir}/k.key`;
    await Deno.writeFile(k, KEYS_00_4F, { mode: 0o600 });
    await Deno.writeFile(`${dir}/t.bin`, TLS12_TICKET);
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    const other = `${dir}/other.key`;
    await Deno.writeFile(other, KEYS_00_4F.toReversed(), { mode: 0o600 });
    const byKey = [
      "client-session",
      "--ticket",
      `${dir}/t.bin`,
      "--key",
      k,
      "--layout",
      "openssl-80",
    ];
    // Another existing file: refused, then replaced with --force.
    assertError(
      await cli([...byKey, "--out", other]),
      1,
      `error: ${other} already exists; pass --force to overwrite it\n`,
    );
    assert.deepEqual(await Deno.readFile(other), KEYS_00_4F.toReversed());
    const forced = await cli([...byKey, "--out", other, "--force"]);
    assert.equal(forced.code, 0, forced.err);
    assert.deepEqual(sessionFromPem(await Deno.readTextFile(other)).ticket, TLS12_TICKET);
    // Its own inputs: refused even with --force, naming both; nothing is written.
    for (
      const [out, role, input] of [[k, "key file", k], [`${dir}/t.bin`, "ticket", `${dir}/t.bin`]]
    ) {
      assertError(
        await cli([...byKey, "--out", out, "--force"]),
        2,
        `error: --out ${out} is the ${role} ${input}: an input is never its own output; write to another file\n`,
      );
    }
    assert.deepEqual(await Deno.readFile(k), KEYS_00_4F);
    assert.deepEqual(await Deno.readFile(`${dir}/t.bin`), TLS12_TICKET);
    const bySession = ["client-session", "--ticket", `${dir}/t.bin`, "--session", `${dir}/s.der`];
    assertError(
      await cli([...bySession, "--out", `${dir}/s.der`, "--force"]),
      2,
      `error: --out ${dir}/s.der is the session ${dir}/s.der: an input is never its own output`,
    );
    // session --format pem --out s.json s.json, with and without --force, and by another name.
    const json = (await cli(["session", "--show-secrets", `${dir}/s.der`])).out;
    const s = `${dir}/s.json`;
    await Deno.writeTextFile(s, json);
    for (const extra of [[], ["--force"]]) {
      assertError(
        await cli(["session", "--format", "pem", "--out", s, ...extra, s]),
        2,
        `error: --out ${s} is the session ${s}: an input is never its own output; write to another file\n`,
      );
    }
    assertError(
      await cli(["session", "--format", "pem", "--out", `${dir}/./s.json`, "--force", s]),
      2,
      `error: --out ${dir}/./s.json is the session ${s}: an input is never its own output`,
    );
    if (Deno.build.os !== "windows") {
      await Deno.symlink(s, `${dir}/link.json`);
      assertError(
        await cli(["session", "--format", "pem", "--out", `${dir}/link.json`, "--force", s]),
        2,
        `error: --out ${dir}/link.json is the session ${s}: an input is never its own output`,
      );
    }
    assert.equal(await Deno.readTextFile(s), json);
    // And the same for seal (its key and session) and convert (its --in files).
    assertError(
      await cli(["seal", "--key", k, "--layout", "openssl-80", "--out", k, "--force", s]),
      2,
      `error: --out ${k} is the key file ${k}: an input is never its own output`,
    );
    assertError(
      await cli(["seal", "--key", k, "--layout", "openssl-80", "--out", s, "--force", s]),
      2,
      `error: --out ${s} is the session ${s}: an input is never its own output`,
    );
    assertError(
      await cli([
        "convert",
        "--from",
        "openssl-80",
        "--to",
        "nginx-80",
        "--in",
        k,
        "--out",
        k,
        "--force",
      ]),
      2,
      `error: --out ${k} is the --in key file ${k}: an input is never its own output`,
    );
    assert.deepEqual(await Deno.readFile(k), KEYS_00_4F);
    // Writing PEM to a new file still works.
    const pem = await cli(["session", "--format", "pem", "--out", `${dir}/s.pem`, s]);
    assert.equal(pem.code, 0, pem.err);
    assert.deepEqual(
      sessionFromPem(await Deno.readTextFile(`${dir}/s.pem`)).masterKey.toHex(),
      TLS12_MASTER_KEY_HEX,
    );
  });
});

Deno.test("issue 11, session --format pem and keygen --layout haproxy-80 with a terminal on stdout: secrets only with --show-secrets; pipes and files as before", async () => {
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    await Deno.writeFile(`${dir}/k`, KEYS_00_4F);
    await Deno.writeFile(`${dir}/t`, TLS12_TICKET);
    const refused = (what: string) =>
      `error: refusing to print the ${what} to the terminal: it holds secret key material; pass --out FILE, redirect with > FILE, or pass --show-secrets to print it\n`;
    const secrets: [string[], string][] = [
      [["session", "--format", "pem", `${dir}/s.der`], "PEM session"],
      [["keygen", "--layout", "haproxy-80"], "haproxy-80 key"],
      [["keygen", "--layout", "nginx-80", "--hex"], "nginx-80 key"],
      [
        ["convert", "--from", "openssl-80", "--to", "haproxy-80", "--in", `${dir}/k`],
        "haproxy-80 key",
      ],
      [
        ["client-session", "--ticket", `${dir}/t`, "--session", `${dir}/s.der`],
        "client session",
      ],
    ];
    for (const [args, what] of secrets) {
      const r = await cli(args, "", true);
      assertError(r, 1, refused(what));
      assert.equal(r.stdout.length, 0, "nothing printed");
      // With --show-secrets the terminal gets it; a pipe always does.
      const shown = await cli([...args, "--show-secrets"], "", true);
      assert.equal(shown.code, 0, shown.err);
      assert.ok(shown.stdout.length > 0);
      const piped = await cli(args, "", false);
      assert.equal(piped.code, 0, piped.err);
      assert.ok(piped.stdout.length > 0);
    }
    const pem = await cli(
      ["session", "--format", "pem", "--show-secrets", `${dir}/s.der`],
      "",
      true,
    );
    assert.equal(pem.out, sessionToPem(decodeSession(TLS12_DER)));
    // Output that holds no secret goes to a terminal as before: redacted JSON, a hex ticket.
    const json = await cli(["session", `${dir}/s.der`], "", true);
    assert.equal(json.code, 0, json.err);
    assert.equal(JSON.parse(json.out).masterKey, "[redacted]");
    const sealed = await cli(
      ["seal", "--key", `${dir}/k`, "--layout", "openssl-80", "--hex", `${dir}/s.der`],
      "",
      true,
    );
    assert.equal(sealed.code, 0, sealed.err);
    // A key file written with --out needs no --show-secrets, whatever stdout is.
    const f = await cli(["keygen", "--layout", "haproxy-80", "--out", `${dir}/h.keys`], "", true);
    assert.equal(f.code, 0, f.err);
  });
});

Deno.test({
  name:
    "issue 11, keygen --layout haproxy-80 on a real terminal (script(1) gives it a pty): refused, and printed with --show-secrets",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const script = await new Deno.Command("script", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output().then((o) => o.success, () => false);
    if (!script) {
      console.warn("cli_test: skipping the pty test: script(1) (util-linux) is not installed");
      return;
    }
    const run = async (extra: string) => {
      const cmd =
        `'${Deno.execPath()}' run --quiet --allow-read --allow-write '${CLI}' keygen --layout haproxy-80 --count 1 ${extra}`;
      const out = await new Deno.Command("script", {
        args: ["-qec", cmd, "/dev/null"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, text: dec(out.stdout).replaceAll("\r\n", "\n") };
    };
    const refused = await run("");
    assert.equal(refused.code, 1);
    assert.equal(
      refused.text,
      "error: refusing to print the haproxy-80 key to the terminal: it holds secret key material; pass --out FILE, redirect with > FILE, or pass --show-secrets to print it\n",
    );
    const shown = await run("--show-secrets");
    assert.equal(shown.code, 0);
    assert.match(
      shown.text,
      /^[A-Za-z0-9+/]{106}[AEIMQUYcgkosw048]=\n$/,
      "one base64 line of 80 bytes",
    );
  },
});

Deno.test("issue 11, a JSON session with a syntax error: the error says where, never quotes the input", async () => {
  await inTemp(async (dir) => {
    const secret = "a4c92ed82b39f1e07c15d6e8a3b4c5d6";
    const q = `${dir}/q.json`;
    await Deno.writeTextFile(q, `{"sslVersion": 771, "masterKey":'${secret}'}`);
    const r = await cli(["session", q]);
    assertError(
      r,
      1,
      `error: ${q} is not valid JSON (line 1, column 33); fix it or give DER or PEM\n`,
    );
    const lines = `{\n  "sslVersion": 771,\n  "masterKey": "${secret}"\n  "cipherId": 49200\n}\n`;
    await Deno.writeTextFile(q, lines);
    for (const args of [["session", q], ["seal", "--key", "-", "--layout", "gcm", q]]) {
      const e = await cli(args, new Uint8Array(48));
      assertError(
        e,
        1,
        `error: ${q} is not valid JSON (line 4, column 3); fix it or give DER or PEM\n`,
      );
      assert.ok(!e.err.includes(secret.slice(0, 6)) && !e.err.includes("cipherId"));
    }
    // Truncated input: the position is its end.
    await Deno.writeTextFile(q, `{"masterKey": "${secret}`);
    assertError(
      await cli(["session", q]),
      1,
      `error: ${q} is not valid JSON (line 1, column ${15 + secret.length + 1}); fix it`,
    );
    // A master key of the wrong type is not quoted either.
    await Deno.writeTextFile(q, `{"masterKey": 123456789}`);
    assertError(
      await cli(["session", q]),
      1,
      `error: ${q}: session field "masterKey" must be a hex string, got a number; write it`,
    );
  });
});

Deno.test("issue 11, fleet status --store kv:<typo>: the read-only commands refuse a store that does not exist, and create none", async () => {
  await inTemp(async (dir) => {
    const kek = `${dir}/kek`;
    await Deno.writeTextFile(kek, new Uint8Array(32).fill(7).toBase64() + "\n");
    const typo = `${dir}/kyes.kv`;
    for (const sub of ["status", "metrics"]) {
      assertError(
        await cli(["fleet", sub, "--store", `kv:${typo}`, "--kek-file", kek]),
        1,
        `error: there is no Deno KV store at ${typo}, and this command never creates one; check --store (fleet rotate founds a fleet)\n`,
      );
    }
    assertError(
      await cli([
        "fleet",
        "export",
        "--store",
        `kv:${typo}`,
        "--kek-file",
        kek,
        "--layout",
        "nginx-80",
        "--out",
        `${dir}/t.key`,
      ]),
      1,
      `error: there is no Deno KV store at ${typo}, and this command never creates one`,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["kek"], "no file made");
    assertError(
      await cli(["fleet", "status", "--store", `kv:${dir}`, "--kek-file", kek]),
      1,
      `error: ${dir} is not a Deno KV file (it is a directory); check --store\n`,
    );
  });
});

Deno.test("issue 11, keygen --out <dir>: one clear message, with or without --force", async () => {
  await inTemp(async (dir) => {
    for (const force of [[], ["--force"]]) {
      assertError(
        await cli(["keygen", "--layout", "nginx-80", "--out", dir, ...force]),
        1,
        `error: ${dir} is a directory; give --out a file name\n`,
      );
    }
    await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
    assertError(
      await cli(["session", "--format", "pem", "--out", dir, `${dir}/s.der`]),
      1,
      `error: ${dir} is a directory; give --out a file name\n`,
    );
  });
});

Deno.test("issue 11, open --hex with the ticket's hex on the command line (the README's example); a file of that name still wins", async () => {
  await inTemp(async (dir) => {
    const k = `${dir}/k`;
    await Deno.writeFile(k, KEYS_00_4F);
    const r = await cli([
      "open",
      "--key",
      k,
      "--layout",
      "openssl-80",
      "--hex",
      TLS12_TICKET.toHex(),
    ]);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).statusName, "SUCCESS");
    assert.equal(JSON.parse(r.out).session.cipherName, "ECDHE-RSA-AES256-GCM-SHA384");
    // client-session --ticket takes it too.
    const c = await cli([
      "client-session",
      "--ticket",
      TLS12_TICKET.toHex().toUpperCase(),
      "--hex",
      "--key",
      k,
      "--layout",
      "openssl-80",
    ]);
    assert.equal(c.code, 0, c.err);
    assert.deepEqual(sessionFromPem(c.out).ticket, TLS12_TICKET);
    // Without --hex the argument is a file name, as before.
    assertError(
      await cli(["open", "--key", k, "--layout", "openssl-80", "00ff"]),
      1,
      "error: cannot read ticket 00ff: no such file; check the path",
    );
    // A short hex argument is a ticket too short to open.
    const short = await cli(["open", "--key", k, "--layout", "openssl-80", "--hex", "00ff"]);
    assert.equal(short.code, 1);
    assert.equal(JSON.parse(short.out).failure, "tooShort");
    // An existing file whose name is hex digits is read as the file.
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      await Deno.writeTextFile("abcd", TLS12_TICKET.toHex() + "\n");
      const f = await cli(["open", "--key", k, "--layout", "openssl-80", "--hex", "abcd"]);
      assert.equal(f.code, 0, f.err);
    } finally {
      Deno.chdir(cwd);
    }
  });
});

/** Runs `deno run <flags> cli.ts <args>` as a process (no terminal: Deno cannot prompt). */
async function spawnWith(flags: string[], args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...flags, CLI, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, out: dec(out.stdout), err: dec(out.stderr) };
}

Deno.test("issue 11, deno run cli.ts without --allow-env (or read, write, net): the missing permission and the flag that grants it", async () => {
  await inTemp(async (dir) => {
    const kek = `${dir}/kek`;
    const kekText = new Uint8Array(32).fill(7).toBase64();
    await Deno.writeTextFile(kek, kekText + "\n");
    await Deno.writeFile(`${dir}/k`, KEYS_00_4F);
    const store = `${dir}/keys.kv`;
    const hint = (flag: string) => `; run with deno run --allow-${flag} (deno task cli does)\n`;
    const cases: [string, string[], string[], Record<string, string>, string][] = [
      [
        "env: the KEK variable",
        ["--allow-read", "--allow-write"],
        ["fleet", "status", "--store", `kv:${store}`],
        {},
        "error: no permission to read the environment variable SESSION_TICKETS_KEK" + hint("env"),
      ],
      [
        "read: the KEK file",
        ["--allow-env"],
        ["fleet", "status", "--store", `kv:${store}`, "--kek-file", kek],
        {},
        `error: no permission to read ${kek}` + hint("read"),
      ],
      [
        "read: a read-only command's KV store",
        ["--allow-env"],
        ["fleet", "status", "--store", `kv:${store}`],
        { SESSION_TICKETS_KEK: kekText },
        `error: no permission to read ${store}` + hint("read"),
      ],
      [
        "write: the KV store rotate opens",
        ["--allow-env", "--allow-read"],
        ["fleet", "rotate", "--store", `kv:${store}`],
        { SESSION_TICKETS_KEK: kekText },
        `error: no permission to write ${store}` + hint("write"),
      ],
      [
        "net: an etcd store",
        ["--allow-env", "--allow-read"],
        ["fleet", "status", "--store", "etcd:http://127.0.0.1:2379"],
        { SESSION_TICKETS_KEK: kekText },
        "error: no permission to connect to 127.0.0.1:2379" + hint("net"),
      ],
      [
        "read: a key file",
        [],
        ["open", "--key", `${dir}/k`, "--layout", "openssl-80", "--hex", TLS12_TICKET.toHex()],
        {},
        `error: no permission to read key file ${dir}/k` + hint("read"),
      ],
      [
        "write: keygen --out",
        ["--allow-read"],
        ["keygen", "--layout", "nginx-80", "--out", `${dir}/new.key`],
        {},
        `error: no permission to write nginx-80 key ${dir}/new.key` + hint("write"),
      ],
    ];
    for (const [what, flags, args, env, want] of cases) {
      const r = await spawnWith(flags, args, env);
      assert.equal(r.err, want, what);
      assert.equal(r.code, 1, what);
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["k", "kek"],
      "nothing was created",
    );
  });
});

/** The commands of README.md's "Use with nginx / HAProxy / Node / OpenSSL" code block. */
async function readmeCommands(): Promise<string[][]> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Use with nginx / HAProxy / Node / OpenSSL"));
  const start = section.indexOf("```sh\n") + 6;
  const block = section.slice(start, section.indexOf("\n```", start));
  return block.split("\n")
    .filter((l) => !l.startsWith("#") && l.trim() !== "")
    .map((l) => l.replace(/\s+#.*$/, "").trim().split(/\s+/));
}

Deno.test("issue 11, the README's CLI examples (Use with nginx / HAProxy / Node / OpenSSL) run as written through deno task cli's command, with a generated key and a real ticket's hex", async () => {
  const commands = await readmeCommands();
  assert.equal(commands.length, 6);
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const task = (config.tasks.cli as string).split(" ");
  assert.deepEqual(task.slice(0, 2), ["deno", "run"]);
  assert.equal(task.at(-1), "cli.ts");
  await inTemp(async (dir) => {
    // What the README assumes exists: the keys around current.key, and a ticket nginx sealed
    // under current.key (here: the TLS 1.2 session sealed with seal).
    for (const name of ["previous.key", "next.key"]) {
      assert.equal(
        (await cli(["keygen", "--layout", "nginx-80", "--out", `${dir}/${name}`])).code,
        0,
      );
    }
    const stdout = new Map<string, string>(); // by command
    for (const command of commands) {
      assert.deepEqual(command.slice(0, 3), ["deno", "task", "cli"], command.join(" "));
      if (command.some((w) => w.endsWith("..."))) {
        // The ticket an nginx server issued, under current.key.
        await Deno.writeFile(`${dir}/s.der`, TLS12_DER);
        const sealed = await cli([
          "seal",
          "--key",
          `${dir}/current.key`,
          "--layout",
          "nginx-80",
          "--out",
          `${dir}/ticket.bin`,
          `${dir}/s.der`,
        ]);
        assert.equal(sealed.code, 0, sealed.err);
      }
      const ticketHex = await Deno.readFile(`${dir}/ticket.bin`).then((b) => b.toHex(), () => "");
      const args = command.slice(3).map((w) => (w.endsWith("...") ? ticketHex : w));
      const out = await new Deno.Command(Deno.execPath(), {
        args: [...task.slice(1, -1), "--quiet", CLI, ...args],
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const r = { code: out.code, out: dec(out.stdout), err: dec(out.stderr) };
      assert.equal(r.code, 0, `${command.join(" ")}: ${r.err}`);
      assert.equal(r.err, "", command.join(" "));
      stdout.set(command[3], r.out);
    }
    // keygen nginx-48, convert to node-48: name|aes|hmac becomes name|hmac|aes.
    const nginx = await Deno.readFile(`${dir}/nginx.key`);
    assert.equal(nginx.length, 48);
    assert.deepEqual(
      await Deno.readFile(`${dir}/node.key`),
      concatBytes([nginx.subarray(0, 16), nginx.subarray(32, 48), nginx.subarray(16, 32)]),
    );
    // The haproxy file holds previous, current and next, in that order.
    const names = [];
    for (const f of ["previous.key", "current.key", "next.key"]) {
      names.push((await Deno.readFile(`${dir}/${f}`)).subarray(0, 16).toHex());
    }
    const haproxy = await TicketKey.importAll(
      await Deno.readFile(`${dir}/haproxy.keys`),
      "haproxy-80",
    );
    assert.deepEqual(haproxy.map((k) => k.nameHex), names);
    if (Deno.build.os !== "windows") {
      for (const f of ["nginx.key", "node.key", "current.key", "haproxy.keys", "client.pem"]) {
        assert.equal(await mode(`${dir}/${f}`), KEY_MODE, f);
      }
    }
    // open --hex <the ticket's hex>: SUCCESS with the session.
    const opened = JSON.parse(stdout.get("open")!);
    assert.equal(opened.statusName, "SUCCESS");
    assert.equal(opened.keyName, names[1]);
    assert.equal(opened.session.cipherName, "ECDHE-RSA-AES256-GCM-SHA384");
    // client-session: the PEM s_client -sess_in takes, carrying ticket.bin.
    const client = sessionFromPem(await Deno.readTextFile(`${dir}/client.pem`));
    assert.deepEqual(client.ticket, await Deno.readFile(`${dir}/ticket.bin`));
    assert.equal(client.masterKey.toHex(), TLS12_MASTER_KEY_HEX);
  });
});
