// Tests for the server wire codecs (src/server/wire/) and the TLS 1.3 key schedule pieces
// (src/server/key_schedule.ts). Each test names the OpenSSL source it mirrors.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { TlsAlert } from "../src/server/alert.ts";
import {
  decodeNewSessionTicket,
  encodeNewSessionTicket,
  NEW_SESSION_TICKET_TYPE,
  type NewSessionTicket13,
  TICKET_NONCE_SIZE,
  ticketNonce,
} from "../src/server/wire/new_session_ticket.ts";
import {
  encodeExtensions,
  ExtensionType,
  parseExtensions,
  sessionTicketFromExtensions,
} from "../src/server/wire/extensions.ts";
import {
  encodePreSharedKey,
  encodePskKeyExchangeModes,
  parsePreSharedKey,
  parsePskKeyExchangeModes,
  PreSharedKeyReader,
  PskKeyExchangeMode,
} from "../src/server/wire/psk.ts";
import {
  hashLength,
  isTls13Suite,
  TLS13_CIPHER_SUITES,
  tls13Suite,
} from "../src/server/wire/cipher_suites.ts";
import { hkdfExpand, hkdfExpandLabel } from "../src/server/hkdf.ts";
import { resumptionPsk } from "../src/server/key_schedule.ts";

/** RFC 8446 §7.1 `HkdfLabel`, written out here to feed the openssl kdf cross-check. */
function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const full = new TextEncoder().encode("tls13 " + label);
  return new Uint8Array([
    length >>> 8,
    length & 0xff,
    full.length,
    ...full,
    context.length,
    ...context,
  ]);
}

const hex = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.fromHex(s.replace(/\s+/g, ""));
const toHex = (b: Uint8Array): string => b.toHex();

/** A NewSessionTicket message around a hex body: `04 | u24 length | body`. */
function nst(body: string): Uint8Array<ArrayBuffer> {
  const b = hex(body);
  return Uint8Array.of(4, b.length >> 16, (b.length >> 8) & 0xff, b.length & 0xff, ...b);
}

/**
 * Runs `f` and returns the alert number of the TlsAlert it throws (fails otherwise). With
 * `reason`, also checks that the message names the expected cause.
 */
function alertOf(f: () => unknown, reason?: string): number {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TlsAlert, `expected TlsAlert, got ${e}`);
    if (reason !== undefined) assert.ok(e.message.includes(reason), e.message);
    return e.alert;
  }
  assert.fail("expected a TlsAlert");
}

/** Runs `f` and returns the TlsAlert it throws (fails otherwise). */
function thrownAlert(f: () => unknown): TlsAlert {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TlsAlert, `expected TlsAlert, got ${e}`);
    return e;
  }
  assert.fail("expected a TlsAlert");
}

// ---------------------------------------------------------------------------------------------
// Observed vectors (libssl 3.0.19, ticket keys keys[i] = i).

/** TLS 1.2 ticket, 176 bytes: key_name | iv | ciphertext | HMAC-SHA256. */
const TICKET_12 = hex(
  "000102030405060708090a0b0c0d0e0fa7a3281f357aa2089a694076f1ef43dad8bfab6d5399fab81ebc2611ac43" +
    "97418252bfccbdc5c2bad8b5a3492674bab9bcf357f2bd9c6c2658993f05383280fcb7c23e6276ea6239f3dfa6" +
    "1292272f3e482ec0bc61e2a7871567a97889e4c179448729a4a86a9d4cc8705ea9233a1d7f21d3a60b2937c3a8" +
    "1cc891cbdd845a595e397bafb5e6818743cc9336b1ed296d1f10469ccd4725c05830226afaa77a80",
);

/** TLS 1.3 ticket, 208 bytes (second ticket of the connection, TLS_AES_256_GCM_SHA384). */
const TICKET_13 = hex(
  "000102030405060708090a0b0c0d0e0f074a065de1d51a54dd8317f458870a650ac38bf6658cc0241068e42afd" +
    "d7371d6adeee58a8a8ce8d1c43fe7dbf51867f7fccf8ec5ca3a3d37e697ecc5615bf28c3a9d64060bb3cf8dc87" +
    "51eaec94dfb1b4a748f33cc3c5773683eef589b9ba893d18b99ead210385255adef618d34d2f6ec1a05ff2910b" +
    "234042fb1a8d0ce7141a7781896d9121e1d9bcc27db649e579c8f72bc7326f82df6fbb22f544f8f35d071f6592" +
    "f658d5245594454d9343a558722f2fa3f351e25ac9a6eb6cf41d2efd",
);

/** The observed TLS 1.3 NewSessionTicket message, as captured on the wire. */
const NST_13_OBSERVED = "040000e5" + "00001c20" + "6cc2081e" + "08" + "0000000000000001" + "00d0" +
  TICKET_13.toHex() + "0000";

const HMAC_KEY = Uint8Array.from({ length: 32 }, (_, i) => 16 + i); // keys[16..47]

Deno.test("vectors: the observed tickets carry a valid HMAC-SHA256 over name|iv|ciphertext (ssl/t1_lib.c:tls_decrypt_ticket)", () => {
  // Guards the transcription of the vectors: the MAC covers everything before it.
  for (const t of [TICKET_12, TICKET_13]) {
    const mac = createHmac("sha256", HMAC_KEY).update(t.subarray(0, t.length - 32)).digest();
    assert.equal(mac.toString("hex"), toHex(t.subarray(t.length - 32)));
  }
  assert.equal(TICKET_12.length, 176);
  assert.equal(TICKET_13.length, 208);
});

