// Tests for ticket keys and key layouts (src/ticket/ticket_key.ts): OpenSSL's 80-byte
// SSL_CTX_set_tlsext_ticket_keys layout (ssl/s3_lib.c:ssl3_ctx_ctrl, SSL_CTRL_SET_TLSEXT_TICKET_KEYS),
// OpenSSL 1.0.x / Node 48-byte keys (node src/crypto/crypto_context.cc SetTicketKeys), nginx
// (src/event/ngx_event_openssl.c:ngx_ssl_session_ticket_keys) and HAProxy
// (include/haproxy/ssl_sock-t.h tls_sess_key_128/256, tls-ticket-keys base64 lines).
import assert from "node:assert/strict";
import { NoSealingKeyError, TicketKeyError } from "../src/ticket/errors.ts";
import { encodeSessionTransient } from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import type { TicketFormat } from "../src/ticket/ticket_format.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import {
  checkFormatAesBits,
  parseTicketKeyLayout,
  TICKET_KEY_LAYOUTS,
  TicketKey,
  type TicketKeyLayout,
} from "../src/ticket/ticket_key.ts";
import { KEYS_00_4F, TLS12_DER, TLS12_TICKET } from "./_vectors.ts";

const TLS12_IV = Uint8Array.fromHex("a7a3281f357aa2089a694076f1ef43da");
const seq = (n: number, start = 0) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const isKeyError = (re: RegExp) => (e: unknown) =>
  e instanceof TicketKeyError && re.test(e.message);

Deno.test("layout table: lengths and field orders of every product", () => {
  const expect: Record<TicketKeyLayout, [number, string, string, number, boolean]> = {
    "gcm": [48, "name16|aes32", "aes-256-gcm", 256, false],
    "openssl-80": [80, "name16|hmac32|aes32", "openssl", 256, false],
    "openssl-48": [48, "name16|hmac16|aes16", "openssl", 128, false],
    "node-48": [48, "name16|hmac16|aes16", "openssl", 128, false],
    "nginx-48": [48, "name16|aes16|hmac16", "openssl", 128, false],
    "nginx-80": [80, "name16|hmac32|aes32", "openssl", 256, false],
    "haproxy-48": [48, "name16|aes16|hmac16", "openssl", 128, true],
    "haproxy-80": [80, "name16|aes32|hmac32", "openssl", 256, true],
  };
  assert.deepEqual(Object.keys(TICKET_KEY_LAYOUTS).sort(), Object.keys(expect).sort());
  for (const [name, [bytes, fields, format, aesBits, base64Lines]] of Object.entries(expect)) {
    assert.deepEqual(TICKET_KEY_LAYOUTS[name as TicketKeyLayout], {
      bytes,
      fields,
      format,
      aesBits,
      base64Lines,
    });
  }
});

Deno.test("ssl3_ctx_ctrl: openssl-80 is name | hmac32 | aes32 and reproduces the OpenSSL ticket", async () => {
  const key = await TicketKey.import(KEYS_00_4F, "openssl-80");
  assert.equal(key.format, "openssl");
  assert.equal(key.aesBits, 256);
  assert.equal(key.nameHex, "000102030405060708090a0b0c0d0e0f");
  assert.equal((await key.sealBytes(TLS12_DER, { iv: TLS12_IV })).toHex(), TLS12_TICKET.toHex());
});

Deno.test("nginx-80 equals openssl-80; haproxy-80 swaps the halves and gives the same tickets", async () => {
  const name = KEYS_00_4F.subarray(0, 16);
  const hmac = KEYS_00_4F.subarray(16, 48);
  const aes = KEYS_00_4F.subarray(48, 80);
  const nginx = await TicketKey.import(KEYS_00_4F, "nginx-80");
  const haproxyLine = concatBytes([name, aes, hmac]).toBase64() + "\n";
  const haproxy = await TicketKey.import(haproxyLine, "haproxy-80");
  for (const k of [nginx, haproxy]) {
    assert.equal((await k.sealBytes(TLS12_DER, { iv: TLS12_IV })).toHex(), TLS12_TICKET.toHex());
  }
});

