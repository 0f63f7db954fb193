// Tests for ServerConnection (src/server/server_connection.ts) and the ticket decision it runs
// (src/server/_decrypt_ticket.ts): what the application's callbacks may return. OpenSSL's C
// callbacks cannot return a value of the wrong type; a JavaScript callback can, and issue 11
// asks that a ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb) returning something
// that is not a TicketKey, or a psk_find_session callback (SSL_CTX_set_psk_find_session_callback)
// returning something that is not an SslSession, end the handshake as a throwing callback does:
// internal_error (80), the message naming the callback and the type of what it returned, never
// its bytes.
import assert from "node:assert/strict";
import { TlsAlert } from "../src/server/alert.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import type { TicketKeyCallback, TicketKeyCallbackResult } from "../src/server/callbacks.ts";
import type { ClientHello } from "../src/server/server_connection.ts";
import { SslContext, type SslContextOptions } from "../src/server/ssl_context.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { TicketKeyRing } from "../src/ticket/key_ring.ts";
import { NoSealingKeyError, TicketKeyError } from "../src/ticket/errors.ts";
import type { TicketSealer } from "../src/ticket/sealer.ts";

const TLS12 = 0x0303;
const TLS13 = 0x0304;
/** TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (TLS 1.2). */
const ECDHE_AES256_GCM = 0xc030;
/** TLS_AES_128_GCM_SHA256 (TLS 1.3, SHA-256: 32-byte binders). */
const AES128_GCM = 0x1301;
const VERSIONS = [TLS12, TLS13] as const;
const tls = (v: number) => (v === TLS12 ? "TLS 1.2" : "TLS 1.3");

/** A secret an application might hand back by mistake: it must never reach a message. */
const SECRET = "s3cr3t-ticket-key-material";
const RAW_KEY = new Uint8Array(80).map((_, i) => 0xa0 ^ i);

const key = await TicketKey.import(new Uint8Array(48).map((_, i) => i + 1), "node-48");

/** The alert a promise rejects with (failing when it resolves or throws anything else). */
async function alertOf(p: Promise<unknown>): Promise<{ alert: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TlsAlert) return { alert: e.alert, message: e.message };
    throw e;
  }
  assert.fail("expected a TlsAlert, the call succeeded");
}

async function context(options: SslContextOptions): Promise<SslContext> {
  return await SslContext.create({ sessionCacheSize: 0, ...options });
}

/** A full handshake up to its first NewSessionTicket (`tls_construct_new_session_ticket`). */
async function issue(ctx: SslContext, version: number) {
  const conn = ctx.newConnection();
  if (version === TLS12) {
    await conn.processClientHello({ version, sessionTicket: new Uint8Array(0) });
    conn.establishSession({
      cipherId: ECDHE_AES256_GCM,
      masterKey: new Uint8Array(48).fill(7),
      extendedMasterSecret: true,
    });
    return { conn, tickets: conn.newSessionTickets() };
  }
  await conn.processClientHello({ version, cipherSuite: AES128_GCM });
  conn.establishSession({ cipherId: AES128_GCM });
  return {
    conn,
    tickets: conn.newSessionTickets({ resumptionMasterSecret: new Uint8Array(32).fill(9) }),
  };
}

/** A resuming ClientHello offering `identity` (TLS 1.2 ticket, or TLS 1.3 PSK identity). */
function resumeHello(version: number, identity: Uint8Array): ClientHello {
  if (version === TLS12) {
    return {
      version,
      sessionTicket: identity,
      extendedMasterSecret: true,
      cipherSuites: [ECDHE_AES256_GCM],
    };
  }
  return {
    version,
    cipherSuite: AES128_GCM,
    pskKeyExchangeModes: [1],
    preSharedKey: {
      identities: [{ identity, obfuscatedTicketAge: 0 }],
      binders: [new Uint8Array(32)],
    },
  };
}