// ---------------------------------------------------------------------------------------------
// NewSessionTicket

Deno.test("NST TLS 1.2: observed 04 0000b6 | 00001c20 | 00b0 | ticket (ssl/statem/statem_srvr.c:create_ticket_prequel)", () => {
  const msg = encodeNewSessionTicket({ tls13: false, lifetime: 7200, ticket: TICKET_12 });
  assert.equal(msg.length, 4 + 0xb6);
  assert.equal(toHex(msg), "040000b6" + "00001c20" + "00b0" + TICKET_12.toHex());
  const back = decodeNewSessionTicket(msg, false);
  assert.deepEqual(back, { tls13: false, lifetime: 7200, ticket: TICKET_12 });
  assert.ok(back.ticket.buffer !== msg.buffer, "decoded ticket is a copy");
});

Deno.test("NST TLS 1.2: key callback returned 0 gives lifetime 0 and an empty ticket (statem_srvr.c:construct_stateless_ticket)", () => {
  const msg = encodeNewSessionTicket({ tls13: false, lifetime: 0, ticket: new Uint8Array(0) });
  assert.equal(toHex(msg), "04000006" + "00000000" + "0000");
  assert.deepEqual(decodeNewSessionTicket(msg, false), {
    tls13: false,
    lifetime: 0,
    ticket: new Uint8Array(0),
  });
  // A renewal after resumption: hint 0 with a real ticket; two-week timeout hint 1209600.
  assert.equal(
    toHex(encodeNewSessionTicket({ tls13: false, lifetime: 1209600, ticket: new Uint8Array([7]) })),
    "04000007" + "00127500" + "0001" + "07",
  );
});

Deno.test("NST TLS 1.3: reproduces the observed 233-byte message from its parts (statem_srvr.c:create_ticket_prequel, tls_construct_new_session_ticket)", () => {
  const nst: NewSessionTicket13 = {
    tls13: true,
    lifetime: 7200, // min(timeout 7200, 604800)
    ageAdd: 0x6cc2081e, // equals the DER [14] age_add
    nonce: ticketNonce(1), // second ticket: next_ticket_nonce = 1
    ticket: TICKET_13,
    maxEarlyData: 0, // no early_data extension: 00 00
  };
  const msg = encodeNewSessionTicket(nst);
  assert.equal(msg.length, 233);
  assert.equal(toHex(msg), NST_13_OBSERVED);
  assert.deepEqual(decodeNewSessionTicket(msg, true), nst);
});

Deno.test("NST TLS 1.3: early_data extension iff max_early_data > 0 (extensions_srvr.c:tls_construct_stoc_early_data)", () => {
  const base = {
    tls13: true as const,
    lifetime: 604800,
    ageAdd: 0xffffffff,
    nonce: ticketNonce(0),
    ticket: new Uint8Array(32).fill(0xee), // a stateful ticket is a 32-byte session id
  };
  const withEd = encodeNewSessionTicket({ ...base, maxEarlyData: 16384 });
  assert.equal(
    toHex(withEd),
    "0400003d" + "00093a80" + "ffffffff" + "08" + "0000000000000000" + "0020" + "ee".repeat(32) +
      "0008" + "002a" + "0004" + "00004000",
  );
  assert.equal(decodeNewSessionTicket(withEd, true).maxEarlyData, 16384);
  const without = encodeNewSessionTicket({ ...base, maxEarlyData: 0 });
  assert.equal(toHex(without.subarray(without.length - 2)), "0000");
  assert.equal(without.length, withEd.length - 8);
});

Deno.test("NST TLS 1.3: the ticket nonce is the 8-byte big-endian ticket counter (statem_srvr.c:tls_construct_new_session_ticket)", () => {
  assert.equal(TICKET_NONCE_SIZE, 8);
  assert.equal(NEW_SESSION_TICKET_TYPE, 4);
  assert.equal(toHex(ticketNonce(0)), "0000000000000000");
  assert.equal(toHex(ticketNonce(258)), "0000000000000102");
  assert.equal(toHex(ticketNonce(Number.MAX_SAFE_INTEGER)), "001fffffffffffff");
  assert.equal(toHex(ticketNonce(0xffffffffffffffffn)), "ffffffffffffffff");
  assert.equal(alertOf(() => ticketNonce(-1)), 80);
  assert.equal(alertOf(() => ticketNonce(1.5)), 80);
  assert.equal(alertOf(() => ticketNonce(2 ** 64)), 80);
  assert.equal(alertOf(() => ticketNonce(0x10000000000000000n)), 80);
});

Deno.test("NST encode: out-of-range fields end in internal_error 80, as WPACKET failures do (statem_srvr.c:tls_construct_new_session_ticket)", () => {
  const ok13 = {
    tls13: true as const,
    lifetime: 1,
    ageAdd: 1,
    nonce: new Uint8Array(8),
    ticket: new Uint8Array(1),
    maxEarlyData: 0,
  };
  assert.equal(alertOf(() => encodeNewSessionTicket({ ...ok13, ticket: new Uint8Array(0) })), 80);
  assert.equal(alertOf(() => encodeNewSessionTicket({ ...ok13, lifetime: 2 ** 32 })), 80);
  assert.equal(alertOf(() => encodeNewSessionTicket({ ...ok13, ageAdd: -1 })), 80);
  assert.equal(alertOf(() => encodeNewSessionTicket({ ...ok13, maxEarlyData: 0.5 })), 80);
  assert.equal(alertOf(() => encodeNewSessionTicket({ ...ok13, nonce: new Uint8Array(256) })), 80);
  assert.equal(
    alertOf(() => encodeNewSessionTicket({ ...ok13, ticket: new Uint8Array(65536) })),
    80,
  );
  assert.equal(
    alertOf(() =>
      encodeNewSessionTicket({ tls13: false, lifetime: 0, ticket: new Uint8Array(65536) })
    ),
    80,
  );
  // Largest ticket that fits: 65535 bytes.
  const big = encodeNewSessionTicket({ ...ok13, ticket: new Uint8Array(65535) });
  assert.equal(decodeNewSessionTicket(big, true).ticket.length, 65535);
});

