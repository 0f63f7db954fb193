// Tests for TicketKeyRing (src/ticket/key_ring.ts): key states and rotation with a fake clock.
// OpenSSL holds one key and has no rotation (ssl/s3_lib.c:ssl3_ctx_ctrl replaces it); the
// states follow the renew-on-old-key behaviour of nginx's ngx_ssl_ticket_key_callback and
// HAProxy's ssl_tlsext_ticket_key_cb (return 2 = SUCCESS_RENEW for a non-encrypting key), and
// tls_decrypt_ticket's check order (ssl/t1_lib.c) for everything that does not open.
import assert from "node:assert/strict";
import { NoSealingKeyError, TicketKeyError } from "../src/ticket/errors.ts";
import { decodeSession, encodeSession, encodeSessionTransient } from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { TicketKeyRing } from "../src/ticket/key_ring.ts";
import { TicketKeySet } from "../src/ticket/key_set.ts";
import { KEYS_00_4F, TLS12_DER, TLS12_TICKET, TLS13_DER } from "./_vectors.ts";

const HOUR = 3600_000;
const PT = Uint8Array.of(1, 2, 3);
const isKeyError = (re: RegExp) => (e: unknown) =>
  e instanceof TicketKeyError && re.test(e.message);
const startsWith = (t: Uint8Array, k: TicketKey) => t.subarray(0, 16).toHex() === k.nameHex;

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

Deno.test("rotation with a fake clock: SUCCESS while active, SUCCESS_RENEW after, NO_DECRYPT once retired", async () => {
  const c = clock();
  const ring = new TicketKeyRing({
    now: c.now,
    rotationInterval: HOUR,
    decryptOnlyPeriod: 2 * HOUR,
  });
  const a = await TicketKey.generate();
  const b = await TicketKey.generate();
  ring.add(a);
  ring.add(b, { state: "pending" });
  assert.equal(ring.stateOf(a), "active");
  assert.equal(ring.stateOf(b), "pending");
  const ta = await ring.sealBytes(PT);
  assert.ok(startsWith(ta, a));
  assert.equal((await ring.openBytes(ta)).status, TicketStatus.SUCCESS);
  c.t = HOUR - 1;
  assert.equal((await ring.openBytes(ta)).status, TicketStatus.SUCCESS);
  assert.equal(ring.activeKey, a);
  c.t = HOUR; // B takes over
  assert.equal(ring.activeKey, b);
  assert.equal(ring.stateOf(a), "decrypt-only");
  const r = await ring.openBytes(ta);
  assert.equal(r.status, TicketStatus.SUCCESS_RENEW);
  assert.equal(r.plaintext!.toHex(), PT.toHex());
  const tb = await ring.sealBytes(PT);
  assert.ok(startsWith(tb, b));
  assert.equal((await ring.openBytes(tb)).status, TicketStatus.SUCCESS);
  c.t = 3 * HOUR - 1;
  assert.equal((await ring.openBytes(ta)).status, TicketStatus.SUCCESS_RENEW);
  c.t = 3 * HOUR; // A retired: forgotten
  const gone = await ring.openBytes(ta);
  assert.equal(gone.status, TicketStatus.NO_DECRYPT);
  assert.equal(gone.failure, "unknownKey");
  assert.equal(gone.keyName.toHex(), a.nameHex);
  assert.equal(ring.stateOf(a), null);
  assert.equal(ring.size, 1);
  // B stays active: with no pending key there is nothing to rotate to.
  c.t = 10 * HOUR;
  assert.equal(ring.activeKey, b);
  const m = ring.metrics();
  assert.equal(m.rotations, 2);
  assert.equal(m.retired, 1);
  assert.equal(m.unknownKey, 1);
});

Deno.test("session level: sealed under A opens SUCCESS, SUCCESS_RENEW after B took over, NO_DECRYPT after", async () => {
  const c = clock(1_000_000);
  const ring = new TicketKeyRing({ now: c.now, rotationInterval: HOUR, decryptOnlyPeriod: HOUR });
  ring.add(await TicketKey.generate({ format: "openssl" }));
  ring.add(await TicketKey.generate(), { state: "pending" });
  const session = decodeSession(TLS13_DER);
  const ticket = await ring.seal(session);
  const r1 = await ring.open(ticket);
  assert.equal(r1.status, TicketStatus.SUCCESS);
  assert.equal(encodeSession(r1.session!).toHex(), TLS13_DER.toHex());
  c.t += HOUR;
  const r2 = await ring.open(ticket);
  assert.equal(r2.status, TicketStatus.SUCCESS_RENEW);
  assert.equal(r2.session!.ticketAgeAdd, 0x6cc2081e);
  c.t += HOUR;
  const r3 = await ring.open(ticket);
  assert.equal(r3.status, TicketStatus.NO_DECRYPT);
  assert.equal(r3.session, null);
  assert.equal(r3.keyName.length, 16);
});