/** What a ticket key callback may wrongly return, and the end of the message it gets. */
const BAD_RESULTS: [string, () => unknown, string][] = [
  [
    "{ ret: 1, key: {} }",
    () => ({ ret: 1, key: {} }),
    "returned ret 1 with key = a plain object, not a TicketKey",
  ],
  [
    "{ ret: 1, key: <80 raw key bytes> }",
    () => ({ ret: 1, key: RAW_KEY }),
    "returned ret 1 with key = a Uint8Array, not a TicketKey",
  ],
  [
    "{ ret: 1, key: <a secret string> }",
    () => ({ ret: 1, key: SECRET }),
    "returned ret 1 with key = a string, not a TicketKey",
  ],
  ["{ ret: 2 } without a key", () => ({ ret: 2 }), "returned ret 2 without a key"],
  ["a string", () => SECRET, "returned a string, not a { ret, key } result"],
  ["42", () => 42, "returned the number 42, not a { ret, key } result"],
  ["null", () => null, "returned null, not a { ret, key } result"],
  [
    '{ ret: "1", key }',
    () => ({ ret: "1", key }),
    "returned ret = a string, not an integer",
  ],
  ["{ ret: 1.5, key }", () => ({ ret: 1.5, key }), "returned ret = the number 1.5, not an integer"],
  ["{ ret: -1 }", () => ({ ret: -1 }), "returned ret -1 (fatal)"],
  [
    "a Promise of { ret: 1, key: {} }",
    () => Promise.resolve({ ret: 1, key: {} }),
    "returned ret 1 with key = a plain object, not a TicketKey",
  ],
  [
    "a throw",
    () => {
      throw new Error(SECRET);
    },
    "threw or rejected",
  ],
  ["a rejected Promise", () => Promise.reject(new Error(SECRET)), "threw or rejected"],
];

const asCallback = (f: () => unknown) => f as () => TicketKeyCallbackResult;

/** A dec_cb that keeps the default decision (USE / USE_RENEW a session, else IGNORE_RENEW). */
const defaultDec = (status: number) => (status === 5 ? 3 : status === 6 ? 4 : 2);

for (const version of VERSIONS) {
  Deno.test(`control: ${tls(version)} ticketKeyCb returning { ret: 1, key: TicketKey } seals, then opens and resumes`, async () => {
    const ctx = await context({ ticketKeyCb: () => ({ ret: 1, key }) });
    const [t] = await (await issue(ctx, version)).tickets;
    assert.equal(t.message.ticket.length > 32, true);
    const conn = ctx.newConnection();
    const d = await conn.processClientHello(resumeHello(version, t.message.ticket));
    assert.equal(d.resumed, true);
    assert.deepEqual(conn.counters, { genCb: 0, decCb: 0, keyCbEnc: 0, keyCbDec: 1 });
  });

  for (const [what, bad, end] of BAD_RESULTS) {
    Deno.test(`issue 11: ${tls(version)} ticketKeyCb sealing (enc 1) returns ${what}: alert 80 naming the callback and the type`, async () => {
      const ctx = await context({ ticketKeyCb: asCallback(bad) });
      const { conn, tickets } = await issue(ctx, version);
      const r = await alertOf(tickets);
      assert.deepEqual(r, {
        alert: 80,
        message: `TLS alert 80: ticketKeyCb (sealing a ticket) ${end}`,
      });
      assert.equal(r.message.includes(SECRET), false);
      assert.equal(conn.counters.keyCbEnc, 1);
    });

    Deno.test(`issue 11: ${tls(version)} ticketKeyCb opening (enc 0) returns ${what}: alert 80 naming the callback and the type, no dec_cb`, async () => {
      let decCalls = 0;
      const cb: TicketKeyCallback = (_c, _name, _iv, enc) =>
        enc ? { ret: 1, key } : asCallback(bad)();
      const ctx = await context({
        ticketKeyCb: cb,
        decCb: (_c, _s, _k, status) => (decCalls++, defaultDec(status)),
      });
      const [t] = await (await issue(ctx, version)).tickets;
      decCalls = 0;
      const conn = ctx.newConnection();
      const r = await alertOf(conn.processClientHello(resumeHello(version, t.message.ticket)));
      assert.deepEqual(r, {
        alert: 80,
        message: `TLS alert 80: ticketKeyCb (opening a ticket) ${end}`,
      });
      assert.equal(r.message.includes(SECRET), false);
      assert.equal(conn.counters.keyCbDec, 1);
      assert.equal(decCalls, 0); // tls_decrypt_ticket: a fatal key callback skips dec_cb
    });
  }

  Deno.test(`issue 11: ${tls(version)} ticketKeyCb sealing returns an iv that is not bytes: alert 80`, async () => {
    const ctx = await context({
      ticketKeyCb: () => ({ ret: 1, key, iv: SECRET as unknown as Uint8Array }),
    });
    const r = await alertOf((await issue(ctx, version)).tickets);
    assert.deepEqual(r, {
      alert: 80,
      message:
        "TLS alert 80: ticketKeyCb (sealing a ticket) returned iv = a string, not a Uint8Array",
    });
  });

  Deno.test(`issue 11: ${tls(version)} ticketKeyCb sealing returns an iv of the wrong length: alert 80 naming the callback`, async () => {
    const ctx = await context({ ticketKeyCb: () => ({ ret: 1, key, iv: new Uint8Array(12) }) });
    const r = await alertOf((await issue(ctx, version)).tickets);
    assert.deepEqual(r, {
      alert: 80,
      message:
        "TLS alert 80: ticketKeyCb (sealing a ticket) returned a key that cannot seal: a openssl ticket IV is 16 bytes",
    });
  });

  Deno.test(`control: ${tls(version)} ticketKeyCb returning { ret: 0 } when sealing sends no ticket, when opening is NO_DECRYPT`, async () => {
    const statuses: number[] = [];
    const ctx = await context({
      ticketKeyCb: (_c, _n, _iv, enc) => (enc ? { ret: 1, key } : { ret: 0 }),
      decCb: (_c, _s, _k, status) => (statuses.push(status), 2),
    });
    const [t] = await (await issue(ctx, version)).tickets;
    statuses.length = 0;
    const d = await ctx.newConnection().processClientHello(resumeHello(version, t.message.ticket));
    assert.equal(d.resumed, false);
    assert.deepEqual(statuses, [4]); // SSL_TICKET_NO_DECRYPT
    const none = await context({ ticketKeyCb: () => ({ ret: 0 }) });
    const issued = await (await issue(none, version)).tickets;
    assert.deepEqual(issued.map((i) => i.message.ticket.length), version === TLS12 ? [0] : []);
  });
}