Deno.test("NST decode: malformed messages end in decode_error 50 (ssl/statem/statem_clnt.c:tls_process_new_session_ticket)", () => {
  const v13 = hex(NST_13_OBSERVED);
  const v12 = encodeNewSessionTicket({ tls13: false, lifetime: 7200, ticket: TICKET_12 });
  // Every truncation of either message.
  for (let n = 0; n < v13.length; n++) {
    assert.equal(alertOf(() => decodeNewSessionTicket(v13.subarray(0, n), true)), 50);
  }
  for (let n = 0; n < v12.length; n++) {
    assert.equal(alertOf(() => decodeNewSessionTicket(v12.subarray(0, n), false)), 50);
  }
  const dec12 = (m: Uint8Array) => () => decodeNewSessionTicket(m, false);
  const dec13 = (m: Uint8Array) => () => decodeNewSessionTicket(m, true);
  // A byte after the declared handshake length.
  assert.equal(alertOf(dec13(Uint8Array.of(...v13, 0)), "trailing bytes after handshake body"), 50);
  // TLS <= 1.2: ticket_len must equal the bytes that follow (PACKET_remaining != ticklen).
  assert.equal(alertOf(dec12(nst("00000000 0000 00")), "ticket length 0 but 1 bytes"), 50);
  assert.equal(alertOf(dec12(nst("00000000 0001")), "ticket length 1 but 0 bytes"), 50);
  // TLS 1.3: zero-length ticket.
  assert.equal(alertOf(dec13(nst("00000001 00000002 00 0000 0000")), "empty TLS 1.3 ticket"), 50);
  // TLS 1.3: nonce or ticket overruns.
  assert.equal(alertOf(dec13(nst("00000001 00000002 09 0001 aa 0000")), "nonce needs 9"), 50);
  assert.equal(alertOf(dec13(nst("00000001 00000002 00 0009 aa 0000")), "ticket needs 9"), 50);
  // TLS 1.3: extensions length overruns / leaves bytes / is missing.
  assert.equal(
    alertOf(dec13(nst("00000001 00000002 00 0001 aa 0001")), "extensions needs 1 bytes, 0 left"),
    50,
  );
  assert.equal(
    alertOf(dec13(nst("00000001 00000002 00 0001 aa 0000 00000000")), "4 trailing bytes"),
    50,
  );
  assert.equal(alertOf(dec13(nst("00000001 00000002 00 0001 aa")), "extensions length"), 50);
  // TLS 1.3: early_data must be exactly a u32 (tls_parse_stoc_early_data).
  assert.equal(
    alertOf(
      dec13(nst("00000001 00000002 00 0001 aa 0007 002a 0003 000001")),
      "max_early_data needs 4",
    ),
    50,
  );
  assert.equal(
    alertOf(
      dec13(nst("00000001 00000002 00 0001 aa 0009 002a 0005 0000000100")),
      "1 trailing bytes after max_early_data",
    ),
    50,
  );
  // Wrong handshake type: the state machine's unexpected_message (10).
  assert.equal(alertOf(() => decodeNewSessionTicket(hex("02000006 00000000 0000"), false)), 10);
});

Deno.test("NST decode TLS 1.3: duplicate extension is illegal_parameter 47, unknown extensions are skipped, empty nonce accepted (extensions.c:tls_collect_extensions)", () => {
  const dup = nst("00000001 00000002 00 0001 aa 0010 002a000400000001 002a000400000002");
  assert.equal(alertOf(() => decodeNewSessionTicket(dup, true), "duplicate extension 42"), 47);
  const unknown = nst("00000001 00000002 00 0001 aa 000c 1234 0000 002a0004 00000400");
  assert.deepEqual(decodeNewSessionTicket(unknown, true), {
    tls13: true,
    lifetime: 1,
    ageAdd: 2,
    nonce: new Uint8Array(0),
    ticket: new Uint8Array([0xaa]),
    maxEarlyData: 1024,
  });
});

// ---------------------------------------------------------------------------------------------
// Extension blocks and session_ticket

Deno.test("session_ticket: absent vs empty vs full ticket (ssl/t1_lib.c:tls_get_ticket_from_client)", () => {
  const absent = parseExtensions(encodeExtensions([[0x000a, hex("0004001d0017")]]));
  assert.equal(sessionTicketFromExtensions(absent), null);
  const empty = parseExtensions(hex("0004 0023 0000"));
  assert.deepEqual(sessionTicketFromExtensions(empty), new Uint8Array(0));
  const block = encodeExtensions([[0x0000, hex("0000")], [
    ExtensionType.SESSION_TICKET,
    TICKET_12,
  ]]);
  assert.equal(toHex(block.subarray(0, 12)), "00ba" + "00000002" + "0000" + "002300b0");
  const full = parseExtensions(block);
  assert.deepEqual([...full.keys()], [0, 35]);
  assert.deepEqual(sessionTicketFromExtensions(full), TICKET_12);
  // A ClientHello that ends before its extensions: no extensions at all.
  assert.equal(parseExtensions(new Uint8Array(0)).size, 0);
  assert.equal(parseExtensions(hex("0000")).size, 0);
  assert.equal(toHex(encodeExtensions([])), "0000");
});