Deno.test("a pending key never seals, but opens tickets sealed with it elsewhere (SUCCESS)", async () => {
  const ring = new TicketKeyRing({ rotationInterval: Infinity });
  const a = await TicketKey.generate();
  const p = await TicketKey.generate();
  ring.add(a);
  ring.add(p, { state: "pending" });
  for (let i = 0; i < 50; i++) assert.ok(startsWith(await ring.sealBytes(PT), a));
  const fromFleet = await p.sealBytes(PT); // another server already switched to p
  assert.equal((await ring.openBytes(fromFleet)).status, TicketStatus.SUCCESS);
  assert.equal(ring.stateOf(p), "pending");
  // A ring holding only a pending key seals nothing.
  const only = new TicketKeyRing();
  only.add(await TicketKey.generate(), { state: "pending" });
  assert.equal(only.activeKey, null);
  await assert.rejects(() => only.sealBytes(PT), isKeyError(/no active key/));
  assert.equal(only.lifetimeHint(7200), 0);
});

Deno.test("exactly one active key: adding an active key demotes the previous one", async () => {
  const c = clock();
  const ring = new TicketKeyRing({ now: c.now, decryptOnlyPeriod: HOUR });
  const a = await TicketKey.generate();
  const b = await TicketKey.generate();
  ring.add(a);
  const ta = await ring.sealBytes(PT);
  ring.add(b, { state: "active" });
  assert.equal(ring.stateOf(a), "decrypt-only");
  assert.equal(ring.stateOf(b), "active");
  assert.deepEqual(ring.keys().map((k) => k.state), ["decrypt-only", "active"]);
  assert.equal(ring.keys()[0].retireAt, HOUR);
  assert.equal((await ring.openBytes(ta)).status, TicketStatus.SUCCESS_RENEW);
  assert.throws(() => ring.add(a), isKeyError(/already in the ring/));
  assert.throws(() => ring.add(b, { state: "bogus" as "active" }), isKeyError(/unknown key state/));
});

Deno.test("rotate(): next pending key, a given key, or a TicketKeyError when there is none", async () => {
  const c = clock();
  const ring = new TicketKeyRing({
    now: c.now,
    rotationInterval: Infinity,
    decryptOnlyPeriod: HOUR,
  });
  const a = await TicketKey.generate();
  const b = await TicketKey.generate();
  ring.add(a);
  await assert.rejects(() => ring.rotate(), isKeyError(/no pending ticket key to rotate to/));
  ring.add(b, { state: "pending" });
  assert.equal(await ring.rotate(), b);
  assert.equal(ring.stateOf(a), "decrypt-only");
  const d = await TicketKey.generate({ format: "openssl" });
  assert.equal(await ring.rotate(d), d);
  assert.equal(ring.stateOf(b), "decrypt-only");
  assert.equal(ring.activeKey, d);
  // Re-activating a decrypt-only key is allowed.
  assert.equal(await ring.rotate(a), a);
  assert.equal(ring.stateOf(d), "decrypt-only");
  // A different key object with a name already held is refused.
  const clash = await TicketKey.generate({ name: a.name });
  await assert.rejects(() => ring.rotate(clash), isKeyError(/another ticket key named/));
  assert.equal(ring.metrics().rotations, 4);
});