// ---------------------------------------------------------------------------------------------
// pskFindSession (SSL_CTX_set_psk_find_session_callback, tls_parse_ctos_psk)

const PSK_ID = new TextEncoder().encode("client-1");

const BAD_SESSIONS: [string, unknown, string][] = [
  ["{}", {}, "a plain object"],
  ["a string", SECRET, "a string"],
  ["an empty string", "", "a string"],
  ["42", 42, "the number 42"],
  ["false", false, "false"],
  ["raw session bytes", new Uint8Array(48).fill(0x5a), "a Uint8Array"],
  ["a Promise of {}", Promise.resolve({}), "a plain object"],
];

for (const [what, value, type] of BAD_SESSIONS) {
  Deno.test(`issue 11: TLS 1.3 pskFindSession returns ${what}: alert 80 naming the callback and the type`, async () => {
    const ctx = await context({ pskFindSession: () => value as SslSession });
    const conn = ctx.newConnection();
    const r = await alertOf(conn.processClientHello(resumeHello(TLS13, PSK_ID)));
    assert.deepEqual(r, {
      alert: 80,
      message: `TLS alert 80: pskFindSession returned ${type}, not an SslSession or null`,
    });
    assert.equal(r.message.includes(SECRET), false);
  });
}

Deno.test("issue 11: TLS 1.3 pskFindSession that throws or rejects: alert 80 naming the callback", async () => {
  for (
    const find of [
      () => {
        throw new Error(SECRET);
      },
      () => Promise.reject(new Error(SECRET)),
    ]
  ) {
    const ctx = await context({ pskFindSession: find });
    const r = await alertOf(ctx.newConnection().processClientHello(resumeHello(TLS13, PSK_ID)));
    assert.deepEqual(r, { alert: 80, message: "TLS alert 80: pskFindSession threw or rejected" });
  }
});

