// Tests for openssl.ts: OpenSSL's C API names and return values over the engine
// (include/openssl/ssl.h.in, ssl/ssl_lib.c, ssl/s3_lib.c, ssl/ssl_sess.c, ssl/ssl_asn1.c,
// doc/man3/SSL_CTX_set_session_ticket_cb.pod), with the ticket vectors observed from libssl 3.0.19.
import assert from "node:assert/strict";
import {
  d2i_SSL_SESSION,
  i2d_SSL_SESSION,
  SSL_AD_INTERNAL_ERROR,
  SSL_CTRL_GET_TLSEXT_TICKET_KEYS,
  SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB,
  SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
  SSL_CTX_clear_options,
  type SSL_CTX_decrypt_session_ticket_fn,
  type SSL_CTX_generate_session_ticket_fn,
  SSL_CTX_get_num_tickets,
  SSL_CTX_get_options,
  SSL_CTX_get_timeout,
  SSL_CTX_get_tlsext_ticket_keys,
  SSL_CTX_new,
  SSL_CTX_set_num_tickets,
  SSL_CTX_set_options,
  SSL_CTX_set_session_ticket_cb,
  SSL_CTX_set_timeout,
  SSL_CTX_set_tlsext_ticket_key_evp_cb,
  SSL_CTX_set_tlsext_ticket_keys,
  SSL_get_num_tickets,
  SSL_get_session,
  SSL_MAX_MASTER_KEY_LENGTH,
  SSL_new,
  SSL_new_session_ticket,
  SSL_OP_NO_ANTI_REPLAY,
  SSL_OP_NO_TICKET,
  SSL_SESSION_ASN1_VERSION,
  SSL_SESSION_get0_ticket,
  SSL_SESSION_get0_ticket_appdata,
  SSL_SESSION_get_master_key,
  SSL_SESSION_get_ticket_lifetime_hint,
  SSL_SESSION_has_ticket,
  SSL_SESSION_set1_ticket_appdata,
  SSL_set_num_tickets,
  SSL_TICKET_EMPTY,
  SSL_TICKET_FATAL_ERR_MALLOC,
  SSL_TICKET_FATAL_ERR_OTHER,
  type SSL_TICKET_KEY_EVP_CB,
  SSL_TICKET_NO_DECRYPT,
  SSL_TICKET_NONE,
  SSL_TICKET_RETURN_ABORT,
  SSL_TICKET_RETURN_IGNORE,
  SSL_TICKET_RETURN_IGNORE_RENEW,
  SSL_TICKET_RETURN_USE,
  SSL_TICKET_RETURN_USE_RENEW,
  SSL_TICKET_SUCCESS,
  SSL_TICKET_SUCCESS_RENEW,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
  TLS_server_method,
  TLSEXT_KEYNAME_LENGTH,
  TLSEXT_TICK_KEY_LENGTH,
  TLSEXT_TICKET_KEYS_LENGTH,
} from "../openssl.ts";
import * as openssl from "../openssl.ts";
import { DerError } from "../src/der/errors.ts";
import { AlertDescription, TlsAlert } from "../src/server/alert.ts";
import { DecryptTicketReturn } from "../src/server/callbacks.ts";
import type { ServerConnection } from "../src/server/server_connection.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import * as versions from "../src/session/versions.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { KEYS_00_4F, TLS12_DER, TLS12_TICKET, TLS13_DER, TLS13_TICKET } from "./_vectors.ts";

const text = (b: Uint8Array | null) => b === null ? null : new TextDecoder().decode(b);
const TLS12_HELLO = { version: TLS1_2_VERSION, extendedMasterSecret: true, cipherSuites: [0xc030] };
const RMS = new Uint8Array(48).fill(3);
/** The vectors' session time ([1] = 0x6b0c3b4b), plus a minute: the vector tickets are valid. */
const VECTOR_NOW_MS = (0x6b0c3b4b + 60) * 1000;

/** A full TLS 1.2 handshake with an empty session_ticket extension; returns the NSTs. */
async function fullTls12(s: ServerConnection) {
  const hello = await s.processClientHello({ ...TLS12_HELLO, sessionTicket: new Uint8Array(0) });
  assert.equal(hello.resumed, false);
  s.establishSession({
    cipherId: 0xc030,
    masterKey: new Uint8Array(48).fill(1),
    extendedMasterSecret: true,
    kexGroup: 0x1d,
  });
  return await s.newSessionTickets();
}

/** A full TLS 1.3 handshake; returns the NSTs. */
async function fullTls13(s: ServerConnection) {
  const hello = await s.processClientHello({ version: TLS1_3_VERSION, cipherSuite: 0x1302 });
  assert.equal(hello.resumed, false);
  s.establishSession({ cipherId: 0x1302, kexGroup: 0x1d });
  return await s.newSessionTickets({ resumptionMasterSecret: RMS });
}

function resumeTls13(s: ServerConnection, ticket: Uint8Array) {
  return s.processClientHello({
    version: TLS1_3_VERSION,
    cipherSuite: 0x1302,
    pskKeyExchangeModes: [1],
    preSharedKey: {
      identities: [{ identity: ticket, obfuscatedTicketAge: 1 }],
      binders: [new Uint8Array(48)],
    },
  });
}