Deno.test("scheduled activation (activateAt) and retirement (retireAt)", async () => {
  const c = clock();
  const ring = new TicketKeyRing({
    now: c.now,
    rotationInterval: Infinity,
    decryptOnlyPeriod: 10 * HOUR,
  });
  const a = await TicketKey.generate();
  const b = await TicketKey.generate();
  ring.add(a, { retireAt: 5 * HOUR });
  ring.add(b, { state: "pending", activateAt: 2 * HOUR });
  c.t = 2 * HOUR - 1;
  assert.equal(ring.activeKey, a);
  c.t = 2 * HOUR;
  assert.equal(ring.activeKey, b);
  assert.equal(ring.keys()[0].retireAt, 5 * HOUR); // explicit retireAt beats decryptOnlyPeriod
  c.t = 5 * HOUR;
  assert.equal(ring.stateOf(a), null);
  // When the clock jumps past several schedules, they apply in order.
  const d = await TicketKey.generate();
  const e = await TicketKey.generate();
  ring.add(e, { state: "pending", activateAt: 7 * HOUR });
  ring.add(d, { state: "pending", activateAt: 6 * HOUR });
  c.t = 8 * HOUR;
  assert.equal(ring.activeKey, e);
  assert.equal(ring.stateOf(d), "decrypt-only");
  assert.equal(ring.stateOf(b), "decrypt-only");
});

Deno.test("decrypt-only keys added directly open as SUCCESS_RENEW; formats may be mixed", async () => {
  const ring = new TicketKeyRing();
  const gcm = await TicketKey.generate();
  ring.add(gcm);
  // An OpenSSL / nginx key from the fleet, opening tickets the OpenSSL servers issued.
  ring.add(await TicketKey.import(KEYS_00_4F, "nginx-80"), { state: "decrypt-only" });
  const r = await ring.openBytes(TLS12_TICKET);
  assert.equal(r.status, TicketStatus.SUCCESS_RENEW);
  assert.equal(r.plaintext!.toHex(), TLS12_DER.toHex());
  const s = await ring.open(TLS12_TICKET);
  assert.equal(s.status, TicketStatus.SUCCESS_RENEW);
  assert.equal(s.session!.cipherId, 0xc030);
  const t = await ring.sealBytes(TLS12_DER);
  assert.ok(startsWith(t, gcm));
  assert.equal(t.length, 16 + 12 + 107 + 16);
});

Deno.test("seal budget: a spent active key hands over to the pending key, else sealing fails", async () => {
  const ring = new TicketKeyRing({ rotationInterval: Infinity });
  const a = await TicketKey.generate({ sealBudget: 2 });
  const b = await TicketKey.generate({ sealBudget: 1 });
  ring.add(a);
  ring.add(b, { state: "pending" });
  assert.ok(startsWith(await ring.sealBytes(PT), a));
  assert.ok(startsWith(await ring.sealBytes(PT), a));
  assert.ok(startsWith(await ring.sealBytes(PT), b)); // a spent: b takes over
  assert.equal(ring.stateOf(a), "decrypt-only");
  await assert.rejects(() => ring.sealBytes(PT), isKeyError(/sealed its budget of 1 tickets/));
  const m = ring.metrics();
  assert.deepEqual(m.keys.map((k) => [k.sealed, k.sealCount, k.sealBudget]), [[2, 2, 2], [
    1,
    1,
    1,
  ]]);
});

Deno.test("self-managing ring: create() keeps an active and a pending key and rotates on time", async () => {
  const c = clock();
  const ring = await TicketKeyRing.create({
    now: c.now,
    rotationInterval: HOUR,
    decryptOnlyPeriod: HOUR,
    generate: { format: "openssl" },
  });
  assert.deepEqual(ring.keys().map((k) => k.state), ["active", "pending"]);
  const [first, second] = ring.keys().map((k) => k.key);
  assert.equal(first.format, "openssl");
  const t = await ring.sealBytes(PT);
  c.t = HOUR;
  assert.equal(ring.activeKey, second);
  await ring.ready(); // the next pending key is generated in the background
  assert.deepEqual(ring.keys().map((k) => k.state), ["decrypt-only", "active", "pending"]);
  assert.equal((await ring.openBytes(t)).status, TicketStatus.SUCCESS_RENEW);
  c.t = 2 * HOUR;
  await ring.ready();
  assert.deepEqual(ring.keys().map((k) => k.state), ["decrypt-only", "active", "pending"]);
  assert.equal(ring.stateOf(first), null);
  assert.equal((await ring.openBytes(t)).status, TicketStatus.NO_DECRYPT);
  // rotate() with generation and no pending key generates one.
  const gen = new TicketKeyRing({ generate: {} });
  await gen.ready();
  const before = gen.activeKey;
  const after = await gen.rotate();
  assert.notEqual(before, after);
  assert.equal(gen.activeKey, after);
  // The default format is AES-256-GCM.
  assert.equal((await TicketKeyRing.create()).activeKey!.format, "aes-256-gcm");
});

