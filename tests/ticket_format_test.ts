// Tests for the ticket formats (src/ticket/ticket_key.ts, _gcm.ts, _openssl_cbc.ts): the OpenSSL
// layout of ssl/statem/statem_srvr.c:construct_stateless_ticket byte for byte, the check order of
// ssl/t1_lib.c:tls_decrypt_ticket (and the keyname_len its `end:` block passes to dec_cb), and
// this module's AES-256-GCM format.
import assert from "node:assert/strict";
import { TicketKeyError } from "../src/ticket/errors.ts";
import { decodeSession, encodeSession } from "../src/session/codec.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { decodeOpenedTicket } from "../src/ticket/sealer.ts";
import {
  MAX_TICKET_LENGTH,
  MAX_TICKET_PLAINTEXT_LENGTH,
  MIN_TICKET_LENGTH,
  noDecryptTicket,
  precheckTicket,
  sealedTicketLength,
  TICKET_KEY_NAME_LENGTH,
  ticketKeyName,
} from "../src/ticket/ticket_format.ts";
import { KEYS_00_4F, TLS12_DER, TLS12_TICKET, TLS13_DER, TLS13_TICKET } from "./_vectors.ts";

const TLS12_IV = Uint8Array.fromHex("a7a3281f357aa2089a694076f1ef43da");
const TLS13_IV = Uint8Array.fromHex("074a065de1d51a54dd8317f458870a65");
const NAME = KEYS_00_4F.slice(0, 16);
const HMAC32 = KEYS_00_4F.slice(16, 48);
const AES32 = KEYS_00_4F.slice(48, 80);

const vectorKey = () => TicketKey.import(KEYS_00_4F, "openssl-80");

/** The three kinds of key: GCM, OpenSSL AES-256 (80-byte) and AES-128 (48-byte). */
async function keysOfEachFormat(): Promise<[string, TicketKey][]> {
  return [
    ["aes-256-gcm", await TicketKey.generate()],
    ["openssl AES-256-CBC", await TicketKey.generate({ format: "openssl" })],
    ["openssl AES-128-CBC", await TicketKey.generate({ format: "openssl", aesBits: 128 })],
  ];
}