Deno.test("extension block: libssl's errors (ssl/statem/extensions.c:tls_collect_extensions, statem_srvr.c:tls_process_client_hello)", () => {
  // Truncated type / length / body, and a block length that overruns: decode_error.
  assert.equal(alertOf(() => parseExtensions(hex("00"))), 50);
  assert.equal(alertOf(() => parseExtensions(hex("0001 00"))), 50);
  assert.equal(alertOf(() => parseExtensions(hex("0003 0023 00"))), 50);
  assert.equal(alertOf(() => parseExtensions(hex("0005 0023 0002 00"))), 50);
  assert.equal(alertOf(() => parseExtensions(hex("0008 0023 0000"))), 50);
  // Bytes after the block: decode_error (LENGTH_MISMATCH).
  assert.equal(alertOf(() => parseExtensions(hex("0004 0023 0000 ff"))), 50);
  // A repeated extension: illegal_parameter.
  assert.equal(alertOf(() => parseExtensions(hex("0008 0023 0000 0023 0000"))), 47);
  // pre_shared_key must be last in a ClientHello: illegal_parameter.
  assert.equal(alertOf(() => parseExtensions(hex("0008 0029 0000 002d 0000"))), 47);
  assert.deepEqual(
    [...parseExtensions(hex("0008 002d 0000 0029 0000")).keys()],
    [ExtensionType.PSK_KEY_EXCHANGE_MODES, ExtensionType.PRE_SHARED_KEY],
  );
  // Outside a ClientHello the order check does not apply.
  assert.equal(parseExtensions(hex("0008 0029 0000 002d 0000"), { clientHello: false }).size, 2);
  // Encoder range checks.
  assert.equal(alertOf(() => encodeExtensions([[65536, new Uint8Array(0)]])), 80);
  assert.equal(alertOf(() => encodeExtensions([[1, new Uint8Array(65536)]])), 80);
  assert.equal(alertOf(() => encodeExtensions([[1, new Uint8Array(65532)]])), 80);
  assert.equal(encodeExtensions([[1, new Uint8Array(65531)]]).length, 65537);
});

// ---------------------------------------------------------------------------------------------
// psk_key_exchange_modes

Deno.test("psk_key_exchange_modes: parse and encode (ssl/statem/extensions_srvr.c:tls_parse_ctos_psk_kex_modes)", () => {
  assert.deepEqual(parsePskKeyExchangeModes(hex("0101")), {
    modes: [1],
    pskKe: false,
    pskDheKe: true,
  });
  assert.deepEqual(parsePskKeyExchangeModes(hex("020001")), {
    modes: [0, 1],
    pskKe: true,
    pskDheKe: true,
  });
  // Unknown modes are kept but recognise nothing: libssl then ignores pre_shared_key.
  assert.deepEqual(parsePskKeyExchangeModes(hex("0207ff")), {
    modes: [7, 255],
    pskKe: false,
    pskDheKe: false,
  });
  assert.equal(PskKeyExchangeMode.PSK_KE, 0);
  assert.equal(PskKeyExchangeMode.PSK_DHE_KE, 1);
  // Not exactly length-prefixed, or an empty list: decode_error.
  for (const bad of ["", "00", "01", "0201", "010100", "0001"]) {
    assert.equal(alertOf(() => parsePskKeyExchangeModes(hex(bad))), 50, bad);
  }
  assert.equal(toHex(encodePskKeyExchangeModes([0, 1])), "020001");
  assert.equal(toHex(encodePskKeyExchangeModes([])), "00");
  assert.equal(alertOf(() => encodePskKeyExchangeModes([256])), 80);
  assert.equal(alertOf(() => encodePskKeyExchangeModes(new Array(256).fill(1))), 80);
});

// ---------------------------------------------------------------------------------------------
// pre_shared_key

const BINDER_48 = Uint8Array.from({ length: 48 }, (_, i) => 0xb0 ^ i);

Deno.test("pre_shared_key: encodes the observed TLS 1.3 ticket as an identity byte for byte (extensions_srvr.c:tls_parse_ctos_psk)", () => {
  const body = encodePreSharedKey({
    identities: [{ identity: TICKET_13, obfuscatedTicketAge: 0x12345678 }],
    binders: [BINDER_48],
  });
  assert.equal(
    toHex(body),
    "00d6" + "00d0" + TICKET_13.toHex() + "12345678" + "0031" + "30" + BINDER_48.toHex(),
  );
  const r = new PreSharedKeyReader(body);
  assert.equal(r.bindersOffset, 2 + 0xd6);
  const first = r.nextIdentity();
  assert.deepEqual(first, { index: 0, identity: TICKET_13, obfuscatedTicketAge: 0x12345678 });
  assert.equal(r.nextIdentity(), null);
  assert.deepEqual(r.binder(0, 48), BINDER_48);
  assert.deepEqual(parsePreSharedKey(body), {
    identities: [{ identity: TICKET_13, obfuscatedTicketAge: 0x12345678 }],
    binders: [BINDER_48],
  });
  // In a ClientHello extension block it must come last.
  const block = encodeExtensions([
    [ExtensionType.PSK_KEY_EXCHANGE_MODES, encodePskKeyExchangeModes([1])],
    [ExtensionType.PRE_SHARED_KEY, body],
  ]);
  assert.deepEqual(parseExtensions(block).get(41), body);
});