Deno.test("lifetimeHint never exceeds the sealing key's remaining decrypt life", async () => {
  const c = clock();
  const ring = new TicketKeyRing({
    now: c.now,
    rotationInterval: HOUR,
    decryptOnlyPeriod: 2 * HOUR,
  });
  ring.add(await TicketKey.generate());
  assert.equal(ring.lifetimeHint(7200), 7200);
  assert.equal(ring.lifetimeHint(100_000), 3 * 3600);
  c.t = 30 * 60_000;
  assert.equal(ring.lifetimeHint(100_000), 2.5 * 3600);
  c.t = 5 * HOUR; // rotation overdue but no pending key: it may stop sealing any moment
  assert.equal(ring.lifetimeHint(100_000), 2 * 3600);
  const r2 = new TicketKeyRing({ now: c.now, rotationInterval: HOUR, decryptOnlyPeriod: HOUR });
  r2.add(await TicketKey.generate());
  c.t += 1; // whole seconds, rounded down
  assert.equal(r2.lifetimeHint(100_000), 7199);
  // A scheduled successor and an explicit retireAt shorten it.
  const s = new TicketKeyRing({ now: c.now, rotationInterval: Infinity, decryptOnlyPeriod: HOUR });
  s.add(await TicketKey.generate(), { retireAt: c.t + 600_000 });
  assert.equal(s.lifetimeHint(7200), 600);
  const s2 = new TicketKeyRing({ now: c.now, rotationInterval: Infinity, decryptOnlyPeriod: HOUR });
  s2.add(await TicketKey.generate());
  assert.equal(s2.lifetimeHint(1e9), 1e9);
  s2.add(await TicketKey.generate(), { state: "pending", activateAt: c.t + 60_000 });
  assert.equal(s2.lifetimeHint(1e9), 60 + 3600);
  assert.equal(s2.lifetimeHint(-5), 0);
});

Deno.test("metrics: per-key sealed/opened/renewed and failures by reason, as a plain object", async () => {
  const c = clock();
  const ring = new TicketKeyRing({ now: c.now, rotationInterval: HOUR, decryptOnlyPeriod: HOUR });
  const vec = await TicketKey.import(KEYS_00_4F, "openssl-80");
  const g = await TicketKey.generate();
  ring.add(vec);
  ring.add(g, { state: "pending" });
  const t = await ring.sealBytes(TLS12_DER);
  await ring.openBytes(t);
  const bad = t.slice();
  bad[40] ^= 1;
  await ring.openBytes(bad); // badMac
  await ring.openBytes(t.subarray(0, 64)); // tooShort (check 8)
  await ring.openBytes(t.subarray(0, 20)); // tooShort (check 3, ring level)
  await ring.openBytes(new Uint8Array(0)); // empty
  await ring.openBytes(new Uint8Array(70_000)); // tooLong
  await ring.openBytes(new Uint8Array(100)); // unknownKey
  const garbage = await vec.sealBytes(new Uint8Array([5, 5, 5]));
  assert.equal((await ring.open(garbage)).failure, "badSession");
  const maced = await vec.sealBytes(TLS12_DER);
  const padded = Uint8Array.of(...maced.subarray(0, 65));
  padded.set(maced.subarray(maced.length - 32), 33); // keeps its length, fails the MAC
  await ring.openBytes(padded);
  c.t = HOUR;
  await ring.openBytes(t); // renewed
  assert.equal((await ring.open(TLS12_TICKET)).status, TicketStatus.SUCCESS_RENEW);
  const m = ring.metrics();
  assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
  assert.deepEqual(m.keys[0], {
    name: vec.nameHex,
    format: "openssl",
    cipher: "AES-256-CBC-HMAC-SHA256",
    state: "decrypt-only",
    sealed: 1,
    sealCount: 3,
    sealBudget: 2 ** 32,
    opened: 3,
    renewed: 2,
    failures: { tooShort: 1, badMac: 2, badPadding: 0, badSession: 1 },
  });
  assert.equal(m.keys[1].state, "active");
  assert.equal(m.empty, 1);
  assert.equal(m.tooShort, 1);
  assert.equal(m.tooLong, 1);
  assert.equal(m.unknownKey, 1);
  assert.equal(m.rotations, 2);
  assert.equal(m.retired, 0);
  assert.equal(m.generationErrors, 0);
});