/** HMAC-SHA256(key, data) with raw Web Crypto, independent of the module. */
async function hmac(key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

/** `name | iv | ct | HMAC(name|iv|ct)` under the 00..4f vector keys: a correctly MACed ticket. */
async function macedTicket(iv: Uint8Array, ct: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const body = new Uint8Array(32 + ct.length);
  body.set(NAME, 0);
  body.set(iv, 16);
  body.set(ct, 32);
  const out = new Uint8Array(body.length + 32);
  out.set(body);
  out.set(await hmac(HMAC32, body), body.length);
  return out;
}

/** Counts crypto.subtle calls made while `f` runs. */
async function countCrypto<T>(f: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const subtle = crypto.subtle as unknown as Record<string, unknown>;
  const names = ["encrypt", "decrypt", "sign", "verify"] as const;
  const saved = names.map((n) => subtle[n]);
  let calls = 0;
  for (let i = 0; i < names.length; i++) {
    const orig = saved[i] as (...a: unknown[]) => unknown;
    subtle[names[i]] = (...a: unknown[]) => {
      calls++;
      return orig.apply(crypto.subtle, a);
    };
  }
  try {
    return { result: await f(), calls };
  } finally {
    for (let i = 0; i < names.length; i++) subtle[names[i]] = saved[i];
  }
}

Deno.test("construct_stateless_ticket: the TLS 1.2 vector of spec 3.5, byte for byte (176 bytes)", async () => {
  const key = await vectorKey();
  const ticket = await key.sealBytes(TLS12_DER, { iv: TLS12_IV });
  assert.equal(ticket.length, 176);
  assert.equal(ticket.toHex(), TLS12_TICKET.toHex());
  const opened = await key.openBytes(TLS12_TICKET);
  assert.equal(opened.status, TicketStatus.SUCCESS);
  assert.equal(opened.failure, null);
  assert.equal(opened.plaintext!.toHex(), TLS12_DER.toHex());
  assert.equal(opened.keyName.toHex(), NAME.toHex());
});

Deno.test("construct_stateless_ticket: the TLS 1.3 vector of spec 3.5, byte for byte (208 bytes)", async () => {
  const key = await vectorKey();
  const ticket = await key.sealBytes(TLS13_DER, { iv: TLS13_IV });
  assert.equal(ticket.length, 208);
  assert.equal(ticket.toHex(), TLS13_TICKET.toHex());
  const opened = await key.openBytes(TLS13_TICKET);
  assert.equal(opened.status, TicketStatus.SUCCESS);
  assert.equal(opened.plaintext!.toHex(), TLS13_DER.toHex());
});

Deno.test("construct_stateless_ticket: sealing the decoded sessions reproduces both vectors", async () => {
  const key = await vectorKey();
  const t12 = await key.seal(decodeSession(TLS12_DER), { iv: TLS12_IV });
  assert.equal(t12.toHex(), TLS12_TICKET.toHex());
  const t13 = await key.seal(decodeSession(TLS13_DER), { iv: TLS13_IV });
  assert.equal(t13.toHex(), TLS13_TICKET.toHex());
});

Deno.test("tls_decrypt_ticket: the vector tickets open to their sessions", async () => {
  const key = await vectorKey();
  const r12 = await key.open(TLS12_TICKET);
  assert.equal(r12.status, TicketStatus.SUCCESS);
  assert.equal(r12.session!.cipherId, 0xc030);
  assert.equal(new TextDecoder().decode(r12.session!.getTicketAppData()!), "HelloWorld");
  assert.equal(r12.keyName.length, 16);
  const r13 = await key.open(TLS13_TICKET);
  assert.equal(r13.status, TicketStatus.SUCCESS);
  assert.equal(r13.session!.ticketAgeAdd, 0x6cc2081e);
  assert.equal(encodeSession(r13.session!).toHex(), TLS13_DER.toHex());
});

Deno.test("openssl format: layout is name | iv | AES-256-CBC(PKCS#7) | HMAC-SHA256(name|iv|ct)", async () => {
  const key = await vectorKey();
  const ticket = await key.sealBytes(TLS12_DER);
  const iv = ticket.slice(16, 32);
  const ct = ticket.slice(32, ticket.length - 32);
  assert.equal(ct.length, 112); // 107 bytes + 5 bytes of PKCS#7 padding
  const mac = await hmac(HMAC32, ticket.slice(0, ticket.length - 32));
  assert.equal(ticket.subarray(ticket.length - 32).toHex(), mac.toHex());
  const aes = await crypto.subtle.importKey("raw", AES32, "AES-CBC", false, ["decrypt"]);
  const pt = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv }, aes, ct));
  assert.equal(pt.toHex(), TLS12_DER.toHex());
});

Deno.test("openssl format, 48-byte keys: AES-128-CBC with a 16-byte HMAC key (OpenSSL 1.0.x / Node)", async () => {
  const raw = Uint8Array.from({ length: 48 }, (_, i) => 0xa0 + i);
  const key = await TicketKey.import(raw, "openssl-48");
  assert.equal(key.cipher, "AES-128-CBC-HMAC-SHA256");
  const ticket = await key.sealBytes(TLS13_DER);
  assert.equal(ticket.length, sealedTicketLength("openssl", 143));
  assert.equal(ticket.length, 208);
  const mac = await hmac(raw.slice(16, 32), ticket.slice(0, ticket.length - 32));
  assert.equal(ticket.subarray(ticket.length - 32).toHex(), mac.toHex());
  const aes = await crypto.subtle.importKey("raw", raw.slice(32, 48), "AES-CBC", false, [
    "decrypt",
  ]);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-CBC", iv: ticket.slice(16, 32) },
    aes,
    ticket.slice(32, ticket.length - 32),
  );
  assert.equal(new Uint8Array(pt).toHex(), TLS13_DER.toHex());
});

