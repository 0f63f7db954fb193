/**
 * Interop tests for the SSL_SESSION DER codec against the real `openssl` 3.x command-line tool.
 *
 * - `openssl sess_id` runs `d2i_SSL_SESSION` then `SSL_SESSION_print` (`ssl/ssl_txt.c`) or
 *   `i2d_SSL_SESSION` (`ssl/ssl_asn1.c`) on what we wrote, so a byte-identical `-outform DER`
 *   proves our encoding is a fixed point of OpenSSL's own decoder/encoder pair.
 * - `openssl s_client -sess_out` gives sessions written by a real client after real TLS 1.2 and
 *   TLS 1.3 handshakes with `openssl s_server`; we decode them, re-encode them, and resume with
 *   `s_client -sess_in` using files we wrote.
 *
 * Skipped (with the reason printed) when no OpenSSL 3.x binary is available.
 */
import assert from "node:assert/strict";
import {
  decodeSession,
  encodeSession,
  sessionFromPem,
  sessionToPem,
} from "../../src/session/codec.ts";
import { SslSession } from "../../src/session/ssl_session.ts";
import {
  type CertDir,
  findOpenssl,
  fromHex,
  hexUpper,
  makeCertDir,
  type OpensslServer,
  parseSessionText,
  pemBody,
  runClient,
  runOpenssl,
  startServer,
} from "./_openssl.ts";

const openssl = await findOpenssl();
if (openssl.bin === null) {
  // CI installs openssl (.ci/install-peers): there a missing one is a failure, not a skip.
  if (Deno.env.get("CI") === "true") throw new Error(`CI must skip nothing: ${openssl.reason}`);
  console.warn(`openssl_session_test: skipping all tests: ${openssl.reason}`);
}
const BIN = openssl.bin ?? "openssl";
const ignore = openssl.bin === null;