Deno.test("ring open: over 65535 bytes is refused before any cryptography (spy on crypto.subtle)", async () => {
  const ring = new TicketKeyRing();
  const key = await TicketKey.generate({ format: "openssl" });
  ring.add(key);
  const big = new Uint8Array(65536);
  big.set(key.name);
  const subtle = crypto.subtle as unknown as Record<string, unknown>;
  const saved = { sign: subtle.sign, decrypt: subtle.decrypt };
  let calls = 0;
  subtle.sign = () => {
    calls++;
    return Promise.reject(new Error("spy"));
  };
  subtle.decrypt = subtle.sign;
  try {
    const r = await ring.openBytes(big);
    assert.equal(r.status, TicketStatus.NO_DECRYPT);
    assert.equal(r.failure, "tooLong");
    assert.equal(r.keyName.length, 16);
    const s = await ring.open(big);
    assert.equal(s.status, TicketStatus.NO_DECRYPT);
    assert.equal(calls, 0);
  } finally {
    Object.assign(subtle, saved);
  }
});

Deno.test("ring open: random and mutated tickets are EMPTY or NO_DECRYPT, never an exception", async () => {
  const ring = new TicketKeyRing();
  const keys = [
    await TicketKey.generate(),
    await TicketKey.generate({ format: "openssl" }),
    await TicketKey.generate({ format: "openssl", aesBits: 128 }),
  ];
  ring.add(keys[0]);
  ring.add(keys[1], { state: "decrypt-only" });
  ring.add(keys[2], { state: "pending" });
  for (let n = 0; n <= 300; n++) {
    const t = crypto.getRandomValues(new Uint8Array(n));
    const want = n === 0 ? TicketStatus.EMPTY : TicketStatus.NO_DECRYPT;
    assert.equal((await ring.open(t)).status, want, `random ${n}`);
    if (n >= 16) {
      const named = t.slice();
      named.set(keys[n % 3].name);
      assert.equal((await ring.open(named)).status, TicketStatus.NO_DECRYPT, `named ${n}`);
    }
  }
  for (const k of keys) {
    const ticket = await k.seal(decodeSession(TLS12_DER));
    for (let n = 0; n < ticket.length; n++) {
      const r = await ring.open(ticket.subarray(0, n));
      assert.equal(r.status, n === 0 ? TicketStatus.EMPTY : TicketStatus.NO_DECRYPT);
      assert.equal(r.keyName.length, Math.min(16, n));
    }
  }
});

Deno.test("retire(): the key is forgotten at once; by name or by key", async () => {
  const ring = new TicketKeyRing();
  const a = await TicketKey.generate();
  const b = await TicketKey.generate();
  ring.add(a);
  ring.add(b, { state: "decrypt-only" });
  const tb = await b.sealBytes(PT);
  assert.equal(ring.retire(b.name), true);
  assert.equal(ring.retire(b), false);
  assert.equal((await ring.openBytes(tb)).failure, "unknownKey");
  assert.equal(ring.retire(new Uint8Array(3)), false);
  assert.equal(ring.retire(a), true);
  assert.equal(ring.activeKey, null);
  await assert.rejects(() => ring.sealBytes(PT), isKeyError(/no active key/));
  assert.equal(ring.metrics().retired, 2);
});

Deno.test("many keys: lookup by name finds each of 500 keys", async () => {
  const ring = new TicketKeyRing({ rotationInterval: Infinity });
  const keys: TicketKey[] = [];
  for (let i = 0; i < 500; i++) {
    const k = await TicketKey.generate();
    keys.push(k);
    ring.add(k, { state: i === 0 ? "active" : "decrypt-only" });
  }
  for (const i of [0, 1, 250, 499]) {
    const r = await ring.openBytes(await keys[i].sealBytes(PT));
    assert.equal(r.status, i === 0 ? TicketStatus.SUCCESS : TicketStatus.SUCCESS_RENEW);
  }
});