Deno.test("aes-256-gcm format: name | nonce | AES-256-GCM(ct | tag) with the key name as AAD", async () => {
  const raw = Uint8Array.from({ length: 48 }, (_, i) => 0x40 + i);
  const key = await TicketKey.import(raw, "gcm");
  const nonce = Uint8Array.fromHex("000102030405060708090a0b");
  const ticket = await key.sealBytes(TLS12_DER, { iv: nonce });
  assert.equal(ticket.length, 16 + 12 + 107 + 16);
  assert.equal(ticket.length, sealedTicketLength("aes-256-gcm", 107));
  assert.equal(ticket.subarray(0, 16).toHex(), raw.subarray(0, 16).toHex());
  assert.equal(ticket.subarray(16, 28).toHex(), nonce.toHex());
  const aes = await crypto.subtle.importKey("raw", raw.slice(16), "AES-GCM", false, ["encrypt"]);
  const expect = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: raw.slice(0, 16) },
      aes,
      TLS12_DER,
    ),
  );
  assert.equal(ticket.subarray(28).toHex(), expect.toHex());
  // Random nonces otherwise: two seals of one plaintext differ.
  const a = await key.sealBytes(TLS12_DER);
  const b = await key.sealBytes(TLS12_DER);
  assert.notEqual(a.subarray(16, 28).toHex(), b.subarray(16, 28).toHex());
});

Deno.test("every format: seal/open round trips for plaintexts of 1..300 bytes and the maximum", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    for (const n of [1, 15, 16, 17, 31, 32, 107, 143, 300, MAX_TICKET_PLAINTEXT_LENGTH]) {
      const pt = crypto.getRandomValues(new Uint8Array(n));
      const ticket = await key.sealBytes(pt);
      assert.equal(ticket.length, sealedTicketLength(key.format, n), `${label} ${n}`);
      assert.ok(ticket.length <= MAX_TICKET_LENGTH);
      const r = await key.openBytes(ticket);
      assert.equal(r.status, TicketStatus.SUCCESS, `${label} ${n}`);
      assert.equal(r.plaintext!.toHex(), pt.toHex());
      assert.equal(r.keyName.toHex(), key.name.toHex());
      // keyName is a view of the ticket, as OpenSSL passes `etick` itself.
      assert.equal(r.keyName.buffer, ticket.buffer);
    }
  }
});

Deno.test("every format: session round trip through seal/open", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    const r = await key.open(await key.seal(decodeSession(TLS13_DER)));
    assert.equal(r.status, TicketStatus.SUCCESS, label);
    assert.equal(encodeSession(r.session!).toHex(), TLS13_DER.toHex(), label);
  }
});

Deno.test("tls_decrypt_ticket check 1: an empty ticket is EMPTY with keyname_len 0", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    const r = await key.openBytes(new Uint8Array(0));
    assert.equal(r.status, TicketStatus.EMPTY, label);
    assert.equal(r.keyName.length, 0);
    assert.equal(r.failure, null);
    const s = await key.open(new Uint8Array(0));
    assert.equal(s.status, TicketStatus.EMPTY);
    assert.equal(s.session, null);
  }
});

Deno.test("tls_decrypt_ticket check 3: under 32 bytes is NO_DECRYPT, keyname_len min(16, len)", async () => {
  const key = await vectorKey();
  for (let n = 1; n < 32; n++) {
    const t = TLS12_TICKET.slice(0, n); // even with the right key name
    const r = await key.openBytes(t);
    assert.equal(r.status, TicketStatus.NO_DECRYPT, `len ${n}`);
    assert.equal(r.keyName.length, Math.min(16, n), `len ${n}`);
    assert.equal(r.failure, "tooShort");
  }
  // Observed with libssl 3.0.19: a 10-byte ticket gives keyname_len 10.
  assert.equal((await key.openBytes(new Uint8Array(10))).keyName.length, 10);
});