Deno.test("pre_shared_key: identities are read lazily, one per step, as libssl does (extensions_srvr.c:tls_parse_ctos_psk)", () => {
  // identity 0 is fine; identity 1 is truncated (claims 5 bytes, has 2). libssl only notices if
  // it moves on to identity 1.
  const body = hex("000b" + "0001 aa 00000001" + "0005 bbbb" + "0021 20" + "11".repeat(32));
  const r = new PreSharedKeyReader(body);
  assert.deepEqual(r.nextIdentity(), {
    index: 0,
    identity: new Uint8Array([0xaa]),
    obfuscatedTicketAge: 1,
  });
  assert.deepEqual(r.binder(0, 32), new Uint8Array(32).fill(0x11));
  assert.equal(alertOf(() => r.nextIdentity()), 50);
  assert.equal(alertOf(() => parsePreSharedKey(body)), 50);

  // for…of with break leaves the rest unread.
  const ok = encodePreSharedKey({
    identities: [
      { identity: hex("01"), obfuscatedTicketAge: 10 },
      { identity: hex("0202"), obfuscatedTicketAge: 20 },
      { identity: hex("030303"), obfuscatedTicketAge: 30 },
    ],
    binders: [new Uint8Array(32), new Uint8Array(48).fill(2), new Uint8Array(32).fill(3)],
  });
  const r2 = new PreSharedKeyReader(ok);
  const seen: number[] = [];
  for (const id of r2) {
    seen.push(id.obfuscatedTicketAge);
    if (id.index === 1) break;
  }
  assert.deepEqual(seen, [10, 20]);
  assert.deepEqual(r2.nextIdentity()?.identity, hex("030303"));
  assert.deepEqual(r2.binder(1, 48), new Uint8Array(48).fill(2));
  assert.deepEqual(r2.binder(2, 32), new Uint8Array(32).fill(3));
});

Deno.test("pre_shared_key: a zero-length identity is decode_error 50 (tls_parse_ctos_psk, 3.0.21+)", () => {
  const body = encodePreSharedKey({
    identities: [{ identity: new Uint8Array(0), obfuscatedTicketAge: 0 }],
    binders: [new Uint8Array(32)],
  });
  assert.equal(toHex(body.subarray(0, 8)), "0006" + "0000" + "00000000");
  const r = new PreSharedKeyReader(body);
  assert.equal(alertOf(() => r.nextIdentity()), 50);
  assert.equal(alertOf(() => parsePreSharedKey(body)), 50);
  // A valid identity first: libssl accepts it before it ever reaches the empty one.
  const later = encodePreSharedKey({
    identities: [
      { identity: hex("aa"), obfuscatedTicketAge: 0 },
      { identity: new Uint8Array(0), obfuscatedTicketAge: 0 },
    ],
    binders: [new Uint8Array(32), new Uint8Array(32)],
  });
  const r2 = new PreSharedKeyReader(later);
  assert.equal(r2.nextIdentity()?.index, 0);
  assert.equal(alertOf(() => r2.nextIdentity()), 50);
});

Deno.test("pre_shared_key: identities/binders length and binder checks are decode_error 50 (tls_parse_ctos_psk)", () => {
  // Identities length overruns the body: rejected before any identity is read.
  assert.equal(alertOf(() => new PreSharedKeyReader(hex("0010 0001 aa"))), 50);
  assert.equal(alertOf(() => new PreSharedKeyReader(hex("00"))), 50);
  assert.equal(alertOf(() => new PreSharedKeyReader(new Uint8Array(0))), 50);
  // Identity whose age is cut off.
  assert.equal(alertOf(() => new PreSharedKeyReader(hex("0005 0001 aa 0000")).nextIdentity()), 50);
  // An empty identities list: libssl finds no PSK and carries on (strict parse rejects it).
  const none = new PreSharedKeyReader(hex("0000 0000"));
  assert.equal(none.nextIdentity(), null);
  assert.equal(alertOf(() => parsePreSharedKey(hex("0000 0000"))), 50);

  const one = (binders: string) => hex("0007 0001 aa 00000000" + binders);
  const b32 = "20" + "00".repeat(32);
  // Binder of the wrong length for the hash.
  assert.equal(alertOf(() => new PreSharedKeyReader(one("0021" + b32)).binder(0, 48)), 50);
  // Fewer binders than the index needs.
  assert.equal(alertOf(() => new PreSharedKeyReader(one("0021" + b32)).binder(1, 32)), 50);
  // Missing binders list, or its length overruns, or an entry overruns.
  assert.equal(alertOf(() => new PreSharedKeyReader(one("")).binder(0, 32)), 50);
  assert.equal(alertOf(() => new PreSharedKeyReader(one("0030" + b32)).binder(0, 32)), 50);
  assert.equal(
    alertOf(() => new PreSharedKeyReader(one("0021 30" + "00".repeat(32))).binder(0, 32)),
    50,
  );
  // Bytes after the needed binder are not examined by libssl; the strict parse rejects them.
  const trailing = one("0022" + b32 + "ff" + "99");
  assert.deepEqual(new PreSharedKeyReader(trailing).binder(0, 32), new Uint8Array(32));
  assert.equal(alertOf(() => parsePreSharedKey(trailing)), 50);
  // Caller bugs are internal_error.
  assert.equal(alertOf(() => new PreSharedKeyReader(one("0021" + b32)).binder(-1, 32)), 80);
  assert.equal(alertOf(() => new PreSharedKeyReader(one("0021" + b32)).binder(0, 256)), 80);
});