Deno.test("options and inspection: bad intervals are TicketKeyErrors; no secrets in inspect", async () => {
  assert.throws(() => new TicketKeyRing({ rotationInterval: 0 }), isKeyError(/rotationInterval/));
  assert.throws(
    () => new TicketKeyRing({ decryptOnlyPeriod: -1 }),
    isKeyError(/decryptOnlyPeriod/),
  );
  assert.throws(() => new TicketKeyRing({ now: 5 as unknown as () => number }), TicketKeyError);
  const ring = new TicketKeyRing();
  const raw = Uint8Array.from({ length: 48 }, (_, i) => 0x80 + i);
  ring.add(await TicketKey.import(raw, "gcm"));
  const shown = Deno.inspect(ring) + JSON.stringify(ring) + JSON.stringify(ring.metrics());
  assert.ok(shown.includes(raw.subarray(0, 16).toHex()));
  assert.ok(!shown.includes(raw.subarray(16, 24).toHex()));
});

// ---------------------------------------------------------------------------------------------
// Issue 11: safe by default

Deno.test("issue 11: ring.open(null) and other non-bytes return a rejected promise with TicketKeyError, never throw", async () => {
  const ring = await TicketKeyRing.create();
  const cases: [unknown, string][] = [
    [null, "null"],
    [undefined, "undefined"],
    ["AAAA", "string"],
    [42, "number"],
    [[1, 2], "an array"],
  ];
  for (const [bad, type] of cases) {
    for (const p of [ring.open(bad as Uint8Array), ring.openBytes(bad as Uint8Array)]) {
      assert.ok(p instanceof Promise); // reached only when the call did not throw
      await assert.rejects(
        p,
        (e) =>
          e instanceof TicketKeyError &&
          e.message === `a ticket to open is a Uint8Array, got ${type}`,
      );
    }
  }
  const m = ring.metrics();
  assert.equal(m.empty + m.tooShort + m.tooLong + m.unknownKey, 0); // nothing counted
});

Deno.test("issue 11: ring seal/sealBytes of a non-session or non-bytes reject with TicketKeyError (with and without an active key)", async () => {
  const ring = await TicketKeyRing.create();
  const empty = new TicketKeyRing();
  for (const r of [ring, empty]) {
    await assert.rejects(
      r.sealBytes(null as unknown as Uint8Array),
      isKeyError(/^a ticket plaintext is a Uint8Array, got null$/),
    );
    await assert.rejects(
      r.seal("session" as unknown as SslSession),
      isKeyError(/^seal takes an SslSession, got string$/),
    );
  }
  assert.equal(ring.metrics().keys[0].sealed, 0);
});

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("issue 11: TicketKeyRing.seal wipes the master key from the codec's shared encode buffer (fast path and waiting for a key)", async () => {
  const master = Uint8Array.from({ length: 48 }, (_, i) => 0x3c ^ (i * 7));
  const session = new SslSession({
    cipherId: 0x1302,
    sslVersion: 0x0304,
    masterKey: master,
    time: 1_700_000_000,
    timeout: 7200,
  });
  const scratch = new Uint8Array(encodeSessionTransient(new SslSession()).buffer);
  encodeSessionTransient(session); // control: an encode alone leaves the key there
  assert.equal(contains(scratch, master), true);
  scratch.fill(0);
  const ring = await TicketKeyRing.create();
  const fast = ring.seal(session);
  assert.equal(scratch.every((b) => b === 0), true);
  // No active key yet: the seal copies the plaintext, waits for the generated key, then seals.
  const waiting = new TicketKeyRing({ generate: { format: "openssl" } });
  const slow = waiting.seal(session);
  assert.equal(scratch.every((b) => b === 0), true);
  assert.deepEqual((await ring.open(await fast)).session?.masterKey, master);
  assert.deepEqual((await waiting.open(await slow)).session?.masterKey, master);
  assert.equal(scratch.every((b) => b === 0), true);
  assert.equal(encodeSessionTransient(session).buffer, scratch.buffer); // the same buffer
  scratch.fill(0);
});

/** The NoSealingKeyError a seal rejects with (failing on success or any other error). */
async function refusal(p: Promise<unknown>): Promise<NoSealingKeyError> {
  const e = await p.then(() => null, (e) => e);
  assert.ok(e instanceof NoSealingKeyError, `expected a NoSealingKeyError, got ${String(e)}`);
  return e;
}