Deno.test("tls_decrypt_ticket check 5b: another key name is NO_DECRYPT with keyname_len 16", async () => {
  const key = await vectorKey();
  for (const n of [32, 80, 81, 176]) {
    const t = new Uint8Array(n).fill(0xee);
    const r = await key.openBytes(t);
    assert.equal(r.status, TicketStatus.NO_DECRYPT);
    assert.equal(r.keyName.length, 16);
    assert.equal(r.keyName.toHex(), "ee".repeat(16));
    assert.equal(r.failure, "unknownKey");
  }
  const other = TLS12_TICKET.slice();
  other[15] ^= 1;
  assert.equal((await key.openBytes(other)).failure, "unknownKey");
});

Deno.test("tls_decrypt_ticket check 8: name-matched tickets of 32..64 bytes are NO_DECRYPT (16)", async () => {
  const key = await vectorKey();
  for (let n = 32; n <= 64; n++) {
    const r = await key.openBytes(TLS12_TICKET.slice(0, n));
    assert.equal(r.status, TicketStatus.NO_DECRYPT, `len ${n}`);
    assert.equal(r.keyName.length, 16);
    assert.equal(r.failure, "tooShort");
  }
});

Deno.test("tls_decrypt_ticket check 10: a bad MAC is NO_DECRYPT and nothing is decrypted", async () => {
  const key = await vectorKey();
  const t = TLS12_TICKET.slice();
  t[100] ^= 0x80;
  const { result, calls } = await countCrypto(() => key.openBytes(t));
  assert.equal(result.status, TicketStatus.NO_DECRYPT);
  assert.equal(result.failure, "badMac");
  assert.equal(result.keyName.length, 16);
  assert.equal(calls, 1); // the HMAC only: no AES-CBC decryption (no padding oracle)
  const good = await countCrypto(() => key.openBytes(TLS12_TICKET));
  assert.equal(good.calls, 2);
});

Deno.test("tls_decrypt_ticket check 12: MACed ciphertext with bad padding; keyname_len is min(16, ctlen)", async () => {
  const key = await vectorKey();
  const iv = new Uint8Array(16);
  // 65 bytes: 1 byte of ciphertext passes the MAC, fails DecryptFinal; eticklen at exit is 1.
  for (let ctLen = 1; ctLen < 16; ctLen++) {
    const t = await macedTicket(iv, new Uint8Array(ctLen).fill(0x5a));
    assert.equal(t.length, 64 + ctLen);
    const r = await key.openBytes(t);
    assert.equal(r.status, TicketStatus.NO_DECRYPT, `ct ${ctLen}`);
    assert.equal(r.failure, "badPadding");
    assert.equal(r.keyName.length, ctLen, `ct ${ctLen}`);
    assert.equal(r.keyName.toHex(), NAME.subarray(0, ctLen).toHex());
  }
  // 17..31 bytes of ciphertext: not whole blocks; keyname_len 16.
  for (const ctLen of [17, 31, 33]) {
    const r = await key.openBytes(await macedTicket(iv, new Uint8Array(ctLen)));
    assert.equal(r.failure, "badPadding");
    assert.equal(r.keyName.length, 16);
  }
  // A whole block that decrypts to 16 zero bytes: last byte 0x00 is invalid PKCS#7 padding.
  const aes = await crypto.subtle.importKey("raw", AES32, "AES-CBC", false, ["encrypt"]);
  const enc = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, aes, new Uint8Array(16)),
  );
  const r = await key.openBytes(await macedTicket(iv, enc.subarray(0, 16)));
  assert.equal(r.status, TicketStatus.NO_DECRYPT);
  assert.equal(r.failure, "badPadding");
  assert.equal(r.keyName.length, 16);
  // The same block with its padding block decrypts (SUCCESS at the byte level).
  const ok = await key.openBytes(await macedTicket(iv, enc));
  assert.equal(ok.status, TicketStatus.SUCCESS);
  assert.equal(ok.plaintext!.toHex(), "00".repeat(16));
});