Deno.test("control: TLS 1.3 pskFindSession returning an SslSession resumes it; null or undefined is a full handshake", async () => {
  const session = new SslSession({
    sslVersion: TLS13,
    cipherId: AES128_GCM,
    masterKey: new Uint8Array(32).fill(1),
    time: Math.floor(Date.now() / 1000),
    timeout: 7200,
  });
  const ctx = await context({ pskFindSession: () => session });
  const d = await ctx.newConnection().processClientHello(resumeHello(TLS13, PSK_ID));
  assert.equal(d.resumed, true);
  assert.equal(d.identity, 0);
  assert.notEqual(d.session, session); // a copy (SSL_SESSION_dup), as libssl takes
  for (const none of [null, undefined]) {
    const miss = await context({ pskFindSession: () => none as unknown as null });
    const r = await miss.newConnection().processClientHello(resumeHello(TLS13, PSK_ID));
    assert.equal(r.resumed, false);
  }
});

// ---------------------------------------------------------------------------------------------
// One place per rule (issue 11): the server takes the early ticket checks from the ticket layer

Deno.test("issue 11: with a ticketKeyCb, a ticket under 32 bytes is NO_DECRYPT before the callback (tls_decrypt_ticket check 3)", async () => {
  for (const version of VERSIONS) {
    const seen: { status: number; keyNameLength: number }[] = [];
    let calls = 0;
    const ctx = await context({
      ticketKeyCb: () => (calls++, { ret: 1, key }),
      decCb: (_c, _s, keyName, status) => (seen.push({ status, keyNameLength: keyName.length }), 2),
    });
    const conn = ctx.newConnection();
    const d = await conn.processClientHello(resumeHello(version, new Uint8Array(20)));
    assert.equal(d.resumed, false);
    assert.equal(calls, 0);
    assert.deepEqual(seen, [{ status: 4, keyNameLength: 16 }]);
  }
});

Deno.test("DESIGN: no module imports another folder's _private file (src/server takes what it needs from public ticket modules)", async () => {
  const root = new URL("../src/", import.meta.url);
  const offenders: string[] = [];
  for await (const folder of Deno.readDir(root)) {
    if (!folder.isDirectory) continue;
    const dir = new URL(`${folder.name}/`, root);
    const walk = async (d: URL, rel: string): Promise<void> => {
      for await (const e of Deno.readDir(d)) {
        if (e.isDirectory) await walk(new URL(`${e.name}/`, d), `${rel}${e.name}/`);
        else if (e.name.endsWith(".ts")) {
          const text = await Deno.readTextFile(new URL(e.name, d));
          for (const m of text.matchAll(/from "(\.\.\/[^"]*\/_[^"/]*\.ts)"/g)) {
            offenders.push(`src/${folder.name}/${rel}${e.name} imports ${m[1]}`);
          }
        }
      }
    };
    await walk(dir, "");
  }
  assert.deepEqual(offenders, []);
});

// ---------------------------------------------------------------------------------------------
// Issue 13: no ticket is not a failed handshake. A ticket sealer with no key that can seal
// (NoSealingKeyError) is what OpenSSL's ticket key callback returning 0 is
// (ssl/statem/statem_srvr.c:construct_stateless_ticket): TLS 1.2 sends an empty
// NewSessionTicket (lifetime 0, no ticket), TLS 1.3 sends none but counts it as sent (gen_cb has
// run; OpenSSL 3.0.7+). What OpenSSL makes fatal stays alert 80.

/** A ring whose only key is pending until t = 60 s (a new fleet not sealing yet). */
async function notYetRing(c: { t: number }): Promise<TicketKeyRing> {
  const ring = new TicketKeyRing({ now: () => c.t, rotationInterval: Infinity });
  ring.add(await TicketKey.generate(), { state: "pending", activateAt: 60_000 });
  return ring;
}