Deno.test("pre_shared_key: strict parse needs one 32..255-byte binder per identity (RFC 8446 4.2.11)", () => {
  const id = { identity: hex("aa"), obfuscatedTicketAge: 0 };
  const count = encodePreSharedKey({ identities: [id, id], binders: [new Uint8Array(32)] });
  assert.equal(alertOf(() => parsePreSharedKey(count)), 50);
  const short = encodePreSharedKey({ identities: [id], binders: [new Uint8Array(31)] });
  assert.equal(alertOf(() => parsePreSharedKey(short)), 50);
  const noBinders = encodePreSharedKey({ identities: [id], binders: [] });
  assert.equal(toHex(noBinders), "0007" + "0001aa00000000" + "0000");
  assert.equal(alertOf(() => parsePreSharedKey(noBinders)), 50);
  const max = encodePreSharedKey({ identities: [id], binders: [new Uint8Array(255)] });
  assert.equal(parsePreSharedKey(max).binders[0].length, 255);
});

Deno.test("pre_shared_key encoder: values that do not fit are internal_error 80", () => {
  const binders = [new Uint8Array(32)];
  assert.equal(
    alertOf(() =>
      encodePreSharedKey({
        identities: [{ identity: new Uint8Array(65536), obfuscatedTicketAge: 0 }],
        binders,
      })
    ),
    80,
  );
  assert.equal(
    alertOf(() =>
      encodePreSharedKey({
        identities: [{ identity: hex("aa"), obfuscatedTicketAge: 2 ** 32 }],
        binders,
      })
    ),
    80,
  );
  assert.equal(
    alertOf(() =>
      encodePreSharedKey({
        identities: [{ identity: hex("aa"), obfuscatedTicketAge: 0 }],
        binders: [new Uint8Array(256)],
      })
    ),
    80,
  );
  // Whole body over 65535 bytes.
  assert.equal(
    alertOf(() =>
      encodePreSharedKey({
        identities: [{ identity: new Uint8Array(65000), obfuscatedTicketAge: 0 }],
        binders: Array.from({ length: 10 }, () => new Uint8Array(255)),
      })
    ),
    80,
  );
});

// ---------------------------------------------------------------------------------------------
// Cipher suites

Deno.test("cipher suites: TLS 1.3 suite ids, hashes and lengths (ssl/s3_lib.c:tls13_ciphers)", () => {
  assert.deepEqual(
    [...TLS13_CIPHER_SUITES.values()].map((s) => [s.id, s.name, s.hash, s.hashLength]),
    [
      [0x1301, "TLS_AES_128_GCM_SHA256", "SHA-256", 32],
      [0x1302, "TLS_AES_256_GCM_SHA384", "SHA-384", 48],
      [0x1303, "TLS_CHACHA20_POLY1305_SHA256", "SHA-256", 32],
      [0x1304, "TLS_AES_128_CCM_SHA256", "SHA-256", 32],
      [0x1305, "TLS_AES_128_CCM_8_SHA256", "SHA-256", 32],
    ],
  );
  for (const id of [0x1301, 0x1302, 0x1303, 0x1304, 0x1305]) assert.equal(isTls13Suite(id), true);
  for (const id of [0x1300, 0x1306, 0xc030, 0x009c, 0x0303, -1, 0x31301]) {
    assert.equal(isTls13Suite(id), false);
  }
  assert.equal(tls13Suite(0x1302)?.hash, "SHA-384");
  assert.equal(tls13Suite(0xc030), undefined);
  assert.equal(hashLength("SHA-256"), 32);
  assert.equal(hashLength("SHA-384"), 48);
  assert.ok(Object.isFrozen(tls13Suite(0x1301)));
});

// ---------------------------------------------------------------------------------------------
// Key schedule

/** Independent HKDF-Expand (RFC 5869 §2.3) with node:crypto createHmac. */
function refExpand(prk: Uint8Array, info: Uint8Array, length: number, hash: string): string {
  let t = new Uint8Array(0);
  let out = "";
  for (let i = 1; out.length < length * 2; i++) {
    t = new Uint8Array(
      createHmac(hash, prk).update(t).update(info).update(new Uint8Array([i])).digest(),
    );
    out += t.toHex();
  }
  return out.slice(0, length * 2);
}

/** Independent HKDF-Expand-Label (RFC 8446 §7.1), built by hand. */
function refExpandLabel(
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
  hash: string,
): string {
  const full = new TextEncoder().encode("tls13 " + label);
  const info = Uint8Array.of(
    length >> 8,
    length & 0xff,
    full.length,
    ...full,
    context.length,
    ...context,
  );
  return refExpand(secret, info, length, hash);
}