Deno.test("tls_decrypt_ticket checks 13-14: bad DER or trailing bytes are NO_DECRYPT (keyname_len 16)", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    const cases: [string, Uint8Array][] = [
      ["garbage", new TextEncoder().encode("not an SSL_SESSION")],
      ["trailing byte", Uint8Array.of(...TLS12_DER, 0)],
      ["truncated DER", TLS12_DER.slice(0, 100)],
    ];
    for (const [what, pt] of cases) {
      const ticket = await key.sealBytes(pt);
      const bytes = await key.openBytes(ticket);
      assert.equal(bytes.status, TicketStatus.SUCCESS, `${label} ${what}: bytes open`);
      const r = await key.open(ticket);
      assert.equal(r.status, TicketStatus.NO_DECRYPT, `${label} ${what}`);
      assert.equal(r.session, null);
      assert.equal(r.failure, "badSession");
      assert.equal(r.keyName.length, 16);
    }
  }
});

Deno.test("tickets over 65535 bytes are NO_DECRYPT before any cryptography runs", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    // A name-matched ticket that would otherwise reach the MAC / tag check.
    const big = new Uint8Array(MAX_TICKET_LENGTH + 1);
    big.set(key.name, 0);
    const { result, calls } = await countCrypto(() => key.openBytes(big));
    assert.equal(result.status, TicketStatus.NO_DECRYPT, label);
    assert.equal(result.failure, "tooLong");
    assert.equal(result.keyName.length, 16);
    assert.equal(calls, 0, `${label}: no crypto for an oversized ticket`);
    const edge = await countCrypto(() => key.openBytes(big.subarray(0, MAX_TICKET_LENGTH)));
    assert.equal(edge.result.status, TicketStatus.NO_DECRYPT);
    assert.equal(edge.result.failure, "badMac");
    assert.equal(edge.calls, 1, `${label}: a 65535-byte ticket does reach the crypto`);
    const s = await countCrypto(() => key.open(big));
    assert.equal(s.result.status, TicketStatus.NO_DECRYPT);
    assert.equal(s.calls, 0);
  }
});

Deno.test("every truncation of a valid ticket of each format opens as NO_DECRYPT (EMPTY at 0)", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    const ticket = await key.seal(decodeSession(TLS12_DER));
    for (let n = 0; n < ticket.length; n++) {
      const r = await key.open(ticket.slice(0, n));
      assert.equal(
        r.status,
        n === 0 ? TicketStatus.EMPTY : TicketStatus.NO_DECRYPT,
        `${label} len ${n}`,
      );
      assert.equal(r.session, null);
      assert.equal(r.keyName.length, Math.min(16, n));
    }
  }
});

Deno.test("every single-bit flip of a valid ticket of each format opens as NO_DECRYPT", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    const ticket = await key.seal(decodeSession(TLS12_DER));
    const flipped = ticket.slice();
    for (let bit = 0; bit < ticket.length * 8; bit++) {
      flipped[bit >> 3] ^= 1 << (bit & 7);
      const r = await key.open(flipped);
      assert.equal(r.status, TicketStatus.NO_DECRYPT, `${label} bit ${bit}`);
      assert.equal(r.session, null);
      assert.equal(r.keyName.length, 16);
      flipped[bit >> 3] ^= 1 << (bit & 7);
    }
    assert.equal((await key.open(flipped)).status, TicketStatus.SUCCESS);
  }
});