Deno.test("48-byte layouts: openssl-48/node-48 are name|hmac|aes, nginx-48/haproxy-48 name|aes|hmac", async () => {
  const name = seq(16, 0x00);
  const hmac = seq(16, 0x40);
  const aes = seq(16, 0x80);
  const iv = seq(16, 0xc0);
  const keys = [
    await TicketKey.import(concatBytes([name, hmac, aes]), "openssl-48"),
    await TicketKey.import(concatBytes([name, hmac, aes]), "node-48"),
    await TicketKey.import(concatBytes([name, aes, hmac]), "nginx-48"),
    await TicketKey.import(concatBytes([name, aes, hmac]).toBase64(), "haproxy-48"),
  ];
  const tickets = await Promise.all(keys.map((k) => k.sealBytes(TLS12_DER, { iv })));
  for (const t of tickets) assert.equal(t.toHex(), tickets[0].toHex());
  for (const k of keys) assert.equal(k.cipher, "AES-128-CBC-HMAC-SHA256");
  // The wrong order for the same bytes decrypts nothing (the "key-file layout trap").
  const swapped = await TicketKey.import(concatBytes([name, hmac, aes]), "nginx-48");
  assert.equal((await swapped.openBytes(tickets[0])).failure, "badMac");
});

Deno.test("export: every layout round-trips, and conversion reorders the fields", async () => {
  for (const layout of Object.keys(TICKET_KEY_LAYOUTS) as TicketKeyLayout[]) {
    const info = TICKET_KEY_LAYOUTS[layout];
    const raw = crypto.getRandomValues(new Uint8Array(info.bytes));
    const material = info.base64Lines ? raw.toBase64() + "\n" : raw;
    const key = await TicketKey.import(material, layout, { extractable: true });
    const out = await key.export(layout);
    if (info.base64Lines) assert.equal(text(out), raw.toBase64() + "\n", layout);
    else assert.equal(out.toHex(), raw.toHex(), layout);
  }
  const name = seq(16, 0);
  const hmac = seq(32, 0x20);
  const aes = seq(32, 0x60);
  const k = await TicketKey.import(concatBytes([name, hmac, aes]), "openssl-80", {
    extractable: true,
  });
  assert.deepEqual(k.layouts, ["openssl-80", "nginx-80", "haproxy-80"]);
  assert.equal((await k.export("nginx-80")).toHex(), concatBytes([name, hmac, aes]).toHex());
  assert.equal(
    text(await k.export("haproxy-80")),
    concatBytes([name, aes, hmac]).toBase64() + "\n",
  );
  const k48 = await TicketKey.import(
    concatBytes([name, seq(16, 0x40), seq(16, 0x80)]),
    "nginx-48",
    {
      extractable: true,
    },
  );
  assert.equal(
    (await k48.export("node-48")).toHex(),
    concatBytes([name, seq(16, 0x80), seq(16, 0x40)]).toHex(),
  );
  const gcm = await TicketKey.import(concatBytes([name, aes]), "gcm", { extractable: true });
  assert.equal((await gcm.export("gcm")).toHex(), concatBytes([name, aes]).toHex());
});

Deno.test("haproxy files: several base64 lines, in order; blank lines and CRLF are tolerated", async () => {
  const keys: TicketKey[] = [];
  for (let i = 0; i < 3; i++) {
    keys.push(await TicketKey.generate({ format: "openssl", extractable: true }));
  }
  const file = await TicketKey.exportAll(keys, "haproxy-80");
  assert.equal(text(file).split("\n").length, 4);
  const back = await TicketKey.importAll(file, "haproxy-80");
  assert.deepEqual(back.map((k) => k.nameHex), keys.map((k) => k.nameHex));
  const crlf = "\r\n" + text(file).replaceAll("\n", "\r\n") + "\r\n\r\n";
  assert.equal((await TicketKey.importAll(crlf, "haproxy-80")).length, 3);
  // The imported keys open the originals' tickets.
  const t = await keys[1].sealBytes(TLS12_DER);
  assert.equal((await back[1].openBytes(t)).status, TicketStatus.SUCCESS);
  // TicketKey.import takes exactly one line.
  await assert.rejects(() => TicketKey.import(file, "haproxy-80"), isKeyError(/holds 3 keys/));
  await assert.rejects(() => TicketKey.import("", "haproxy-80"), isKeyError(/holds 0 keys/));
  // A line of the other size names the line and the lengths.
  const mixed = text(file) + seq(48).toBase64() + "\n";
  await assert.rejects(
    () => TicketKey.importAll(mixed, "haproxy-80"),
    isKeyError(
      /haproxy-80 lines are base64 of 80 bytes \(name16\|aes32\|hmac32\); line 4 decodes to 48/,
    ),
  );
  await assert.rejects(
    () => TicketKey.importAll("not base64!\n", "haproxy-48"),
    isKeyError(/line 1 is not valid base64/),
  );
  // Raw layouts hold one key per file.
  await assert.rejects(
    () => TicketKey.exportAll(keys, "openssl-80"),
    isKeyError(/one key per file/),
  );
  assert.equal((await TicketKey.exportAll([keys[0]], "nginx-80")).length, 80);
});

