// Tests for src/session/versions.ts: the protocol version numbers under OpenSSL's names
// (include/openssl/prov_ssl.h), and the issue 11 rule that every layer takes them from there
// (SslSession.sslVersion, ServerConnection, the TLS 1.3 server's wire, openssl.ts, testing.ts).
import assert from "node:assert/strict";
import * as api from "../mod.ts";
import * as openssl from "../openssl.ts";
import { handshake, TestClient } from "../testing.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import {
  SSL3_VERSION,
  TLS1_1_VERSION,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
  TLS1_VERSION,
} from "../src/session/versions.ts";
import { LEGACY_VERSION, serverHello, TLS13 } from "../src/tls/messages.ts";

const NAMES = {
  SSL3_VERSION,
  TLS1_VERSION,
  TLS1_1_VERSION,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
};

Deno.test("include/openssl/prov_ssl.h: SSL3_VERSION 0x0300, TLS1_VERSION 0x0301, TLS1_1_VERSION 0x0302, TLS1_2_VERSION 0x0303, TLS1_3_VERSION 0x0304", () => {
  assert.deepEqual(NAMES, {
    SSL3_VERSION: 0x0300,
    TLS1_VERSION: 0x0301,
    TLS1_1_VERSION: 0x0302,
    TLS1_2_VERSION: 0x0303,
    TLS1_3_VERSION: 0x0304,
  });
});

let header: string | null = null;
try {
  header = await Deno.readTextFile("/usr/include/openssl/prov_ssl.h");
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
  console.warn("session_versions_test: skipping the header check: libssl-dev is not installed");
}

Deno.test({
  name: "include/openssl/prov_ssl.h as installed: each *_VERSION #define equals versions.ts",
  ignore: header === null,
}, () => {
  const defined = Object.fromEntries(
    [...header!.matchAll(/^#\s*define\s+((?:SSL3|TLS1(?:_\d)?)_VERSION)\s+(0x[0-9a-fA-F]+)/gm)]
      .map((m) => [m[1], Number(m[2])]),
  );
  assert.deepEqual(defined, NAMES);
});

Deno.test("issue 11, one module for TLS versions: mod.ts, openssl.ts and the TLS layer's constants are versions.ts's", () => {
  assert.deepEqual(
    [api.TLS1_2_VERSION, api.TLS1_3_VERSION, openssl.TLS1_2_VERSION, openssl.TLS1_3_VERSION],
    [TLS1_2_VERSION, TLS1_3_VERSION, TLS1_2_VERSION, TLS1_3_VERSION],
  );
  assert.deepEqual([LEGACY_VERSION, TLS13], [TLS1_2_VERSION, TLS1_3_VERSION]);
  // The ServerHello's legacy_version (after the 4-byte handshake header) is TLS 1.2 on the wire.
  const sh = serverHello({
    random: new Uint8Array(32),
    legacySessionId: new Uint8Array(0),
    cipherSuite: 0x1301,
    extensions: [],
  });
  assert.equal((sh[4] << 8) | sh[5], TLS1_2_VERSION);
  assert.equal(new SslSession().sslVersion, TLS1_2_VERSION);
});

Deno.test("testing.ts: TestClient handshakes carry TLS1_2_VERSION and TLS1_3_VERSION into the server's session", async () => {
  const ctx = await SslContext.create();
  const r12 = await handshake(ctx, new TestClient({ version: "1.2" }));
  const r13 = await handshake(ctx, new TestClient({ version: "1.3" }));
  assert.deepEqual(
    [
      r12.connection.version,
      r12.session?.sslVersion,
      r13.connection.version,
      r13.session?.sslVersion,
    ],
    [TLS1_2_VERSION, TLS1_2_VERSION, TLS1_3_VERSION, TLS1_3_VERSION],
  );
});