/** `openssl kdf ... HKDF` in EXPAND_ONLY mode, or null when the CLI is unavailable. */
async function opensslExpand(
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
  digest: string,
): Promise<string | null> {
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        "kdf",
        "-keylen",
        String(length),
        "-kdfopt",
        `digest:${digest}`,
        "-kdfopt",
        "mode:EXPAND_ONLY",
        "-kdfopt",
        `hexkey:${prk.toHex()}`,
        "-kdfopt",
        `hexinfo:${info.toHex()}`,
        "HKDF",
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    return new TextDecoder().decode(out.stdout).replace(/[:\s]/g, "").toLowerCase();
  } catch {
    return null;
  }
}

// RFC 8448 §3 (Simple 1-RTT Handshake).
const RFC8448_RMS = hex("7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c");
const RFC8448_PSK = "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3";

Deno.test("key schedule: RFC 8448 resumption PSK from the resumption master secret, nonce 0000 (statem_srvr.c:tls_construct_new_session_ticket)", async () => {
  const nonce = hex("0000");
  // Verify the published value independently before trusting it.
  const independent = refExpandLabel(RFC8448_RMS, "resumption", nonce, 32, "sha256");
  assert.equal(independent, RFC8448_PSK);
  const cli = await opensslExpand(RFC8448_RMS, hkdfLabel("resumption", nonce, 32), 32, "SHA256");
  if (cli === null) {
    console.log("skipped the openssl kdf cross-check: the openssl 3 CLI is not available");
  } else {
    assert.equal(cli, RFC8448_PSK);
  }
  assert.equal(
    toHex(hkdfLabel("resumption", nonce, 32)),
    "002010746c73313320726573756d7074696f6e020000",
  );
  assert.equal(toHex(resumptionPsk(RFC8448_RMS, nonce, "SHA-256")), RFC8448_PSK);
  // A secret in a SharedArrayBuffer gives the same PSK.
  const shared = new Uint8Array(new SharedArrayBuffer(32));
  shared.set(RFC8448_RMS);
  assert.equal(toHex(resumptionPsk(shared, nonce, "SHA-256")), RFC8448_PSK);
});

Deno.test('key schedule: RFC 8448 Derive-Secret("derived") and traffic key/iv via HKDF-Expand-Label (ssl/tls13_enc.c:tls13_hkdf_expand)', () => {
  const cases: [string, string, string, number, string][] = [
    [
      "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
      "derived",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      32,
      "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
    ],
    [
      "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
      "key",
      "",
      16,
      "3fce516009c21727d0f2e4e86ee403bc",
    ],
    [
      "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
      "iv",
      "",
      12,
      "5d313eb2671276ee13000b30",
    ],
  ];
  for (const [secret, label, context, len, expected] of cases) {
    assert.equal(refExpandLabel(hex(secret), label, hex(context), len, "sha256"), expected);
    assert.equal(
      toHex(hkdfExpandLabel("SHA-256", hex(secret), label, hex(context), len)),
      expected,
    );
  }
});

Deno.test("key schedule: HKDF-Expand matches RFC 5869 test case 1 and an independent HMAC chain for SHA-256/384", () => {
  const prk = hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  const info = hex("f0f1f2f3f4f5f6f7f8f9");
  const okm =
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
  assert.equal(refExpand(prk, info, 42, "sha256"), okm);
  assert.equal(toHex(hkdfExpand("SHA-256", prk, info, 42)), okm);
  const secret48 = Uint8Array.from({ length: 48 }, (_, i) => i * 7);
  const longInfo = Uint8Array.from({ length: 300 }, (_, i) => i);
  for (const len of [1, 31, 32, 33, 47, 48, 49, 96, 100, 255 * 32]) {
    assert.equal(
      toHex(hkdfExpand("SHA-256", secret48.subarray(0, 32), longInfo, len)),
      refExpand(secret48.subarray(0, 32), longInfo, len, "sha256"),
    );
  }
  for (const len of [1, 48, 49, 97, 255 * 48]) {
    assert.equal(
      toHex(hkdfExpand("SHA-384", secret48, info, len)),
      refExpand(secret48, info, len, "sha384"),
    );
  }
});

Deno.test("key schedule: SHA-384 resumption PSKs for nonces 0 and 1 are 48 bytes and match an independent computation", async () => {
  const rms = Uint8Array.from({ length: 48 }, (_, i) => 255 - i);
  for (const n of [0, 1]) {
    const nonce = ticketNonce(n);
    const psk = resumptionPsk(rms, nonce, "SHA-384");
    assert.equal(psk.length, 48);
    assert.equal(toHex(psk), refExpandLabel(rms, "resumption", nonce, 48, "sha384"));
    const cli = await opensslExpand(rms, hkdfLabel("resumption", nonce, 48), 48, "SHA384");
    if (cli !== null) assert.equal(cli, toHex(psk));
  }
});

Deno.test("key schedule: bad arguments are internal_error 80 and never echo the secret", () => {
  const rms = new Uint8Array(32).fill(0x5a);
  const secretHex = rms.toHex();
  const errs = [
    thrownAlert(() => resumptionPsk(rms.subarray(0, 31), new Uint8Array(2), "SHA-256")),
    thrownAlert(() => resumptionPsk(rms, new Uint8Array(2), "SHA-384")),
    thrownAlert(() => hkdfExpand("SHA-256", rms, new Uint8Array(0), 0)),
    thrownAlert(() => hkdfExpand("SHA-256", rms, new Uint8Array(0), 255 * 32 + 1)),
    thrownAlert(() => hkdfExpand("SHA-1" as "SHA-256", rms, new Uint8Array(0), 16)),
    thrownAlert(() => hkdfExpandLabel("SHA-256", rms, "x".repeat(250), new Uint8Array(0), 16)),
    thrownAlert(() => hkdfExpandLabel("SHA-256", rms, "key", new Uint8Array(256), 16)),
    thrownAlert(() => hkdfExpand("SHA-256", new Uint8Array(0), new Uint8Array(0), 16)),
  ];
  for (const e of errs) {
    assert.equal(e.alert, 80);
    assert.ok(!e.message.includes(secretHex) && !e.message.includes("5a,5a"), e.message);
  }
  // 249-byte labels are the longest that fit ("tls13 " + 249 = 255).
  assert.equal(
    hkdfExpandLabel("SHA-256", rms, "x".repeat(249), new Uint8Array(0), 16).length,
    16,
  );
});