/** Deterministic test bytes: `start, start+1, …` (mod 256). */
function seq(length: number, start: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

const enc = (s: string) => new TextEncoder().encode(s);

/** Writes `text` into `dir/name` and returns the path. */
async function put(dir: string, name: string, data: string | Uint8Array): Promise<string> {
  const path = `${dir}/${name}`;
  if (typeof data === "string") await Deno.writeTextFile(path, data);
  else await Deno.writeFile(path, data);
  return path;
}

/** `openssl sess_id -in <pem> -noout -text`. */
async function sessText(pemPath: string): Promise<string> {
  return (await runOpenssl(BIN, ["sess_id", "-in", pemPath, "-noout", "-text"])).stdout;
}

/** `openssl sess_id -in <pem> -outform DER`: OpenSSL's i2d of its d2i of the file. */
async function sessDer(pemPath: string): Promise<Uint8Array> {
  return (await runOpenssl(BIN, ["sess_id", "-in", pemPath, "-outform", "DER"])).stdoutBytes;
}

/** Every public field of an SslSession (plus app data), for deep comparison. */
function fieldsOf(s: SslSession): Record<string, unknown> {
  return {
    sslVersion: s.sslVersion,
    cipherId: s.cipherId,
    sessionId: s.sessionId,
    masterKey: s.masterKey,
    time: s.time,
    timeout: s.timeout,
    peerCertificate: s.peerCertificate,
    sessionIdContext: s.sessionIdContext,
    verifyResult: s.verifyResult,
    hostname: s.hostname,
    pskIdentityHint: s.pskIdentityHint,
    pskIdentity: s.pskIdentity,
    ticketLifetimeHint: s.ticketLifetimeHint,
    ticket: s.ticket,
    compressionId: s.compressionId,
    srpUsername: s.srpUsername,
    flags: s.flags,
    extendedMasterSecret: s.extendedMasterSecret,
    ticketAgeAdd: s.ticketAgeAdd,
    maxEarlyData: s.maxEarlyData,
    alpnSelected: s.alpnSelected,
    maxFragmentLengthMode: s.maxFragmentLengthMode,
    kexGroup: s.kexGroup,
    peerRpk: s.peerRpk,
    appData: s.getTicketAppData(),
  };
}

/** Hex of both byte strings and the first differing offset, for assertion messages. */
function derDiff(ours: Uint8Array, theirs: Uint8Array): string {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  let i = 0;
  while (i < ours.length && i < theirs.length && ours[i] === theirs[i]) i++;
  return `first difference at byte ${i}\nours:    ${hex(ours)}\nopenssl: ${hex(theirs)}`;
}

/** Asserts OpenSSL's `d2i` + `i2d` of our PEM gives back exactly `encodeSession(s)`. */
async function assertOpensslRoundTrip(dir: string, name: string, s: SslSession): Promise<void> {
  const ours = encodeSession(s);
  const path = await put(dir, `${name}.pem`, sessionToPem(s));
  const theirs = await sessDer(path);
  assert.ok(
    ours.length === theirs.length && ours.every((b, i) => b === theirs[i]),
    `${name}: openssl sess_id re-encoded our DER differently\n${derDiff(ours, theirs)}`,
  );
  // And our decoder reads OpenSSL's bytes back to the same fields.
  assert.deepEqual(fieldsOf(decodeSession(theirs)), fieldsOf(s));
}

/** A fixed TLS 1.2 session: ECDHE-RSA-AES256-GCM-SHA384, EMS, app data, X25519. */
function tls12Session(): SslSession {
  const s = new SslSession({
    sslVersion: 0x0303,
    cipherId: 0xc030,
    sessionId: seq(32, 0x00),
    masterKey: seq(48, 0xa0),
    time: 1700000000,
    timeout: 7200,
    sessionIdContext: enc("sid-ctx"),
    flags: 1,
    kexGroup: 0x1d,
  });
  s.setTicketAppData("HelloWorld");
  return s;
}

/** A fixed TLS 1.3 session: TLS_AES_256_GCM_SHA384, age_add with the top bit set, early data. */
function tls13Session(): SslSession {
  return new SslSession({
    sslVersion: 0x0304,
    cipherId: 0x1302,
    sessionId: seq(32, 0x40),
    masterKey: seq(48, 0x10),
    time: 1700000123,
    timeout: 7200,
    ticketAgeAdd: 0x9abcdef0,
    maxEarlyData: 16384,
    kexGroup: 0x1d,
  });
}

Deno.test({
  name: "sess_id -text prints a TLS 1.2 session we wrote (ssl/ssl_txt.c:SSL_SESSION_print)",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "session_tickets_interop_" });
    try {
      const s = tls12Session();
      const pem = sessionToPem(s);
      assert.match(pem, /^-----BEGIN SSL SESSION PARAMETERS-----\n/);
      assert.match(pem, /\n-----END SSL SESSION PARAMETERS-----\n$/);
      const text = await sessText(await put(dir, "s12.pem", pem));
      assert.equal(
        text,
        [
          "SSL-Session:",
          "    Protocol  : TLSv1.2",
          "    Cipher    : ECDHE-RSA-AES256-GCM-SHA384",
          "    Session-ID: 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
          "    Session-ID-ctx: 7369642D637478",
          "    Master-Key: A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF" +
          "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF",
          "    PSK identity: None",
          "    PSK identity hint: None",
          "    SRP username: None",
          "    Start Time: 1700000000",
          "    Timeout   : 7200 (sec)",
          "    Verify return code: 0 (ok)",
          "    Extended master secret: yes",
          "",
        ].join("\n"),
      );
      await assertOpensslRoundTrip(dir, "s12", s);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "sess_id -text prints a TLS 1.3 session we wrote (Resumption PSK, Max Early Data)",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "session_tickets_interop_" });
    try {
      const s = tls13Session();
      const text = await sessText(await put(dir, "s13.pem", sessionToPem(s)));
      assert.equal(
        text,
        [
          "SSL-Session:",
          "    Protocol  : TLSv1.3",
          "    Cipher    : TLS_AES_256_GCM_SHA384",
          "    Session-ID: 404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F",
          "    Session-ID-ctx: ",
          "    Resumption PSK: 101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F" +
          "303132333435363738393A3B3C3D3E3F",
          "    PSK identity: None",
          "    PSK identity hint: None",
          "    SRP username: None",
          "    Start Time: 1700000123",
          "    Timeout   : 7200 (sec)",
          "    Verify return code: 0 (ok)",
          "    Extended master secret: no",
          "    Max Early Data: 16384",
          "",
        ].join("\n"),
      );
      await assertOpensslRoundTrip(dir, "s13", s);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "every 3.0 field [1]..[19]: exact i2d bytes, sess_id -text and d2i/i2d round trip",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "session_tickets_interop_" });
    try {
      const s = new SslSession({
        sslVersion: 0x0303,
        cipherId: 0xc030,
        sessionId: new Uint8Array(32).fill(0x07),
        masterKey: new Uint8Array(48).fill(0x09),
        time: 1700000000,
        timeout: 7200,
        sessionIdContext: fromHex("0102"),
        verifyResult: 20,
        hostname: "example.com",
        pskIdentityHint: enc("hint"),
        pskIdentity: enc("ident"),
        ticketLifetimeHint: 300,
        ticket: fromHex("deadbeef"),
        compressionId: 1,
        srpUsername: "srpuser",
        flags: 1,
        ticketAgeAdd: 0x9abcdef0,
        maxEarlyData: 16384,
        alpnSelected: enc("h2"),
        maxFragmentLengthMode: 2,
        kexGroup: 0x1d,
      });
      s.setTicketAppData("app");
      // ssl/ssl_asn1.c SSL_SESSION_ASN1 template, one element per line.
      const expected = fromHex(
        "3081e1" +
          "020101" + // version 1
          "020203 03" + // ssl_version 0x0303
          "0402c030" + // cipher
          "0420" + "07".repeat(32) + // session_id
          "0430" + "09".repeat(48) + // master_key
          "a106 02046553f100" + // [1] time 1700000000
          "a204 02021c20" + // [2] timeout 7200
          "a404 04020102" + // [4] sid_ctx
          "a503 020114" + // [5] verify_result 20
          "a60d 040b6578616d706c652e636f6d" + // [6] hostname
          "a706 040468696e74" + // [7] psk_identity_hint
          "a807 04056964656e74" + // [8] psk_identity
          "a904 0202012c" + // [9] lifetime hint 300
          "aa06 0404deadbeef" + // [10] ticket
          "ab03 040101" + // [11] comp_id
          "ac09 040773727075736572" + // [12] srp_username
          "ad03 020101" + // [13] flags = EXTMS
          "ae07 0205009abcdef0" + // [14] age_add, leading 00
          "af04 02024000" + // [15] max_early_data 16384
          "b004 04026832" + // [16] alpn "h2"
          "b103 020102" + // [17] max_fragment_len_mode
          "b205 0403617070" + // [18] app data "app"
          "b303 02011d", // [19] kex_group x25519
      );
      const ours = encodeSession(s);
      assert.deepEqual(ours, expected, derDiff(ours, expected));
      const path = await put(dir, "all.pem", sessionToPem(s));
      const text = parseSessionText(await sessText(path));
      assert.equal(text.fields.get("PSK identity"), "ident");
      assert.equal(text.fields.get("PSK identity hint"), "hint");
      assert.equal(text.fields.get("SRP username"), "srpuser");
      assert.equal(text.fields.get("TLS session ticket lifetime hint"), "300 (seconds)");
      assert.deepEqual(text.ticket, fromHex("deadbeef"));
      assert.equal(text.fields.get("Compression"), "1");
      assert.equal(
        text.fields.get("Verify return code"),
        "20 (unable to get local issuer certificate)",
      );
      await assertOpensslRoundTrip(dir, "all", s);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Sessions for the d2i/i2d round trip; `cert` supplies a real peer certificate. */
const ROUND_TRIP_CASES: { name: string; make(ec: CertDir, rsa: CertDir): SslSession }[] = [
  {
    name: "TLS 1.2 server ticket shape: empty session id, no app data",
    make: () =>
      new SslSession({
        sslVersion: 0x0303,
        cipherId: 0xc02f,
        masterKey: seq(48, 1),
        time: 1700000000,
        timeout: 7200,
        flags: 1,
        kexGroup: 0x17,
      }),
  },
  {
    name: "TLS 1.2 RSA key exchange: kex_group 0 still written",
    make: () =>
      new SslSession({
        sslVersion: 0x0303,
        cipherId: 0x002f,
        sessionId: seq(32, 9),
        masterKey: seq(48, 2),
        time: 1700000000,
        timeout: 300,
        kexGroup: 0,
      }),
  },
  {
    name: "TLS 1.2 with hostname, ALPN, EC peer cert, psk identity, ticket and hint",
    make: (ec) =>
      new SslSession({
        sslVersion: 0x0303,
        cipherId: 0xc02c,
        sessionId: seq(32, 0x80),
        masterKey: seq(48, 0x30),
        time: 1700000000,
        timeout: 7200,
        peerCertificate: ec.certDer,
        sessionIdContext: enc("ctx"),
        verifyResult: 18,
        hostname: "localhost",
        pskIdentity: enc("client-1"),
        ticketLifetimeHint: 7200,
        ticket: seq(176, 0x55),
        flags: 1,
        alpnSelected: enc("http/1.1"),
        kexGroup: 0x17,
      }),
  },
  {
    name: "TLS 1.3 with RSA peer cert, ALPN, app data, early data, long ticket",
    make: (_ec, rsa) => {
      const s = new SslSession({
        sslVersion: 0x0304,
        cipherId: 0x1301,
        sessionId: seq(32, 0xe0),
        masterKey: seq(32, 0x11),
        time: 1700000000,
        timeout: 304800,
        peerCertificate: rsa.certDer,
        verifyResult: 0,
        ticketLifetimeHint: 604800,
        ticket: seq(200, 3),
        ticketAgeAdd: 0xffffffff,
        maxEarlyData: 0xffffffff,
        alpnSelected: enc("h2"),
        kexGroup: 0x18,
      });
      s.setTicketAppData(seq(300, 0));
      return s;
    },
  },
  {
    name: "TLS 1.3 ChaCha20, age_add below 2^31, psk identity hint",
    make: () =>
      new SslSession({
        sslVersion: 0x0304,
        cipherId: 0x1303,
        sessionId: seq(32, 1),
        masterKey: seq(32, 2),
        time: 1700000000,
        timeout: 7200,
        pskIdentityHint: enc("hint"),
        ticketAgeAdd: 0x12345678,
        kexGroup: 0x1d,
      }),
  },
  {
    name: "TLS 1.0 AES256-SHA, time after 2038 (5-byte INTEGER), max fragment length",
    make: () =>
      new SslSession({
        sslVersion: 0x0301,
        cipherId: 0x0035,
        sessionId: seq(16, 0x70),
        masterKey: seq(48, 0x90),
        time: 4102444800,
        timeout: 0x7fffffff,
        maxFragmentLengthMode: 4,
        verifyResult: 10,
        kexGroup: 0,
      }),
  },
];

for (const c of ROUND_TRIP_CASES) {
  Deno.test({
    name: `sess_id d2i/i2d gives back our exact DER: ${c.name} (ssl/ssl_asn1.c)`,
    ignore,
    async fn() {
      const ec = await makeCertDir(BIN, "ec");
      const rsa = await makeCertDir(BIN, "rsa").catch(async (e) => {
        await ec.remove();
        throw e;
      });
      try {
        const s = c.make(ec, rsa);
        await assertOpensslRoundTrip(ec.dir, "case", s);
        if (s.peerCertificate !== null) {
          // `sess_id -cert` writes the peer certificate it parsed from our [3].
          const out = await runOpenssl(BIN, ["sess_id", "-in", `${ec.dir}/case.pem`, "-cert"]);
          const isEc = s.peerCertificate.every((b, i) => b === ec.certDer[i]);
          const certPath = isEc ? ec.certPath : rsa.certPath;
          assert.equal(out.stdout, await Deno.readTextFile(certPath));
        }
      } finally {
        await ec.remove();
        await rsa.remove();
      }
    },
  });
}

Deno.test({
  name: "d2i normalisation matches OpenSSL: absent time reads as now, absent timeout as 3",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "session_tickets_interop_" });
    try {
      const s = new SslSession({
        sslVersion: 0x0303,
        cipherId: 0xc030,
        masterKey: seq(48, 5),
        time: 0,
        timeout: 0,
        kexGroup: 0x1d,
      });
      const ours = encodeSession(s);
      // ZINT64 fields equal to 0 are omitted: no [1] time, no [2] timeout.
      const expected = fromHex(
        "3048 020101 020203 03 0402c030 0400 0430" + hexUpper(seq(48, 5)) + "a402 0400 b303 02011d",
      );
      assert.deepEqual(ours, expected, derDiff(ours, expected));
      const before = Math.floor(Date.now() / 1000);
      const theirs = await sessDer(await put(dir, "z.pem", sessionToPem(s)));
      const after = Math.floor(Date.now() / 1000);
      const reread = decodeSession(theirs);
      assert.ok(reread.time >= before && reread.time <= after, `time ${reread.time}`);
      assert.equal(reread.timeout, 3);
      const mine = decodeSession(ours, { now: reread.time });
      assert.equal(mine.time, reread.time);
      assert.equal(mine.timeout, 3);
      const again = encodeSession(mine);
      assert.deepEqual(again, theirs, derDiff(again, theirs));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** First line of the status page `s_server -www` sends once the handshake is complete. */
const HTTP_OK = /^HTTP\/1\.0 200 ok\r?$/m;

/** Maps the cipher names `SSL_SESSION_print` uses to suite ids, for the suites negotiated here. */
const CIPHER_IDS: Record<string, number> = {
  "ECDHE-RSA-AES256-GCM-SHA384": 0xc030,
  "TLS_AES_256_GCM_SHA384": 0x1302,
};

/**
 * Full handshake with a real client, then decode / re-encode / resume with what we wrote.
 * Mirrors what `test/sslapitest.c:test_session_with_both_cache` does with
 * `SSL_get1_session` + `SSL_set_session`, but across the PEM file boundary.
 */
async function realClientSession(
  version: "tls1_2" | "tls1_3",
  mode: "sni" | "alpn",
): Promise<void> {
  const certs = await makeCertDir(BIN, "rsa");
  let server: OpensslServer | undefined;
  try {
    server = await startServer(BIN, {
      certPath: certs.certPath,
      keyPath: certs.keyPath,
      // s_server acknowledges SNI (so the client stores [6] hostname) only with a servername
      // callback, i.e. -servername/-cert2; that callback swaps in a second SSL_CTX without the
      // ALPN callback, so ALPN ([16]) and hostname ([6]) are exercised in separate runs.
      args: mode === "sni"
        ? [
          "-www",
          "-servername",
          "localhost",
          "-cert2",
          certs.certPath,
          "-key2",
          certs.keyPath,
        ]
        : ["-www", "-alpn", "h2"],
    });
    const sessPath = `${certs.dir}/client.pem`;
    const is12 = version === "tls1_2";
    const versionArgs = [
      `-${version}`,
      is12 ? "-cipher" : "-ciphersuites",
      is12 ? "ECDHE-RSA-AES256-GCM-SHA384" : "TLS_AES_256_GCM_SHA384",
      "-groups",
      "X25519",
      "-servername",
      "localhost",
      "-alpn",
      "h2",
    ];
    const first = await runClient(BIN, server.port, [...versionArgs, "-sess_out", sessPath]);
    const protocol = is12 ? "TLSv1.2" : "TLSv1.3";
    const cipher = is12 ? "ECDHE-RSA-AES256-GCM-SHA384" : "TLS_AES_256_GCM_SHA384";
    assert.match(first.stdout, new RegExp(`^New, ${protocol}, Cipher is ${cipher}$`, "m"));
    assert.match(first.stdout, HTTP_OK);

    const fileText = await Deno.readTextFile(sessPath);
    const fileDer = pemBody(fileText);
    const printed = parseSessionText(await sessText(sessPath));
    const f = printed.fields;
    assert.equal(f.get("Protocol"), protocol);
    assert.equal(f.get("Cipher"), cipher);

    const s = sessionFromPem(fileText);
    assert.equal(s.sslVersion, is12 ? 0x0303 : 0x0304);
    assert.equal(s.cipherId, CIPHER_IDS[cipher]);
    assert.equal(hexUpper(s.sessionId), f.get("Session-ID"));
    assert.equal(s.sessionId.length, 32);
    assert.equal(hexUpper(s.sessionIdContext), f.get("Session-ID-ctx"));
    assert.equal(hexUpper(s.masterKey), f.get(is12 ? "Master-Key" : "Resumption PSK"));
    assert.equal(s.masterKey.length, 48); // TLS 1.2 master secret / SHA-384 resumption PSK
    assert.equal(String(s.time), f.get("Start Time"));
    assert.equal(`${s.timeout} (sec)`, f.get("Timeout"));
    assert.equal(s.timeout, 7200);
    assert.deepEqual(s.peerCertificate, certs.certDer);
    assert.equal(s.verifyResult, 18); // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    assert.equal(f.get("Verify return code"), "18 (self-signed certificate)");
    assert.equal(s.hostname, mode === "sni" ? "localhost" : null);
    assert.deepEqual(s.alpnSelected, mode === "alpn" ? enc("h2") : null);
    assert.notEqual(s.ticket, null);
    assert.deepEqual(s.ticket, printed.ticket);
    assert.equal(s.ticketLifetimeHint, 7200);
    assert.equal(f.get("TLS session ticket lifetime hint"), "7200 (seconds)");
    assert.equal(s.extendedMasterSecret, is12);
    assert.equal(f.get("Extended master secret"), is12 ? "yes" : "no");
    assert.equal(s.kexGroup, 0x1d);
    assert.equal(s.getTicketAppData(), null);
    if (!is12) {
      assert.equal(String(s.maxEarlyData), f.get("Max Early Data"));
      // The client stores the NewSessionTicket's ticket_age_add in [14].
      assert.ok(s.ticketAgeAdd >= 0 && s.ticketAgeAdd <= 0xffffffff);
    }

    // Re-encoding gives back exactly the client's bytes, and the same PEM text.
    const again = encodeSession(s);
    assert.deepEqual(again, fileDer, derDiff(again, fileDer));
    assert.equal(sessionToPem(s), fileText);

    // A real client resumes with a session file we wrote ...
    const oursPath = await put(certs.dir, "ours.pem", sessionToPem(s));
    assert.deepEqual(await sessDer(oursPath), fileDer);
    const resumed = await runClient(BIN, server.port, [...versionArgs, "-sess_in", oursPath]);
    assert.match(resumed.stdout, new RegExp(`^Reused, ${protocol}, Cipher is ${cipher}$`, "m"));
    assert.match(resumed.stdout, HTTP_OK);

    // ... also with one built field by field from scratch (only what resumption needs) ...
    const scratch = new SslSession({
      sslVersion: s.sslVersion,
      cipherId: s.cipherId,
      sessionId: s.sessionId.slice(),
      masterKey: s.masterKey.slice(),
      time: s.time,
      timeout: s.timeout,
      ticket: s.ticket!.slice(),
      ticketLifetimeHint: s.ticketLifetimeHint,
      flags: s.flags,
      ticketAgeAdd: s.ticketAgeAdd,
      maxEarlyData: s.maxEarlyData,
      hostname: s.hostname,
      alpnSelected: s.alpnSelected?.slice() ?? null,
      kexGroup: s.kexGroup,
    });
    const scratchPath = await put(certs.dir, "scratch.pem", sessionToPem(scratch));
    await assertOpensslRoundTrip(certs.dir, "scratch-rt", scratch);
    const resumed2 = await runClient(BIN, server.port, [...versionArgs, "-sess_in", scratchPath]);
    assert.match(resumed2.stdout, new RegExp(`^Reused, ${protocol}, Cipher is ${cipher}$`, "m"));
    assert.match(resumed2.stdout, HTTP_OK);

    // ... and not with a wrong master key (so "Reused" above really used our bytes).
    const bad = s.dup();
    bad.masterKey = s.masterKey.map((b) => b ^ 0x01);
    const badPath = await put(certs.dir, "bad.pem", sessionToPem(bad));
    const refused = await runClient(BIN, server.port, [...versionArgs, "-sess_in", badPath]);
    if (is12) {
      // TLS 1.2: the server resumes from its ticket (s_client reports the session as reused)
      // but the client's keys differ, so the server Finished fails to decrypt.
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /decryption failed or bad record mac/);
      assert.doesNotMatch(refused.stdout, HTTP_OK);
    } else {
      // TLS 1.3: the PSK binder does not verify; libssl 3.0 answers with a fatal
      // illegal_parameter alert (47) (ssl/statem/extensions.c:tls_psk_do_binder).
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /alert illegal parameter.*SSL alert number 47/);
      assert.doesNotMatch(refused.stdout, HTTP_OK);
      assert.ok(
        await server.waitForOutput(/binder does not verify/),
        `server did not report the binder failure:\n${server.output()}`,
      );
    }
  } finally {
    await server?.stop();
    await certs.remove();
  }
}

for (const version of ["tls1_2", "tls1_3"] as const) {
  for (const mode of ["sni", "alpn"] as const) {
    Deno.test({
      name: `real s_client ${version} session (${mode}): decode, re-encode byte-identical, ` +
        "resume with our file (-sess_in)",
      ignore,
      fn: () => realClientSession(version, mode),
    });
  }
}
