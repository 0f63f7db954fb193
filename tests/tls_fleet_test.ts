/**
 * A fleet of TLS servers: two `cli.ts serve` processes on one `FleetRing` (a Deno KV file, one
 * key-encryption key). A session `openssl s_client -sess_out` saved from process A resumes on
 * process B with `-sess_in`, and again on both after both restart; each resumption shows the
 * app data process A's `gen_cb` sealed. Ignored, saying why, without openssl 3.x (under CI=true
 * that fails).
 */
import assert from "node:assert/strict";
import { sClient, type ServeExit, type ServeProcess, startServe } from "./_cli_serve.ts";
import { testCredentials } from "./_tls_certs.ts";
import { findOpenssl } from "./interop/_openssl.ts";
import { missing } from "./interop/_peers.ts";

const whyOpenssl = await missing(["openssl"]);
const OPENSSL = (await findOpenssl()).bin ?? "openssl";
if (whyOpenssl !== null) console.warn(`tls_fleet_test: skipping: ${whyOpenssl}`);

const SUITE = "TLS_AES_256_GCM_SHA384";

/** The handshake line of a resumption whose ticket process `pid` sealed. */
function resumedLine(pid: number): RegExp {
  return new RegExp(
    `^handshake 127\\.0\\.0\\.1:\\d+ resumed ${SUITE} x25519 dec_cb SUCCESS_RENEW->USE_RENEW ` +
      `app-data="served-by=${pid};t=[0-9T:.Z-]+" tickets=1$`,
    "m",
  );
}

Deno.test({
  name:
    "fleet (FleetRing on Deno KV): a session from serve process A resumes on process B with s_client -sess_in, and on both again after both restart",
  ignore: whyOpenssl !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "session_tickets_fleet_tls_" });
    const { certFile, keyFile } = await testCredentials("P-256");
    // A new fleet seals only propagationDelay + maxClockSkew after it is founded: keep both
    // short. The schedule itself (12 h keys) does not rotate during the test.
    const args = [
      "--cert",
      certFile,
      "--key",
      keyFile,
      "--port",
      "0",
      "--store",
      `kv:${dir}/fleet.kv`,
      "--propagation-delay",
      "200ms",
      "--max-clock-skew",
      "200ms",
    ];
    const env = { SESSION_TICKETS_KEK: crypto.getRandomValues(new Uint8Array(32)).toBase64() };
    const sess = `${dir}/session.pem`;
    const running = new Set<ServeProcess>();
    const start = async () => {
      const p = await startServe(args, { env });
      running.add(p);
      return p;
    };
    const stop = async (p: ServeProcess): Promise<ServeExit> => {
      running.delete(p);
      const exit = await p.stop();
      assert.equal(exit.code, 0, exit.stderr);
      return exit;
    };
    try {
      const [a, b] = await Promise.all([start(), start()]);
      await a.waitForLine(/^ticket keys: fleet session-tickets\/default in kv:/);

      // Until the fleet's first key seals, a full handshake cannot issue tickets (and, for now,
      // fails with alert 80): retry until A's handshake yields tickets, within a bound.
      const deadline = Date.now() + 10_000;
      for (;;) {
        await Deno.remove(sess).catch(() => {});
        const r = await sClient(OPENSSL, a.port, ["-sess_out", sess]);
        const saved = await Deno.stat(sess).then(() => true, () => false);
        if (
          r.handshake === "New" && saved && /^tickets sent after the handshake: 2$/m.test(r.stdout)
        ) {
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(`A issued no ticket in 10 s:\n${r.stdout}${r.stderr}\n${a.stdout()}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      await a.waitForLine(
        new RegExp(`^handshake 127\\.0\\.0\\.1:\\d+ full ${SUITE} x25519 tickets=2$`),
      );

      // B opens A's ticket: same fleet key, unwrapped from the store with the same KEK.
      const onB = await sClient(OPENSSL, b.port, ["-sess_in", sess]);
      assert.equal(onB.handshake, "Reused", onB.stdout + onB.stderr);
      assert.match(onB.stdout, new RegExp(`^ticket app data: "served-by=${a.pid};`, "m"));
      await b.waitForLine(resumedLine(a.pid));
      const bExit = await stop(b);
      assert.match(bExit.stdout, /^stopped \(SIGTERM\) after 1 handshake, 1 resumed$/m);
      await stop(a);

      // Both restart: the keys live in the store, so the session resumes on either.
      const [a2, b2] = await Promise.all([start(), start()]);
      for (const p of [b2, a2]) {
        const r = await sClient(OPENSSL, p.port, ["-sess_in", sess]);
        assert.equal(r.handshake, "Reused", r.stdout + r.stderr);
        assert.match(r.stdout, /^resumed: yes /m);
        assert.match(r.stdout, new RegExp(`^ticket app data: "served-by=${a.pid};`, "m"));
        await p.waitForLine(resumedLine(a.pid));
      }
      for (const p of [a2, b2]) {
        const exit = await stop(p);
        assert.equal(exit.stdout.split("\n").filter((l) => l.startsWith("handshake ")).length, 1);
      }
    } finally {
      await Promise.all([...running].map((p) => p.stop()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