// ---------------------------------------------------------------------------------------------
// Fuzz

/** xorshift32: deterministic, so any failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

Deno.test("fuzz: 20,000 random, truncated and bit-flipped inputs either decode or throw TlsAlert", () => {
  const next = rng(0x7e57c0de);
  const PSK_SEED = encodePreSharedKey({
    identities: [
      { identity: TICKET_13.subarray(0, 60), obfuscatedTicketAge: 5 },
      { identity: hex("aa"), obfuscatedTicketAge: 6 },
    ],
    binders: [new Uint8Array(32), new Uint8Array(48)],
  });
  const seeds: Uint8Array[][] = [
    // NST TLS 1.2
    [
      encodeNewSessionTicket({ tls13: false, lifetime: 7200, ticket: TICKET_12 }),
      encodeNewSessionTicket({ tls13: false, lifetime: 0, ticket: new Uint8Array(0) }),
    ],
    // NST TLS 1.3
    [
      hex(NST_13_OBSERVED),
      encodeNewSessionTicket({
        tls13: true,
        lifetime: 1,
        ageAdd: 2,
        nonce: new Uint8Array(0),
        ticket: new Uint8Array(3),
        maxEarlyData: 5,
      }),
    ],
    // extension blocks
    [
      encodeExtensions([[0, hex("0000")], [35, TICKET_12.subarray(0, 40)], [45, hex("0101")]]),
      hex("0004 0023 0000"),
    ],
    // psk_key_exchange_modes
    [hex("0101"), hex("020001")],
    // pre_shared_key, strict
    [PSK_SEED],
    // pre_shared_key, lazy
    [PSK_SEED],
  ];
  const decoders: ((b: Uint8Array) => unknown)[] = [
    (b) => decodeNewSessionTicket(b, false),
    (b) => decodeNewSessionTicket(b, true),
    (b) => parseExtensions(b),
    (b) => parsePskKeyExchangeModes(b),
    (b) => parsePreSharedKey(b),
    (b) => {
      // The engine's walk: every identity until one is accepted; identity 0 is the SHA-256 one.
      const r = new PreSharedKeyReader(b);
      for (const id of r) if (id.index === 0) r.binder(0, 32);
    },
  ];
  const mutate = (seed: Uint8Array): Uint8Array => {
    const kind = next() % 4;
    if (kind === 0) return seed.subarray(0, next() % (seed.length + 1)); // truncation
    if (kind === 3) return Uint8Array.from({ length: next() % 64 }, () => next() & 0xff); // random
    const b = seed.slice();
    const flips = 1 + (next() % (kind === 1 ? 1 : 8)); // 1 bit, or up to 8 bits
    for (let i = 0; i < flips && b.length > 0; i++) b[next() % b.length] ^= 1 << (next() % 8);
    return b;
  };

  const TOTAL = 20_000;
  const counts = { decoded: 0, alert: 0, other: 0 };
  const alerts = new Map<number, number>();
  const perDecoder = decoders.map(() => ({ decoded: 0, alert: 0 }));
  for (let i = 0; i < TOTAL; i++) {
    const d = i % decoders.length;
    const pool = seeds[d];
    const input = mutate(pool[next() % pool.length]);
    try {
      decoders[d](input);
      counts.decoded++;
      perDecoder[d].decoded++;
    } catch (e) {
      if (e instanceof TlsAlert) {
        counts.alert++;
        perDecoder[d].alert++;
        alerts.set(e.alert, (alerts.get(e.alert) ?? 0) + 1);
      } else {
        counts.other++;
        assert.fail(`decoder ${d} threw ${e} on ${input.toHex()}`);
      }
    }
  }
  console.log(`fuzz outcomes: ${JSON.stringify(counts)} per decoder ${JSON.stringify(perDecoder)}`);
  console.log(`fuzz alerts: ${JSON.stringify([...alerts].sort((a, b) => a[0] - b[0]))}`);
  assert.equal(counts.decoded + counts.alert + counts.other, TOTAL);
  assert.equal(counts.other, 0);
  assert.equal(perDecoder.reduce((sum, c) => sum + c.decoded + c.alert, 0), TOTAL);
  for (const [d, c] of perDecoder.entries()) {
    assert.equal(c.decoded + c.alert, Math.ceil((TOTAL - d) / decoders.length), `decoder ${d}`);
    assert.ok(c.decoded > 0 && c.alert > 0, `decoder ${d} saw both outcomes: ${JSON.stringify(c)}`);
  }
  // Only the alerts the decoders document: unexpected_message, illegal_parameter, decode_error.
  for (const a of alerts.keys()) assert.ok([10, 47, 50].includes(a), `unexpected alert ${a}`);
  assert.equal([...alerts.values()].reduce((x, y) => x + y, 0), counts.alert);
});