Deno.test("random byte strings of every length 0..300 open as EMPTY (length 0) or NO_DECRYPT", async () => {
  const keys = await keysOfEachFormat();
  for (let n = 0; n <= 300; n++) {
    const t = crypto.getRandomValues(new Uint8Array(n));
    for (const [label, key] of keys) {
      const r = await key.open(t);
      assert.equal(
        r.status,
        n === 0 ? TicketStatus.EMPTY : TicketStatus.NO_DECRYPT,
        `${label} ${n}`,
      );
      // With the key's own name in front, the MAC or tag check is reached.
      if (n >= 16) {
        const named = t.slice();
        named.set(key.name, 0);
        const rn = await key.open(named);
        assert.equal(rn.status, TicketStatus.NO_DECRYPT, `${label} named ${n}`);
        assert.equal(rn.keyName.length, 16);
      }
    }
  }
});

Deno.test("aes-256-gcm: name-matched tickets of 32..44 bytes are too short (no ciphertext byte)", async () => {
  const key = await TicketKey.generate();
  const ticket = await key.sealBytes(new Uint8Array([7]));
  assert.equal(ticket.length, 45);
  for (let n = 32; n <= 44; n++) {
    const r = await key.openBytes(ticket.subarray(0, n));
    assert.equal(r.status, TicketStatus.NO_DECRYPT);
    assert.equal(r.failure, "tooShort");
  }
  assert.equal((await key.openBytes(ticket)).status, TicketStatus.SUCCESS);
});

Deno.test("construct_stateless_ticket: plaintexts of 0 or over 0xFF00 bytes are refused", async () => {
  for (const [label, key] of await keysOfEachFormat()) {
    await assert.rejects(() => key.sealBytes(new Uint8Array(0)), TicketKeyError, label);
    await assert.rejects(
      () => key.sealBytes(new Uint8Array(MAX_TICKET_PLAINTEXT_LENGTH + 1)),
      (e: unknown) => e instanceof TicketKeyError && /1 to 65280 bytes/.test(e.message),
    );
    await assert.rejects(
      () => key.sealBytes(new Uint8Array(5), { iv: new Uint8Array(13) }),
      TicketKeyError,
    );
    assert.equal(key.sealCount, 0, "refused seals are not counted");
  }
});

Deno.test("seal budget: a key refuses to seal past its budget", async () => {
  const key = await TicketKey.generate({ sealBudget: 3 });
  for (let i = 0; i < 3; i++) await key.sealBytes(new Uint8Array([i + 1]));
  assert.equal(key.sealCount, 3);
  assert.equal(key.exhausted, true);
  await assert.rejects(
    () => key.sealBytes(new Uint8Array([9])),
    (e: unknown) => e instanceof TicketKeyError && /budget of 3/.test(e.message),
  );
  assert.equal(key.sealCount, 3);
  // Opening is unaffected.
  const k2 = await TicketKey.generate({ format: "openssl", sealBudget: 1 });
  const t = await k2.sealBytes(new Uint8Array([1]));
  await assert.rejects(() => k2.sealBytes(new Uint8Array([1])), TicketKeyError);
  assert.equal((await k2.openBytes(t)).status, TicketStatus.SUCCESS);
  // Defaults: 2^28 for GCM, 2^32 for CBC.
  assert.equal((await TicketKey.generate()).sealBudget, 2 ** 28);
  assert.equal((await TicketKey.generate({ format: "openssl" })).sealBudget, 2 ** 32);
  await assert.rejects(() => TicketKey.generate({ sealBudget: -1 }), TicketKeyError);
});