Deno.test("wrong lengths and unknown layouts are TicketKeyErrors naming the layout and lengths", async () => {
  await assert.rejects(
    () => TicketKey.import(new Uint8Array(48), "openssl-80"),
    isKeyError(/^openssl-80 keys are 80 bytes \(name16\|hmac32\|aes32\), got 48$/),
  );
  await assert.rejects(
    () => TicketKey.import(new Uint8Array(80), "nginx-48"),
    isKeyError(/nginx-48 keys are 48 bytes \(name16\|aes16\|hmac16\), got 80/),
  );
  await assert.rejects(
    () => TicketKey.import(new Uint8Array(47), "gcm"),
    isKeyError(/gcm keys are 48 bytes/),
  );
  await assert.rejects(
    () => TicketKey.import(new Uint8Array(80), "openssl-96" as TicketKeyLayout),
    isKeyError(
      /unknown ticket key layout "openssl-96"; layouts: gcm \(48 bytes: name16\|aes32\), openssl-80 \(80 bytes/,
    ),
  );
  await assert.rejects(
    () => TicketKey.import("AAAA", "openssl-80"),
    isKeyError(/openssl-80 keys are raw bytes: pass a Uint8Array of 80 bytes/),
  );
  await assert.rejects(
    () => TicketKey.import(Uint8Array.of(0xff, 0xfe), "haproxy-48"),
    isKeyError(/not UTF-8/),
  );
});

Deno.test("generate: formats, sizes, names; bad options are TicketKeyErrors", async () => {
  const gcm = await TicketKey.generate();
  assert.equal(gcm.format, "aes-256-gcm");
  assert.equal(gcm.cipher, "AES-256-GCM");
  assert.equal(gcm.extractable, false);
  assert.equal(gcm.name.length, 16);
  const cbc = await TicketKey.generate({ format: "openssl", extractable: true });
  assert.equal(cbc.cipher, "AES-256-CBC-HMAC-SHA256");
  assert.equal((await cbc.export("openssl-80")).length, 80);
  const named = await TicketKey.generate({ name: seq(16, 0x30) });
  assert.equal(named.nameHex, seq(16, 0x30).toHex());
  assert.notEqual((await TicketKey.generate()).nameHex, gcm.nameHex);
  await assert.rejects(
    () => TicketKey.generate({ aesBits: 128 }),
    isKeyError(/aes-256-gcm keys take aesBits 256/),
  );
  await assert.rejects(
    () => TicketKey.generate({ name: new Uint8Array(8) }),
    isKeyError(/16 bytes, got 8/),
  );
  await assert.rejects(
    () => TicketKey.generate({ format: "chacha" as "openssl" }),
    isKeyError(/unknown ticket format "chacha"/),
  );
});

Deno.test("keys are non-extractable unless asked; exporting one says how to get an exportable key", async () => {
  const key = await TicketKey.import(KEYS_00_4F, "openssl-80");
  assert.equal(key.extractable, false);
  await assert.rejects(
    () => key.export("openssl-80"),
    isKeyError(/not extractable; create it with \{ extractable: true \}/),
  );
  const gcm = await TicketKey.generate({ extractable: true });
  await assert.rejects(
    () => gcm.export("openssl-80"),
    isKeyError(/cannot be written as openssl-80 \(name16\|hmac32\|aes32\); its layouts are gcm/),
  );
  const k128 = await TicketKey.generate({ format: "openssl", aesBits: 128, extractable: true });
  await assert.rejects(
    () => k128.export("nginx-80"),
    isKeyError(/its layouts are openssl-48, node-48, nginx-48, haproxy-48/),
  );
});

Deno.test("key material is copied, not retained: changing the caller's bytes changes nothing", async () => {
  const raw = KEYS_00_4F.slice();
  const key = await TicketKey.import(raw, "openssl-80");
  assert.equal(raw.toHex(), KEYS_00_4F.toHex(), "the caller's buffer is left as it was");
  raw.fill(0);
  assert.equal((await key.sealBytes(TLS12_DER, { iv: TLS12_IV })).toHex(), TLS12_TICKET.toHex());
  const name = key.name;
  name.fill(0xff);
  assert.equal(key.nameHex, "000102030405060708090a0b0c0d0e0f");
  // Material on a SharedArrayBuffer is accepted too.
  const shared = new Uint8Array(new SharedArrayBuffer(80));
  shared.set(KEYS_00_4F);
  const k2 = await TicketKey.import(shared, "openssl-80");
  assert.equal((await k2.openBytes(TLS12_TICKET)).status, TicketStatus.SUCCESS);
});

Deno.test("secrets never show in toString, JSON or Deno.inspect", async () => {
  const hmac = seq(32, 0x90);
  const aes = seq(32, 0xd0);
  const key = await TicketKey.import(concatBytes([seq(16), hmac, aes]), "openssl-80", {
    extractable: true,
  });
  for (
    const s of [
      String(key),
      JSON.stringify(key),
      Deno.inspect(key),
      Deno.inspect(key, { depth: 9 }),
    ]
  ) {
    assert.ok(s.includes(key.nameHex), s);
    assert.ok(!s.includes(hmac.toHex()) && !s.includes(aes.toHex()), s);
    assert.ok(!s.includes(aes.subarray(0, 8).toHex()), s);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(key)), {
    name: key.nameHex,
    format: "openssl",
    cipher: "AES-256-CBC-HMAC-SHA256",
    sealCount: 0,
    sealBudget: 2 ** 32,
  });
});