// -------------------------------------------------------------------------------------------
// Constants

Deno.test("include/openssl/ssl.h.in: SSL_TICKET_* status values and the engine's TicketStatus", () => {
  assert.deepEqual(
    [
      SSL_TICKET_FATAL_ERR_MALLOC,
      SSL_TICKET_FATAL_ERR_OTHER,
      SSL_TICKET_NONE,
      SSL_TICKET_EMPTY,
      SSL_TICKET_NO_DECRYPT,
      SSL_TICKET_SUCCESS,
      SSL_TICKET_SUCCESS_RENEW,
    ],
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.equal(SSL_TICKET_SUCCESS_RENEW, TicketStatus.SUCCESS_RENEW);
  assert.equal(SSL_TICKET_EMPTY, TicketStatus.EMPTY);
});

Deno.test("include/openssl/ssl.h.in: SSL_TICKET_RETURN_* values and the engine's DecryptTicketReturn", () => {
  assert.deepEqual(
    [
      SSL_TICKET_RETURN_ABORT,
      SSL_TICKET_RETURN_IGNORE,
      SSL_TICKET_RETURN_IGNORE_RENEW,
      SSL_TICKET_RETURN_USE,
      SSL_TICKET_RETURN_USE_RENEW,
    ],
    [0, 1, 2, 3, 4],
  );
  assert.equal(SSL_TICKET_RETURN_USE_RENEW, DecryptTicketReturn.USE_RENEW);
});

Deno.test("ssl/ssl_local.h, include/openssl/ssl.h.in: key lengths, option bits, ctrl numbers", () => {
  assert.equal(TLSEXT_KEYNAME_LENGTH, 16);
  assert.equal(TLSEXT_TICK_KEY_LENGTH, 32);
  assert.equal(TLSEXT_TICKET_KEYS_LENGTH, 80);
  assert.equal(SSL_OP_NO_TICKET, 0x4000);
  assert.equal(SSL_OP_NO_ANTI_REPLAY, 0x1000000);
  assert.deepEqual(
    [
      SSL_CTRL_GET_TLSEXT_TICKET_KEYS,
      SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
      SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB,
    ],
    [58, 59, 72],
  );
  assert.deepEqual([TLS1_2_VERSION, TLS1_3_VERSION], [0x0303, 0x0304]);
  assert.equal(SSL_SESSION_ASN1_VERSION, 1);
  assert.equal(SSL_MAX_MASTER_KEY_LENGTH, 48);
  assert.equal(SSL_AD_INTERNAL_ERROR, 80);
});

/** The `#define NAME value` lines of an installed OpenSSL header, or null without the header. */
async function defines(header: string): Promise<Map<string, number> | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`/usr/include/openssl/${header}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^#\s*define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\b/gm)) {
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/** openssl.ts's numeric exports whose name starts with `prefix`, by name. */
function exportsWithPrefix(prefix: string): Map<string, number> {
  return new Map(
    Object.entries(openssl).filter(([k, v]) => k.startsWith(prefix) && typeof v === "number") as [
      string,
      number,
    ][],
  );
}

Deno.test("issue 11, one place per rule: openssl.ts's SSL_TICKET_*, SSL_TICKET_RETURN_*, SSL_AD_INTERNAL_ERROR and TLS1_*_VERSION are TicketStatus, DecryptTicketReturn, AlertDescription and src/session/versions.ts under C's names", () => {
  const statuses = exportsWithPrefix("SSL_TICKET_");
  for (const k of exportsWithPrefix("SSL_TICKET_RETURN_").keys()) statuses.delete(k);
  assert.deepEqual(
    statuses,
    new Map(Object.entries(TicketStatus).map(([k, v]) => [`SSL_TICKET_${k}`, v])),
  );
  assert.deepEqual(
    exportsWithPrefix("SSL_TICKET_RETURN_"),
    new Map(Object.entries(DecryptTicketReturn).map(([k, v]) => [`SSL_TICKET_RETURN_${k}`, v])),
  );
  assert.equal(SSL_AD_INTERNAL_ERROR, AlertDescription.INTERNAL_ERROR);
  assert.deepEqual(
    [TLS1_2_VERSION, TLS1_3_VERSION],
    [versions.TLS1_2_VERSION, versions.TLS1_3_VERSION],
  );
});

const SSL_H = await defines("ssl.h");
const TLS1_H = await defines("tls1.h");
const PROV_SSL_H = await defines("prov_ssl.h");
const noHeaders = SSL_H === null || TLS1_H === null || PROV_SSL_H === null;
if (noHeaders) {
  console.warn(
    "openssl_api_test: skipping the header check: libssl-dev (/usr/include/openssl) absent",
  );
}

Deno.test({
  name:
    "include/openssl/ssl.h, tls1.h, prov_ssl.h as installed: every SSL_TICKET_* and TLS version #define, and TLS1_AD_INTERNAL_ERROR, equals openssl.ts",
  ignore: noHeaders,
}, () => {
  const fromHeader = (prefix: string, header: Map<string, number>) =>
    new Map([...header].filter(([k]) => k.startsWith(prefix)));
  assert.deepEqual(exportsWithPrefix("SSL_TICKET_"), fromHeader("SSL_TICKET_", SSL_H!));
  assert.equal(SSL_AD_INTERNAL_ERROR, TLS1_H!.get("TLS1_AD_INTERNAL_ERROR"));
  for (const name of ["TLS1_2_VERSION", "TLS1_3_VERSION"] as const) {
    assert.equal(openssl[name], PROV_SSL_H!.get(name), name);
  }
});

// -------------------------------------------------------------------------------------------
// SSL_CTX and SSL

Deno.test("ssl/ssl_lib.c:SSL_CTX_new_ex: defaults (num_tickets 2, timeout 7200, no options, no callbacks)", async () => {
  const ctx = await SSL_CTX_new(TLS_server_method());
  assert.equal(SSL_CTX_get_num_tickets(ctx), 2);
  assert.equal(SSL_CTX_get_timeout(ctx), 7200);
  assert.equal(SSL_CTX_get_options(ctx), 0);
  assert.equal(ctx.genCb, null);
  assert.equal(ctx.decCb, null);
  assert.equal(TLS_server_method().name, "TLS_server_method");
  const s = SSL_new(ctx);
  assert.equal(SSL_get_session(s), null);
  assert.equal(SSL_get_num_tickets(s), 2);
  assert.equal(s.context, ctx);
  // Random keys (RAND_bytes / RAND_priv_bytes): two contexts never share a key name.
  const other = await SSL_CTX_new();
  const [a] = await fullTls12(SSL_new(ctx));
  const [b] = await fullTls12(SSL_new(other));
  assert.notEqual(
    a.message.ticket.subarray(0, 16).toHex(),
    b.message.ticket.subarray(0, 16).toHex(),
  );
});

Deno.test("ssl/ssl_lib.c:SSL_CTX_set_session_ticket_cb returns 1 and stores gen_cb, dec_cb, arg (either may be NULL)", async () => {
  const ctx = await SSL_CTX_new();
  const gen: SSL_CTX_generate_session_ticket_fn = () => 1;
  const dec: SSL_CTX_decrypt_session_ticket_fn = () => SSL_TICKET_RETURN_IGNORE_RENEW;
  assert.equal(SSL_CTX_set_session_ticket_cb(ctx, gen, dec, "arg"), 1);
  assert.equal(ctx.genCb, gen);
  assert.equal(ctx.decCb, dec);
  assert.equal(ctx.cbArg, "arg");
  assert.equal(SSL_CTX_set_session_ticket_cb(ctx, null, null, null), 1);
  assert.equal(ctx.genCb, null);
  assert.equal(ctx.decCb, null);
  assert.equal(ctx.cbArg, null);
});

Deno.test("ssl/s3_lib.c:ssl3_ctx_ctrl SSL_CTRL_SET_TLSEXT_TICKET_KEYS: NULL keys returns 80, 80 returns 1, others 0", async () => {
  const ctx = await SSL_CTX_new();
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, null, 0), 80);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, null, 48), 80);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 80), 1);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F), 1);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 81), 0);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 0), 0);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, new Uint8Array(81), 81), 0);
  // keylen claims 80 but the buffer is shorter: C would over-read; here it is refused.
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, new Uint8Array(48), 80), 0);
});

Deno.test("ssl/s3_lib.c:ssl3_ctx_ctrl SSL_CTRL_SET_TLSEXT_TICKET_KEYS: 48 bytes (the 1.0.x layout) returns 0 and leaves the keys unchanged", async () => {
  const ctx = await SSL_CTX_new();
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 80), 1);
  const before = ctx.ticketSealer;
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, new Uint8Array(48).fill(0xee), 48), 0);
  assert.equal(ctx.ticketSealer, before);
  // The 00..4f key still opens the observed ticket.
  const r = await ctx.ticketSealer.open(TLS12_TICKET);
  assert.equal(r.status, SSL_TICKET_SUCCESS);
});

Deno.test("ssl/s3_lib.c SSL_CTRL_SET_TLSEXT_TICKET_KEYS: keys 00..4f open TLS 1.2 and 1.3 tickets observed from libssl 3.0.19", async () => {
  const ctx = await SSL_CTX_new();
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 80), 1);
  const r12 = await ctx.ticketSealer.open(TLS12_TICKET);
  assert.equal(r12.status, SSL_TICKET_SUCCESS);
  assert.equal(r12.keyName.toHex(), "000102030405060708090a0b0c0d0e0f");
  assert.deepEqual(i2d_SSL_SESSION(r12.session!), TLS12_DER);
  assert.equal(text(SSL_SESSION_get0_ticket_appdata(r12.session!).data), "HelloWorld");
  const r13 = await ctx.ticketSealer.open(TLS13_TICKET);
  assert.equal(r13.status, SSL_TICKET_SUCCESS);
  assert.deepEqual(i2d_SSL_SESSION(r13.session!), TLS13_DER);
});

Deno.test("ssl/s3_lib.c SSL_CTRL_SET_TLSEXT_TICKET_KEYS: a ticket sealed by the context opens, and its DER is the layout observed from libssl 3.0.19", async () => {
  const ctx = await SSL_CTX_new();
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 80), 1);
  SSL_CTX_set_session_ticket_cb(
    ctx,
    (s) => SSL_SESSION_set1_ticket_appdata(SSL_get_session(s)!, "HelloWorld", 10),
    null,
    null,
  );
  const [nst] = await fullTls12(SSL_new(ctx));
  const ticket = nst.message.ticket;
  assert.equal(ticket.length, 176); // 16 + 16 + 112 + 32 for a 107-byte DER
  assert.equal(ticket.subarray(0, 16).toHex(), "000102030405060708090a0b0c0d0e0f");
  const r = await ctx.ticketSealer.open(ticket);
  assert.equal(r.status, SSL_TICKET_SUCCESS);
  const der = i2d_SSL_SESSION(r.session!);
  assert.equal(der.length, 107);
  // Same bytes as the observed plaintext except the master key and the time.
  assert.deepEqual(der.subarray(0, 17), TLS12_DER.subarray(0, 17));
  assert.deepEqual(der.subarray(73, 75), TLS12_DER.subarray(73, 75));
  assert.deepEqual(der.subarray(81), TLS12_DER.subarray(81));
  // And the observed plaintext itself decodes (d2i) to the fields it carries.
  const ss = d2i_SSL_SESSION(TLS12_DER, TLS12_DER.length)!;
  assert.equal(ss.sslVersion, TLS1_2_VERSION);
  assert.equal(ss.cipherId, 0xc030);
  assert.equal(ss.time, 0x6b0c3b4b);
  assert.equal(ss.timeout, 7200);
  assert.equal(ss.extendedMasterSecret, true);
  assert.equal(ss.kexGroup, 0x1d);
  assert.equal(SSL_SESSION_get_master_key(ss, null, 0), 48);
  assert.deepEqual(SSL_SESSION_get0_ticket_appdata(ss), {
    ret: 1,
    data: new TextEncoder().encode("HelloWorld"),
    len: 10,
  });
});

Deno.test("ssl/t1_lib.c:tls_decrypt_ticket via SSL_CTX_set_tlsext_ticket_keys(00..4f): the observed TLS 1.2 ticket resumes; dec_cb sees SUCCESS and the app data", async () => {
  const ctx = await SslContext.create({ now: () => VECTOR_NOW_MS });
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 80), 1);
  const seen: string[] = [];
  SSL_CTX_set_session_ticket_cb(ctx, null, (_s, ss, keyname, status, arg) => {
    seen.push(`${status} ${keyname.length} ${keyname.toHex()} ${arg}`);
    const { ret, data, len } = SSL_SESSION_get0_ticket_appdata(ss!);
    seen.push(`${ret} ${text(data)} ${len}`);
    return SSL_TICKET_RETURN_USE;
  }, "myarg");
  const s = SSL_new(ctx);
  const hello = await s.processClientHello({ ...TLS12_HELLO, sessionTicket: TLS12_TICKET });
  assert.equal(hello.resumed, true);
  assert.equal(hello.ticketExpected, false);
  assert.deepEqual(seen, [
    `${SSL_TICKET_SUCCESS} 16 000102030405060708090a0b0c0d0e0f myarg`,
    "1 HelloWorld 10",
  ]);
  assert.equal(text(SSL_SESSION_get0_ticket_appdata(SSL_get_session(s)!).data), "HelloWorld");
  assert.deepEqual(await s.newSessionTickets(), []);
});

Deno.test("ssl/s3_lib.c SSL_CTRL_SET_TLSEXT_TICKET_KEYS: setting new keys makes old tickets NO_DECRYPT (one key set only)", async () => {
  const ctx = await SslContext.create({ now: () => VECTOR_NOW_MS });
  const statuses: number[] = [];
  SSL_CTX_set_session_ticket_cb(ctx, null, (_s, ss, keyname, status) => {
    statuses.push(status, keyname.length, ss === null ? 0 : 1);
    return SSL_TICKET_RETURN_IGNORE_RENEW;
  }, null);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 80), 1);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F.map((b) => b ^ 0xff), 80), 1);
  const s = SSL_new(ctx);
  const hello = await s.processClientHello({ ...TLS12_HELLO, sessionTicket: TLS12_TICKET });
  assert.equal(hello.resumed, false);
  assert.equal(hello.ticketExpected, true);
  assert.deepEqual(statuses, [SSL_TICKET_NO_DECRYPT, 16, 0]);
});

Deno.test("ssl/s3_lib.c:ssl3_ctx_ctrl SSL_CTRL_GET_TLSEXT_TICKET_KEYS: NULL returns 80; non-extractable Web Crypto keys give 0; extractable keys copy out", async () => {
  const ctx = await SSL_CTX_new();
  assert.equal(await SSL_CTX_get_tlsext_ticket_keys(ctx, null, 0), 80);
  const out = new Uint8Array(80);
  assert.equal(await SSL_CTX_get_tlsext_ticket_keys(ctx, out, 80), 0);
  assert.equal(await SSL_CTX_set_tlsext_ticket_keys(ctx, KEYS_00_4F, 80), 1);
  assert.equal(await SSL_CTX_get_tlsext_ticket_keys(ctx, out, 80), 0);
  assert.deepEqual(out, new Uint8Array(80));
  ctx.ticketSealer = await TicketKey.import(KEYS_00_4F, "openssl-80", { extractable: true });
  assert.equal(await SSL_CTX_get_tlsext_ticket_keys(ctx, out, 48), 0);
  assert.equal(await SSL_CTX_get_tlsext_ticket_keys(ctx, new Uint8Array(48), 80), 0);
  assert.equal(await SSL_CTX_get_tlsext_ticket_keys(ctx, out, 80), 1);
  assert.deepEqual(out, KEYS_00_4F);
});

Deno.test("ssl/s3_lib.c:SSL_CTX_set_tlsext_ticket_key_evp_cb returns 1; the callback sees enc 1 when issuing and 0 when accepting; return 2 renews", async () => {
  const ctx = await SSL_CTX_new();
  const key = await TicketKey.import(KEYS_00_4F, "openssl-80");
  const calls: string[] = [];
  let acceptRet = 1;
  const cb: SSL_TICKET_KEY_EVP_CB = (_s, key_name, iv, enc) => {
    calls.push(`enc=${enc} name=${key_name.length} iv=${iv.length}`);
    if (enc === 1) return { ret: 1, key };
    return key.matches(key_name) ? { ret: acceptRet, key } : { ret: 0 };
  };
  assert.equal(SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, cb), 1);
  const [nst] = await fullTls12(SSL_new(ctx));
  assert.equal(nst.message.ticket.subarray(0, 16).toHex(), "000102030405060708090a0b0c0d0e0f");
  assert.deepEqual(calls.splice(0), ["enc=1 name=0 iv=0"]);

  let s = SSL_new(ctx);
  let hello = await s.processClientHello({ ...TLS12_HELLO, sessionTicket: nst.message.ticket });
  assert.equal(hello.resumed, true);
  assert.equal(hello.ticketExpected, false);
  assert.deepEqual(calls.splice(0), ["enc=0 name=16 iv=16"]);

  acceptRet = 2; // SSL_TICKET_SUCCESS_RENEW: a renewed ticket, lifetime hint 0 in TLS 1.2
  s = SSL_new(ctx);
  hello = await s.processClientHello({ ...TLS12_HELLO, sessionTicket: nst.message.ticket });
  assert.equal(hello.resumed, true);
  assert.equal(hello.ticketExpected, true);
  const renewed = await s.newSessionTickets();
  assert.equal(renewed.length, 1);
  assert.equal(renewed[0].message.lifetime, 0);
  assert.deepEqual(calls.splice(0), ["enc=0 name=16 iv=16", "enc=1 name=0 iv=0"]);

  assert.equal(SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, null), 1);
  assert.equal(ctx.ticketKeyCb, null);
});

Deno.test("ssl/ssl_lib.c:SSL_CTX_set_num_tickets / SSL_set_num_tickets return 1; SSL_new inherits; TLS 1.3 sends that many", async () => {
  const ctx = await SSL_CTX_new();
  let gens = 0;
  SSL_CTX_set_session_ticket_cb(ctx, () => (gens++, 1), null, null);
  assert.equal(SSL_CTX_set_num_tickets(ctx, 5), 1);
  assert.equal(SSL_CTX_get_num_tickets(ctx), 5);
  const s = SSL_new(ctx);
  assert.equal(SSL_get_num_tickets(s), 5);
  assert.equal((await fullTls13(s)).length, 5);
  assert.equal(gens, 5);

  const s0 = SSL_new(ctx);
  assert.equal(SSL_set_num_tickets(s0, 0), 1);
  assert.equal(SSL_get_num_tickets(s0), 0);
  assert.equal(SSL_CTX_get_num_tickets(ctx), 5);
  assert.equal((await fullTls13(s0)).length, 0);
  assert.equal(gens, 5);

  // Not a size_t: refused, nothing changed.
  assert.equal(SSL_CTX_set_num_tickets(ctx, -1), 0);
  assert.equal(SSL_CTX_set_num_tickets(ctx, 1.5), 0);
  assert.equal(SSL_set_num_tickets(s0, Number.NaN), 0);
  assert.equal(SSL_CTX_get_num_tickets(ctx), 5);
  assert.equal(SSL_get_num_tickets(s0), 0);
});

Deno.test("ssl/ssl_lib.c:SSL_CTX_set_options / clear / get: SSL_OP_NO_TICKET and SSL_OP_NO_ANTI_REPLAY map onto the context; other bits are kept", async () => {
  const ctx = await SSL_CTX_new();
  assert.equal(SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET), 0x4000);
  assert.equal(ctx.noTicket, true);
  assert.equal(SSL_CTX_set_options(ctx, 1 << 20), 0x104000);
  assert.equal(SSL_CTX_set_options(ctx, SSL_OP_NO_ANTI_REPLAY), 0x1104000);
  assert.equal(ctx.noAntiReplay, true);
  assert.equal(SSL_CTX_get_options(ctx), 0x1104000);
  assert.equal(SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET), 0x1100000);
  assert.equal(ctx.noTicket, false);
  ctx.noTicket = true; // the engine's field and the option bit are one
  assert.equal(SSL_CTX_get_options(ctx), 0x1104000);
  assert.equal(SSL_CTX_clear_options(ctx, 0x1104000), 0);
  assert.equal(ctx.noAntiReplay, false);
  // Bits above 2^31 survive (OpenSSL 3 options are uint64_t).
  assert.equal(SSL_CTX_set_options(ctx, 2 ** 33), 2 ** 33);
  assert.equal(SSL_CTX_set_options(ctx, -1), 2 ** 33);
  assert.equal(SSL_CTX_clear_options(ctx, 2 ** 33), 0);
});

Deno.test("ssl/t1_lib.c:tls_get_ticket_from_client with SSL_OP_NO_TICKET: TLS 1.2 calls neither callback and sends no ticket", async () => {
  const ctx = await SSL_CTX_new();
  const calls: string[] = [];
  SSL_CTX_set_session_ticket_cb(
    ctx,
    () => (calls.push("gen"), 1),
    () => (calls.push("dec"), SSL_TICKET_RETURN_IGNORE_RENEW),
    null,
  );
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  const s = SSL_new(ctx);
  const hello = await s.processClientHello({ ...TLS12_HELLO, sessionTicket: new Uint8Array(0) });
  assert.equal(hello.ticketExpected, false);
  s.establishSession({
    cipherId: 0xc030,
    masterKey: new Uint8Array(48),
    extendedMasterSecret: true,
  });
  assert.deepEqual(await s.newSessionTickets(), []);
  assert.deepEqual(calls, []);
});

Deno.test("ssl/ssl_sess.c:SSL_CTX_set_timeout returns the previous timeout (7200 first); test_ticket_lifetime hints follow it", async () => {
  const ctx = await SSL_CTX_new();
  assert.equal(SSL_CTX_set_timeout(ctx, 1209600), 7200);
  assert.equal(SSL_CTX_get_timeout(ctx), 1209600);
  const [t12] = await fullTls12(SSL_new(ctx));
  assert.equal(t12.message.lifetime, 1209600);
  assert.equal(t12.session.timeout, 1209600);
  const t13 = await fullTls13(SSL_new(ctx));
  assert.deepEqual(t13.map((t) => t.message.lifetime), [604800, 604800]);
  assert.equal(SSL_CTX_set_timeout(ctx, 300), 1209600);
  assert.equal(SSL_CTX_set_timeout(ctx, 1.5), 0);
  assert.equal(SSL_CTX_get_timeout(ctx), 300);
});

Deno.test("ssl/ssl_lib.c:SSL_new_session_ticket: 0 before the handshake and in TLS 1.2; 1 after TLS 1.3 tickets, queueing one more", async () => {
  const ctx = await SSL_CTX_new();
  const s12 = SSL_new(ctx);
  assert.equal(SSL_new_session_ticket(s12), 0);
  await fullTls12(s12);
  assert.equal(SSL_new_session_ticket(s12), 0);

  const s13 = SSL_new(ctx);
  assert.equal(SSL_new_session_ticket(s13), 0);
  assert.equal((await fullTls13(s13)).length, 2);
  assert.equal(SSL_new_session_ticket(s13), 1);
  assert.equal(SSL_new_session_ticket(s13), 1);
  const extra = await s13.newSessionTickets({ resumptionMasterSecret: RMS });
  assert.equal(extra.length, 2);
  assert.deepEqual(extra.map((t) => t.message.tls13 ? t.message.nonce.toHex() : null), [
    "0000000000000002",
    "0000000000000003",
  ]);
});

// -------------------------------------------------------------------------------------------
// SSL_SESSION

Deno.test("ssl/ssl_sess.c:SSL_SESSION_set1_ticket_appdata / get0: set, replace, clear with NULL or 0 length", () => {
  const ss = new SslSession();
  assert.deepEqual(SSL_SESSION_get0_ticket_appdata(ss), { ret: 1, data: null, len: 0 });
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, "HelloWorld", 10), 1);
  let got = SSL_SESSION_get0_ticket_appdata(ss);
  assert.equal(got.ret, 1);
  assert.equal(text(got.data), "HelloWorld");
  assert.equal(got.len, 10);
  // get0: the stored memory, not a copy.
  assert.equal(got.data, ss.getTicketAppData());
  // set1: a copy of the caller's bytes, of `len` bytes.
  const src = new Uint8Array([1, 2, 3, 4]);
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, src, 3), 1);
  src[0] = 9;
  got = SSL_SESSION_get0_ticket_appdata(ss);
  assert.deepEqual(got, { ret: 1, data: new Uint8Array([1, 2, 3]), len: 3 });
  // NULL data clears and returns 1; so does len 0.
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, null, 5), 1);
  assert.deepEqual(SSL_SESSION_get0_ticket_appdata(ss), { ret: 1, data: null, len: 0 });
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, src, 4), 1);
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, src, 0), 1);
  assert.deepEqual(SSL_SESSION_get0_ticket_appdata(ss), { ret: 1, data: null, len: 0 });
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, new Uint8Array(0)), 1);
  assert.deepEqual(SSL_SESSION_get0_ticket_appdata(ss), { ret: 1, data: null, len: 0 });
  // The old value is freed first; a failed copy leaves no app data and returns 0.
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, src), 1);
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, src, 5), 0);
  assert.deepEqual(SSL_SESSION_get0_ticket_appdata(ss), { ret: 1, data: null, len: 0 });
  assert.equal(SSL_SESSION_set1_ticket_appdata(ss, src, -1), 0);
});

Deno.test("ssl/ssl_sess.c:SSL_SESSION_has_ticket / get0_ticket / get_ticket_lifetime_hint", () => {
  const none = new SslSession();
  assert.equal(SSL_SESSION_has_ticket(none), 0);
  assert.deepEqual(SSL_SESSION_get0_ticket(none), { tick: null, len: 0 });
  assert.equal(SSL_SESSION_get_ticket_lifetime_hint(none), 0);
  // A zero-length TLS 1.2 NST leaves has_ticket 0 (ticklen > 0 ? 1 : 0).
  const empty = new SslSession({ ticket: new Uint8Array(0) });
  assert.equal(SSL_SESSION_has_ticket(empty), 0);
  assert.equal(SSL_SESSION_get0_ticket(empty).len, 0);
  const full = new SslSession({ ticket: TLS12_TICKET, ticketLifetimeHint: 7200 });
  assert.equal(SSL_SESSION_has_ticket(full), 1);
  const { tick, len } = SSL_SESSION_get0_ticket(full);
  assert.equal(len, 176);
  assert.deepEqual(tick, TLS12_TICKET);
  assert.equal(SSL_SESSION_get_ticket_lifetime_hint(full), 7200);
});

Deno.test("ssl/ssl_lib.c:SSL_SESSION_get_master_key: outlen 0 returns the length; otherwise copies min(outlen, length)", () => {
  const mk = Uint8Array.from({ length: 48 }, (_, i) => i + 1);
  const s = new SslSession({ masterKey: mk });
  assert.equal(SSL_SESSION_get_master_key(s, null, 0), 48);
  assert.equal(SSL_SESSION_get_master_key(s, new Uint8Array(10), 0), 48);
  const small = new Uint8Array(16);
  assert.equal(SSL_SESSION_get_master_key(s, small, 16), 16);
  assert.deepEqual(small, mk.subarray(0, 16));
  const big = new Uint8Array(64);
  assert.equal(SSL_SESSION_get_master_key(s, big, 64), 48);
  assert.deepEqual(big.subarray(0, 48), mk);
  assert.equal(SSL_SESSION_get_master_key(s, new Uint8Array(8), 100), 8);
});

Deno.test("ssl/ssl_asn1.c:i2d_SSL_SESSION / d2i_SSL_SESSION: the observed plaintexts round-trip byte for byte", () => {
  for (const der of [TLS12_DER, TLS13_DER]) {
    const s = d2i_SSL_SESSION(der, der.length);
    assert.ok(s);
    assert.deepEqual(i2d_SSL_SESSION(s), der);
  }
  assert.equal(d2i_SSL_SESSION(TLS13_DER)!.ticketAgeAdd, 0x6cc2081e);
});

Deno.test("ssl/ssl_asn1.c:d2i_SSL_SESSION returns NULL on bad input and never throws; like C it stops after the SEQUENCE", () => {
  assert.equal(d2i_SSL_SESSION(null), null);
  assert.equal(d2i_SSL_SESSION(new Uint8Array(0)), null);
  assert.equal(d2i_SSL_SESSION(TLS12_DER, 0), null);
  assert.equal(d2i_SSL_SESSION(TLS12_DER, -1), null);
  assert.equal(d2i_SSL_SESSION(TLS12_DER, 106), null); // length cuts the SEQUENCE
  assert.equal(d2i_SSL_SESSION(TLS12_DER.subarray(0, 50)), null);
  assert.equal(d2i_SSL_SESSION(new Uint8Array([0x30, 0x00])), null);
  // Trailing bytes after the SEQUENCE are not read by d2i (tls_decrypt_ticket checks them).
  const trailing = new Uint8Array([...TLS12_DER, 0xde, 0xad]);
  assert.deepEqual(i2d_SSL_SESSION(d2i_SSL_SESSION(trailing)!), TLS12_DER);
  assert.deepEqual(i2d_SSL_SESSION(d2i_SSL_SESSION(trailing, 107)!), TLS12_DER);
  // Every truncation and every single-byte corruption: a session or NULL, never an exception.
  for (let n = 0; n < TLS13_DER.length; n++) {
    assert.equal(d2i_SSL_SESSION(TLS13_DER.subarray(0, n)), null);
  }
  for (let i = 0; i < TLS12_DER.length; i++) {
    for (const x of [0x01, 0x80, 0xff]) {
      const bad = TLS12_DER.slice();
      bad[i] ^= x;
      const r = d2i_SSL_SESSION(bad);
      assert.ok(r === null || r instanceof SslSession);
    }
  }
});

Deno.test("ssl/ssl_asn1.c:i2d_SSL_SESSION: a session outside OpenSSL's limits is a DerError", () => {
  assert.throws(() => i2d_SSL_SESSION(new SslSession({ sessionId: new Uint8Array(33) })), DerError);
});

// -------------------------------------------------------------------------------------------
// doc/man3/SSL_CTX_set_session_ticket_cb.pod and test/ssl-tests/27-ticket-appdata.cnf.in

/** The man page's callbacks: gen_cb stores app data, dec_cb checks status before using ss. */
function manPageCallbacks(log: string[]) {
  const gen_cb: SSL_CTX_generate_session_ticket_fn = (s, arg) => {
    log.push(`gen ${arg}`);
    return SSL_SESSION_set1_ticket_appdata(SSL_get_session(s)!, "HelloWorld", 10);
  };
  const dec_cb: SSL_CTX_decrypt_session_ticket_fn = (_s, ss, keyname, status, arg) => {
    switch (status) {
      case SSL_TICKET_EMPTY:
      case SSL_TICKET_NO_DECRYPT:
        log.push(`dec ${status} ${arg} ss=${ss}`);
        return SSL_TICKET_RETURN_IGNORE_RENEW;
      case SSL_TICKET_SUCCESS:
      case SSL_TICKET_SUCCESS_RENEW: {
        const { ret, data, len } = SSL_SESSION_get0_ticket_appdata(ss!);
        log.push(`dec ${status} ${arg} kn=${keyname.length} ${ret} ${text(data)} ${len}`);
        return status === SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
      }
      default:
        return SSL_TICKET_RETURN_ABORT;
    }
  };
  return { gen_cb, dec_cb };
}

Deno.test("SSL_CTX_set_session_ticket_cb.pod / 27-ticket-appdata (TLS 1.2): gen_cb app data comes back in dec_cb and SSL_get_session", async () => {
  const ctx = await SSL_CTX_new(TLS_server_method());
  const log: string[] = [];
  const { gen_cb, dec_cb } = manPageCallbacks(log);
  assert.equal(SSL_CTX_set_session_ticket_cb(ctx, gen_cb, dec_cb, "arg"), 1);

  const s1 = SSL_new(ctx);
  const [nst] = await fullTls12(s1);
  assert.equal(nst.message.lifetime, 7200);
  assert.deepEqual(log.splice(0), [`dec ${SSL_TICKET_EMPTY} arg ss=null`, "gen arg"]);

  const s2 = SSL_new(ctx);
  const hello = await s2.processClientHello({ ...TLS12_HELLO, sessionTicket: nst.message.ticket });
  assert.equal(hello.resumed, true);
  assert.deepEqual(log.splice(0), [`dec ${SSL_TICKET_SUCCESS} arg kn=16 1 HelloWorld 10`]);
  assert.equal(text(SSL_SESSION_get0_ticket_appdata(SSL_get_session(s2)!).data), "HelloWorld");
  // TLS 1.2 default: no new ticket on resumption, so gen_cb is not called.
  assert.deepEqual(await s2.newSessionTickets(), []);
  assert.deepEqual(log, []);
});

Deno.test("SSL_CTX_set_session_ticket_cb.pod / 27-ticket-appdata (TLS 1.3): app data round-trips; resumption renews (SUCCESS_RENEW)", async () => {
  const ctx = await SSL_CTX_new();
  const log: string[] = [];
  const { gen_cb, dec_cb } = manPageCallbacks(log);
  SSL_CTX_set_session_ticket_cb(ctx, gen_cb, dec_cb, 7);
  const tickets = await fullTls13(SSL_new(ctx));
  assert.equal(tickets.length, 2);
  assert.deepEqual(log.splice(0), ["gen 7", "gen 7"]);

  const s2 = SSL_new(ctx);
  const hello = await resumeTls13(s2, tickets[0].message.ticket);
  assert.equal(hello.resumed, true);
  assert.equal(hello.identity, 0);
  assert.deepEqual(log.splice(0), [`dec ${SSL_TICKET_SUCCESS_RENEW} 7 kn=16 1 HelloWorld 10`]);
  assert.equal(text(SSL_SESSION_get0_ticket_appdata(SSL_get_session(s2)!).data), "HelloWorld");
  assert.equal((await s2.newSessionTickets({ resumptionMasterSecret: RMS })).length, 1);
  assert.deepEqual(log, ["gen 7"]);
});

Deno.test("SSL_CTX_set_session_ticket_cb.pod RETURN VALUES: gen_cb returning 0 ends the handshake with internal_error (80)", async () => {
  const ctx = await SSL_CTX_new();
  SSL_CTX_set_session_ticket_cb(ctx, () => 0, null, null);
  await assert.rejects(
    () => fullTls12(SSL_new(ctx)),
    (e: unknown) => e instanceof TlsAlert && e.alert === SSL_AD_INTERNAL_ERROR,
  );
  // The context stays usable.
  SSL_CTX_set_session_ticket_cb(ctx, () => 1, null, null);
  assert.equal((await fullTls12(SSL_new(ctx))).length, 1);
});

Deno.test("SSL_CTX_set_session_ticket_cb.pod: dec_cb returning SSL_TICKET_RETURN_ABORT ends the handshake with internal_error (80)", async () => {
  const ctx = await SSL_CTX_new();
  SSL_CTX_set_session_ticket_cb(ctx, null, () => SSL_TICKET_RETURN_ABORT, null);
  await assert.rejects(
    () => SSL_new(ctx).processClientHello({ ...TLS12_HELLO, sessionTicket: new Uint8Array(0) }),
    (e: unknown) => e instanceof TlsAlert && e.alert === SSL_AD_INTERNAL_ERROR,
  );
  SSL_CTX_set_session_ticket_cb(ctx, null, () => SSL_TICKET_RETURN_IGNORE, null);
  const s = SSL_new(ctx);
  const hello = await s.processClientHello({ ...TLS12_HELLO, sessionTicket: new Uint8Array(0) });
  assert.equal(hello.resumed, false);
  assert.equal(hello.ticketExpected, false); // IGNORE: no new ticket
});