for (const version of VERSIONS) {
  const noTicket = version === TLS12
    ? "an empty NewSessionTicket (lifetime 0)"
    : "no NewSessionTicket, counted as sent";
  Deno.test(`issue 13: ${tls(version)} the ticket sealer has no key sealing yet (NoSealingKeyError not-yet): the handshake completes with ${noTicket}, as a key callback returning 0`, async () => {
    const c = { t: 1_000 };
    let gen = 0;
    const ring = await notYetRing(c);
    const ctx = await context({ ticketKeys: ring, now: () => c.t, genCb: () => (gen++, 1) });
    const { conn, tickets } = await issue(ctx, version);
    const issued = await tickets;
    if (version === TLS12) {
      assert.equal(issued.length, 1);
      assert.equal(issued[0].message.lifetime, 0);
      assert.equal(issued[0].message.ticket.length, 0);
      assert.equal(issued[0].bytes.toHex(), "04000006" + "00000000" + "0000"); // lifetime 0, ticket<0>
    } else {
      assert.deepEqual(issued, []);
      assert.equal(conn.requestTicket(), true); // the handshake's tickets count as sent
    }
    assert.equal(gen, version === TLS12 ? 1 : 2); // gen_cb ran before each seal
    const why = "the ticket key ring has no active key yet: its next key seals from " +
      "1970-01-01T00:01:00.000Z";
    const n = version === TLS12 ? 1 : 2;
    assert.deepEqual(conn.ticketsNotSealed, Array(n).fill({ reason: "not-yet", message: why }));
    assert.deepEqual(ctx.metrics, {
      ticketsNotSealed: n,
      ticketsNotSealedByReason: { "not-yet": n, "budget-spent": 0, retired: 0, "no-key": 0 },
    });
    assert.equal(ring.metrics().sealsRefused["not-yet"], n);
    // Once the key seals, the same context issues real tickets, and they resume.
    c.t = 60_000;
    const next = await issue(ctx, version);
    const real = await next.tickets;
    assert.equal(real.length, version === TLS12 ? 1 : 2);
    assert.ok(real.every((t) => t.message.ticket.length > 32 && t.message.lifetime > 0));
    assert.deepEqual(next.conn.ticketsNotSealed, []);
    const d = await ctx.newConnection().processClientHello(
      resumeHello(version, real[0].message.ticket),
    );
    assert.equal(d.resumed, true);
  });

  Deno.test(`issue 13: ${tls(version)} the default key's seal budget is spent (NoSealingKeyError budget-spent): ${noTicket}`, async () => {
    const ctx = await context({ ticketKeys: await TicketKey.generate({ sealBudget: 0 }) });
    const { conn, tickets } = await issue(ctx, version);
    const issued = await tickets;
    assert.deepEqual(issued.map((t) => t.message.ticket.length), version === TLS12 ? [0] : []);
    assert.deepEqual(
      conn.ticketsNotSealed.map((x) => x.reason),
      Array(version === TLS12 ? 1 : 2).fill("budget-spent"),
    );
    assert.equal(ctx.metrics.ticketsNotSealedByReason["budget-spent"], version === TLS12 ? 1 : 2);
  });

  Deno.test(`issue 13: ${tls(version)} a custom TicketSealer rejecting with NoSealingKeyError sends no ticket; any other TicketKeyError stays alert 80`, async () => {
    const base = await TicketKey.generate();
    let fail: Error = new NoSealingKeyError("retired", "every key of the key service is retired");
    const sealer: TicketSealer = {
      seal: () => Promise.reject(fail),
      open: (t) => base.open(t),
    };
    const ctx = await context({ ticketKeys: sealer });
    let { conn, tickets } = await issue(ctx, version);
    assert.deepEqual(
      (await tickets).map((t) => t.message.ticket.length),
      version === TLS12 ? [0] : [],
    );
    assert.deepEqual(conn.ticketsNotSealed[0], {
      reason: "retired",
      message: "every key of the key service is retired",
    });
    fail = new TicketKeyError("the key service refused: quota");
    ({ conn, tickets } = await issue(ctx, version));
    assert.deepEqual(await alertOf(tickets), {
      alert: 80,
      message: "TLS alert 80: the key service refused: quota",
    });
    assert.deepEqual(conn.ticketsNotSealed, []);
    assert.equal(ctx.metrics.ticketsNotSealed, version === TLS12 ? 1 : 2); // the first handshake's
  });

  Deno.test(`issue 13: ${tls(version)} ticketKeyCb's contract stays OpenSSL's: a key whose budget is spent, or ret -1, is alert 80 (only the sealer's NoSealingKeyError means no ticket)`, async () => {
    const spent = await TicketKey.generate({ format: "openssl", sealBudget: 0 });
    const ctx = await context({ ticketKeyCb: () => ({ ret: 1, key: spent }) });
    let { conn, tickets } = await issue(ctx, version);
    assert.deepEqual(await alertOf(tickets), {
      alert: 80,
      message:
        `TLS alert 80: ticketKeyCb (sealing a ticket) returned a key that cannot seal: ticket key ${spent.nameHex} has sealed its budget of 0 tickets; rotate to a new key`,
    });
    assert.deepEqual(conn.ticketsNotSealed, []);
    const fatal = await context({ ticketKeyCb: () => ({ ret: -1 }) });
    ({ conn, tickets } = await issue(fatal, version));
    assert.deepEqual(await alertOf(tickets), {
      alert: 80,
      message: "TLS alert 80: ticketKeyCb (sealing a ticket) returned ret -1 (fatal)",
    });
    assert.equal(ctx.metrics.ticketsNotSealed + fatal.metrics.ticketsNotSealed, 0);
  });
}