Deno.test("fromCryptoKeys: wraps Web Crypto keys and checks them against the format", async () => {
  const aesCbc = await crypto.subtle.generateKey({ name: "AES-CBC", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const aesGcm = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const hmac256 = await crypto.subtle.generateKey(
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  const hmac128 = await crypto.subtle.generateKey(
    { name: "HMAC", hash: "SHA-256", length: 128 },
    false,
    ["sign"],
  );
  const name = seq(16);
  const k = TicketKey.fromCryptoKeys({ name, format: "openssl", aesKey: aesCbc, hmacKey: hmac256 });
  assert.equal((await k.openBytes(await k.sealBytes(TLS12_DER))).status, TicketStatus.SUCCESS);
  const g = TicketKey.fromCryptoKeys({ name, format: "aes-256-gcm", aesKey: aesGcm });
  assert.equal((await g.openBytes(await g.sealBytes(TLS12_DER))).status, TicketStatus.SUCCESS);
  assert.throws(
    () => TicketKey.fromCryptoKeys({ name, format: "aes-256-gcm", aesKey: aesCbc }),
    isKeyError(/AES-GCM CryptoKey/),
  );
  assert.throws(
    () => TicketKey.fromCryptoKeys({ name, format: "openssl", aesKey: aesCbc }),
    isKeyError(/HMAC SHA-256 CryptoKey of 256 bits/),
  );
  assert.throws(
    () => TicketKey.fromCryptoKeys({ name, format: "openssl", aesKey: aesCbc, hmacKey: hmac128 }),
    isKeyError(/of 256 bits/),
  );
  assert.throws(
    () =>
      TicketKey.fromCryptoKeys({ name: new Uint8Array(15), format: "aes-256-gcm", aesKey: aesGcm }),
    isKeyError(/16 bytes, got 15/),
  );
});

// ---------------------------------------------------------------------------------------------
// Issue 11: safe by default, one place per rule

const NOT_BYTES: [unknown, string][] = [
  [null, "null"],
  [undefined, "undefined"],
  ["AAAA", "string"],
  [42, "number"],
  [[1, 2, 3], "an array"],
  [{ length: 64 }, "object"],
];

Deno.test("issue 11: TicketKey open/openBytes of null, a string, a number... return a rejected promise with TicketKeyError, never throw", async () => {
  for (const format of ["aes-256-gcm", "openssl"] as const) {
    const key = await TicketKey.generate({ format });
    for (const [bad, type] of NOT_BYTES) {
      const arg = bad as Uint8Array;
      for (const p of [key.open(arg), key.openBytes(arg), key.open(arg, { anyName: true })]) {
        assert.ok(p instanceof Promise); // reached only when the call did not throw
        await assert.rejects(
          p,
          (e) =>
            e instanceof TicketKeyError &&
            e.message === `a ticket to open is a Uint8Array, got ${type}`,
        );
      }
    }
  }
});

Deno.test("issue 11: TicketKey seal/sealBytes of a non-session or non-bytes reject with TicketKeyError", async () => {
  const key = await TicketKey.generate();
  await assert.rejects(
    key.sealBytes(null as unknown as Uint8Array),
    isKeyError(/^a ticket plaintext is a Uint8Array, got null$/),
  );
  await assert.rejects(
    key.seal({ masterKey: new Uint8Array(48) } as unknown as SslSession),
    isKeyError(/^seal takes an SslSession, got object$/),
  );
  assert.equal(key.sealCount, 0); // refused before counting
});

/** Whether `needle` occurs in `hay`. */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const MASTER_KEY = Uint8Array.from({ length: 48 }, (_, i) => 0xc0 ^ i);

Deno.test("issue 11: TicketKey.seal wipes the master key from the codec's shared encode buffer once Web Crypto has it", async () => {
  // The shared buffer, seen through the ArrayBuffer under a view encodeSessionTransient returns.
  const scratch = new Uint8Array(encodeSessionTransient(new SslSession()).buffer);
  const session = new SslSession({
    cipherId: 0xc030,
    masterKey: MASTER_KEY,
    time: 1_700_000_000,
    timeout: 7200,
  });
  encodeSessionTransient(session); // control: an encode alone leaves the key there
  assert.equal(contains(scratch, MASTER_KEY), true);
  scratch.fill(0);
  for (const format of ["aes-256-gcm", "openssl"] as const) {
    const key = await TicketKey.generate({ format });
    const sealing = key.seal(session);
    assert.equal(contains(scratch, MASTER_KEY), false); // wiped before seal returns
    assert.equal(scratch.every((b) => b === 0), true);
    const ticket = await sealing;
    assert.equal(scratch.every((b) => b === 0), true);
    // Web Crypto took its copy before the wipe: the ticket holds the whole session.
    assert.deepEqual((await key.open(ticket)).session?.masterKey, MASTER_KEY);
  }
  assert.equal(encodeSessionTransient(session).buffer, scratch.buffer); // the same buffer
  scratch.fill(0);
});

Deno.test("issue 11: parseTicketKeyLayout is the one layout-name check (TicketKey.import/export/exportAll use it)", async () => {
  for (const layout of Object.keys(TICKET_KEY_LAYOUTS)) {
    assert.equal(parseTicketKeyLayout(layout), layout);
  }
  const list = "gcm (48 bytes: name16|aes32), openssl-80 (80 bytes: name16|hmac32|aes32), " +
    "openssl-48 (48 bytes: name16|hmac16|aes16), node-48 (48 bytes: name16|hmac16|aes16), " +
    "nginx-48 (48 bytes: name16|aes16|hmac16), nginx-80 (80 bytes: name16|hmac32|aes32), " +
    "haproxy-48 (base64 lines of 48 bytes: name16|aes16|hmac16), " +
    "haproxy-80 (base64 lines of 80 bytes: name16|aes32|hmac32)";
  assert.throws(
    () => parseTicketKeyLayout("nginx-96"),
    (e) =>
      e instanceof TicketKeyError &&
      e.message === `unknown ticket key layout "nginx-96"; layouts: ${list}`,
  );
  assert.throws(
    () => parseTicketKeyLayout("toString"), // not an own property: not a layout
    isKeyError(/^unknown ticket key layout "toString"; layouts: gcm/),
  );
  assert.throws(
    () => parseTicketKeyLayout(null),
    isKeyError(/^unknown ticket key layout null; layouts: gcm/),
  );
  const key = await TicketKey.generate({ extractable: true });
  await assert.rejects(
    () => key.export("gcm-96" as TicketKeyLayout),
    isKeyError(/^unknown ticket key layout "gcm-96"; layouts: gcm/),
  );
  await assert.rejects(
    () => TicketKey.exportAll([key], "gcm-96" as TicketKeyLayout),
    isKeyError(/^unknown ticket key layout "gcm-96"; layouts: gcm/),
  );
});

Deno.test("issue 11: checkFormatAesBits is the one format/AES-size rule (generate and fromCryptoKeys use it)", async () => {
  assert.equal(checkFormatAesBits("aes-256-gcm"), 256);
  assert.equal(checkFormatAesBits("aes-256-gcm", 256), 256);
  assert.equal(checkFormatAesBits("openssl"), 256);
  assert.equal(checkFormatAesBits("openssl", 128), 128);
  const cases: [string, number | undefined, string][] = [
    ["aes-256-gcm", 128, "aes-256-gcm keys take aesBits 256, got 128"],
    ["openssl", 192, "openssl keys take aesBits 128 or 256, got 192"],
    ["chacha", 256, 'unknown ticket format "chacha"; formats: aes-256-gcm, openssl'],
  ];
  for (const [format, bits, message] of cases) {
    assert.throws(
      () => checkFormatAesBits(format as TicketFormat, bits),
      (e) => e instanceof TicketKeyError && e.message === message,
    );
  }
  await assert.rejects(
    () => TicketKey.generate({ format: "openssl", aesBits: 192 as 128 }),
    (e) =>
      e instanceof TicketKeyError && e.message === "openssl keys take aesBits 128 or 256, got 192",
  );
  const gcm128 = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, [
    "encrypt",
    "decrypt",
  ]);
  assert.throws(
    () => TicketKey.fromCryptoKeys({ name: seq(16), format: "aes-256-gcm", aesKey: gcm128 }),
    (e) =>
      e instanceof TicketKeyError && e.message === "aes-256-gcm keys take aesBits 256, got 128",
  );
  assert.throws(
    () =>
      TicketKey.fromCryptoKeys({ name: seq(16), format: "rc4" as TicketFormat, aesKey: gcm128 }),
    (e) =>
      e instanceof TicketKeyError &&
      e.message === 'unknown ticket format "rc4"; formats: aes-256-gcm, openssl',
  );
});

Deno.test("issue 13: no ticket is not a failed handshake: a TicketKey whose budget is spent refuses with NoSealingKeyError (reason budget-spent), a TicketKeyError", async () => {
  const key = await TicketKey.generate({ sealBudget: 1 });
  await key.sealBytes(Uint8Array.of(1));
  const e = await key.sealBytes(Uint8Array.of(1)).then(() => null, (e) => e);
  assert.ok(e instanceof NoSealingKeyError);
  assert.ok(e instanceof TicketKeyError); // callers matching TicketKeyError still catch it
  assert.equal(e.name, "NoSealingKeyError");
  assert.equal(e.reason, "budget-spent");
  assert.equal(e.sealsFrom, null);
  assert.equal(
    e.message,
    `ticket key ${key.nameHex} has sealed its budget of 1 tickets; rotate to a new key`,
  );
  assert.equal(key.sealCount, 1); // the refused seal is not counted
  // seal() of a session takes the same path.
  const s = new SslSession({ cipherId: 0x1301, time: 1, timeout: 60 });
  const e2 = await key.seal(s).then(() => null, (e) => e);
  assert.ok(e2 instanceof NoSealingKeyError && e2.reason === "budget-spent");
  // A bad plaintext is still a plain TicketKeyError, not "no key": it stays fatal.
  const e3 = await key.sealBytes(new Uint8Array(0)).then(() => null, (e) => e);
  assert.ok(e3 instanceof TicketKeyError && !(e3 instanceof NoSealingKeyError));
});

Deno.test("issue 13: NoSealingKeyError takes only the known reasons (a TicketKeyError otherwise)", () => {
  for (const reason of ["not-yet", "budget-spent", "retired", "no-key"] as const) {
    const e = new NoSealingKeyError(reason, "why", reason === "not-yet" ? 70_000 : null);
    assert.equal(e.reason, reason);
    assert.equal(e.sealsFrom, reason === "not-yet" ? 70_000 : null);
  }
  assert.throws(
    () => new NoSealingKeyError("later" as "not-yet", "why"),
    (e) =>
      e instanceof TicketKeyError && !(e instanceof NoSealingKeyError) &&
      e.message ===
        'unknown NoSealingKeyError reason "later"; reasons: not-yet, budget-spent, retired, no-key',
  );
  assert.equal(new NoSealingKeyError("not-yet", "why", NaN).sealsFrom, null);
});