Deno.test("issue 13: no ticket is not a failed handshake: a ring with no key that can seal refuses with NoSealingKeyError saying why (no-key, not-yet, retired), counted in metrics", async () => {
  const c = clock(0);
  const ring = new TicketKeyRing({ now: c.now, rotationInterval: HOUR, decryptOnlyPeriod: HOUR });
  let e = await refusal(ring.sealBytes(PT));
  assert.equal(e.reason, "no-key");
  assert.equal(e.message, "the ticket key ring has no active key: add one or call rotate()");
  const k = await TicketKey.generate();
  ring.add(k, { state: "pending", activateAt: 60_000 });
  e = await refusal(ring.sealBytes(PT));
  assert.equal(e.reason, "not-yet");
  assert.equal(e.sealsFrom, 60_000);
  assert.equal(
    e.message,
    "the ticket key ring has no active key yet: its next key seals from 1970-01-01T00:01:00.000Z",
  );
  const s = new SslSession({ cipherId: 0x1301, time: 1, timeout: 60 });
  assert.equal((await refusal(ring.seal(s))).reason, "not-yet"); // seal() as sealBytes()
  c.t = 60_000;
  assert.ok(startsWith(await ring.sealBytes(PT), k));
  c.t = 60_000 + HOUR; // no successor: k stays active (nothing to rotate to)
  assert.equal(ring.activeKey, k);
  ring.retire(k);
  e = await refusal(ring.sealBytes(PT));
  assert.equal(e.reason, "retired");
  assert.match(
    e.message,
    /^the ticket key ring has no active key: the keys it held stopped sealing/,
  );
  assert.deepEqual(ring.metrics().sealsRefused, {
    "not-yet": 2,
    "budget-spent": 0,
    retired: 1,
    "no-key": 1,
  });
});

Deno.test("issue 13: a spent budget with no pending key to take over is NoSealingKeyError budget-spent; a scheduled successor takes over at its time", async () => {
  const c = clock(0);
  const ring = new TicketKeyRing({ now: c.now, rotationInterval: Infinity });
  const a = await TicketKey.generate({ sealBudget: 1 });
  const b = await TicketKey.generate();
  ring.add(a);
  ring.add(b, { state: "pending", activateAt: 5_000 });
  assert.ok(startsWith(await ring.sealBytes(PT), a));
  const e = await refusal(ring.sealBytes(PT));
  assert.equal(e.reason, "budget-spent");
  assert.equal(e.sealsFrom, 5_000);
  assert.equal(
    e.message,
    `the ticket key ring's active key ${a.nameHex} has sealed its budget of 1 tickets and no ` +
      "pending key can take over before 1970-01-01T00:00:05.000Z: add one or call rotate()",
  );
  assert.equal(ring.metrics().sealsRefused["budget-spent"], 1);
  c.t = 5_000;
  assert.ok(startsWith(await ring.sealBytes(PT), b));
});

Deno.test("issue 13, one state machine for a key: the key set holds states and counters and knows no time: one active key seals; pending and active open SUCCESS, decrypt-only SUCCESS_RENEW, a removed key NO_DECRYPT", async () => {
  const set = new TicketKeySet<string>();
  const [k1, k2, k3] = await Promise.all([1, 2, 3].map(() => TicketKey.generate()));
  const e1 = set.add(k1, "active", "one");
  const e2 = set.add(k2, "pending", "two");
  const e3 = set.add(k3, "decrypt-only", "three");
  assert.throws(() => set.add(k1, "pending", "again"), TicketKeyError);
  assert.equal(set.active, e1);
  const pt = Uint8Array.of(7);
  const t1 = await set.sealWith(e1, pt);
  const t3 = await k3.sealBytes(pt);
  const t2 = await k2.sealBytes(pt);
  const status = async (t: Uint8Array) => (await set.openBytes(t)).status;
  assert.deepEqual(
    [await status(t1), await status(t2), await status(t3)],
    [TicketStatus.SUCCESS, TicketStatus.SUCCESS, TicketStatus.SUCCESS_RENEW],
  );
  assert.equal(set.activate(e2), e1); // the previous active key becomes decrypt-only
  assert.deepEqual([e1.state, e2.state, set.active?.meta], ["decrypt-only", "active", "two"]);
  assert.equal(await status(t1), TicketStatus.SUCCESS_RENEW);
  set.demote(e2, "decrypt-only");
  assert.equal(set.active, null);
  set.remove(e3);
  assert.equal(await status(t3), TicketStatus.NO_DECRYPT);
  const m = set.metrics(0);
  assert.deepEqual(
    [m.rotations, m.retired, m.unknownKey, m.keys.map((k) => [k.state, k.sealed])],
    [2, 1, 1, [["decrypt-only", 1], ["decrypt-only", 0]]],
  );
});