Deno.test("key callback path: anyName opens a ticket whose name is not the key's own", async () => {
  const key = await vectorKey();
  const t = TLS12_TICKET.slice();
  t.set(new Uint8Array(16).fill(0x77), 0); // another name: the MAC covers it, so it fails the MAC
  const r = await key.openBytes(t, { anyName: true });
  assert.equal(r.failure, "badMac");
  const other = await TicketKey.import(
    Uint8Array.of(...new Uint8Array(16).fill(0x77), ...KEYS_00_4F.subarray(16)),
    "openssl-80",
  );
  const sealed = await other.sealBytes(TLS12_DER);
  assert.equal((await key.openBytes(sealed)).failure, "unknownKey");
  assert.equal((await key.openBytes(sealed, { anyName: true })).status, TicketStatus.SUCCESS);
});

// ---------------------------------------------------------------------------------------------
// Issue 11: the early checks and the decode of an opened ticket are public, for the server layer

Deno.test("issue 11: precheckTicket is tls_decrypt_ticket's checks 1 and 3 (and the 65535 cap), before any key", () => {
  const empty = precheckTicket(new Uint8Array(0));
  assert.deepEqual(empty, {
    status: TicketStatus.EMPTY,
    plaintext: null,
    keyName: new Uint8Array(0),
    failure: null,
  });
  for (const n of [1, 10, 16, 31]) {
    const t = new Uint8Array(n).map((_, i) => i);
    const r = precheckTicket(t)!;
    assert.equal(r.status, TicketStatus.NO_DECRYPT, `len ${n}`);
    assert.equal(r.failure, "tooShort");
    assert.deepEqual(r.keyName, t.subarray(0, Math.min(16, n))); // keyname_len min(16, len)
    assert.equal(r.keyName.buffer, t.buffer); // a view, no copy
  }
  const long = precheckTicket(new Uint8Array(MAX_TICKET_LENGTH + 1))!;
  assert.deepEqual([long.status, long.failure, long.keyName.length], [4, "tooLong", 16]);
  assert.equal(precheckTicket(new Uint8Array(MIN_TICKET_LENGTH)), null);
  assert.equal(precheckTicket(new Uint8Array(MAX_TICKET_LENGTH)), null);
});

Deno.test("issue 11: ticketKeyName and noDecryptTicket give OpenSSL's keyname/keyname_length", () => {
  const t = new Uint8Array(64).map((_, i) => i);
  assert.deepEqual(ticketKeyName(t), t.subarray(0, TICKET_KEY_NAME_LENGTH));
  assert.equal(ticketKeyName(t, 5).length, 5); // a MAC-valid CBC ticket with 5 ciphertext bytes
  assert.equal(ticketKeyName(t.subarray(0, 9)).length, 9);
  const r = noDecryptTicket(t, 16, "unknownKey");
  assert.deepEqual(r, {
    status: TicketStatus.NO_DECRYPT,
    plaintext: null,
    keyName: t.subarray(0, 16),
    failure: "unknownKey",
  });
});

Deno.test("issue 11: decodeOpenedTicket is d2i_SSL_SESSION plus the trailing-bytes check (tls_decrypt_ticket checks 13-14)", async () => {
  const key = await vectorKey();
  const ok = decodeOpenedTicket(await key.openBytes(TLS12_TICKET));
  assert.equal(ok.status, TicketStatus.SUCCESS);
  assert.equal(encodeSession(ok.session!).toHex(), TLS12_DER.toHex());
  assert.equal(ok.failure, null);
  const trailing = decodeOpenedTicket({
    status: TicketStatus.SUCCESS,
    plaintext: Uint8Array.of(...TLS12_DER, 0),
    keyName: NAME,
    failure: null,
  });
  assert.deepEqual(trailing, {
    status: TicketStatus.NO_DECRYPT,
    session: null,
    keyName: NAME,
    failure: "badSession",
  });
  const passed = decodeOpenedTicket(noDecryptTicket(TLS12_TICKET, 16, "badMac"));
  assert.deepEqual(passed, {
    status: TicketStatus.NO_DECRYPT,
    session: null,
    keyName: TLS12_TICKET.subarray(0, 16),
    failure: "badMac",
  });
});