// ---------------------------------------------------------------------------------------------
// ssl/ssl_sess.c:ssl_get_prev_session's checks after dec_cb: a session of the other protocol
// version is a silent miss (a full handshake with a new ticket, no alert), and an expired
// session found in the session cache is taken out of it.

for (const version of VERSIONS) {
  const other = version === TLS12 ? TLS13 : TLS12;
  Deno.test(`ssl/ssl_sess.c:ssl_get_prev_session: a ticket holding a ${tls(other)} session, offered in a ${tls(version)} ClientHello, opens (dec_cb sees SUCCESS) but is a silent full handshake with a new ticket`, async () => {
    const calls: number[] = [];
    const ctx = await context({
      ticketKeyCb: () => ({ ret: 1, key }),
      decCb: (_c, _s, _k, status) => (calls.push(status), defaultDec(status)),
    });
    // Everything else would resume here: the suite the hello offers, EMS, the time, the context.
    const session = new SslSession({
      sslVersion: other,
      cipherId: version === TLS12 ? ECDHE_AES256_GCM : AES128_GCM,
      masterKey: new Uint8Array(version === TLS12 ? 48 : 32).fill(3),
      time: Math.floor(Date.now() / 1000),
      timeout: 7200,
    });
    session.extendedMasterSecret = true;
    const control = ctx.newConnection();
    session.sslVersion = version;
    const same = await control.processClientHello(
      resumeHello(version, await key.seal(session)),
    );
    assert.equal(same.resumed, true, "control: the same session of this version resumes");
    session.sslVersion = other;
    calls.length = 0;
    const conn = ctx.newConnection();
    const d = await conn.processClientHello(resumeHello(version, await key.seal(session)));
    assert.deepEqual(
      { resumed: d.resumed, ticketExpected: d.ticketExpected, calls },
      { resumed: false, ticketExpected: true, calls: [5] },
    );
  });
}

Deno.test("ssl/ssl_sess.c:ssl_get_prev_session: an expired session found by session id is a full handshake and leaves the session cache (SSL_CTX_remove_session)", async () => {
  const clock = { t: 1_000_000 };
  const ctx = await SslContext.create({ sessionCacheSize: 16, now: () => clock.t, timeout: 60 });
  const conn = ctx.newConnection();
  await conn.processClientHello({ version: TLS12, extendedMasterSecret: true });
  conn.establishSession({ cipherId: ECDHE_AES256_GCM, extendedMasterSecret: true });
  await conn.newSessionTickets();
  const id = conn.session!.sessionId;
  assert.equal(id.length, 32);
  assert.equal(ctx.sessionCache.size, 1);
  const hello: ClientHello = {
    version: TLS12,
    sessionId: id,
    extendedMasterSecret: true,
    cipherSuites: [ECDHE_AES256_GCM],
  };
  clock.t += 60_000; // time + timeout is now: not yet expired (sess_timedout needs now > it)
  assert.equal((await ctx.newConnection().processClientHello(hello)).resumed, true);
  clock.t += 1_000;
  assert.equal((await ctx.newConnection().processClientHello(hello)).resumed, false);
  assert.equal(ctx.sessionCache.size, 0);
});
