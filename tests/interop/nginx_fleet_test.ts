/**
 * `fleet export` to nginx, run with nginx: a fleet of two nginx servers that share their ticket
 * keys through a Deno KV fleet, the way the README's "Running a fleet" tells an operator to run
 * it. Every key operation is the command-line tool run as an operator runs it
 * (`deno run -A cli.ts fleet rotate|status|export`, the key-encryption key in
 * `SESSION_TICKETS_KEK`); each nginx (Debian's package: a master and one worker on 127.0.0.1,
 * `ssl_protocols TLSv1.2 TLSv1.3`) gets its own export, written where its config points
 * (`ssl_session_ticket_key` lines as the export printed them: the sealing key first).
 *
 * - A session from nginx A resumes on nginx B and the other way round (TLS 1.2 and 1.3), and its
 *   ticket carries the fleet's sealing key name.
 * - Rotation: once the next interval begins, `fleet rotate` publishes the key after it, a second
 *   export writes the new sealing key first (the previous one now decrypt-only, last), and both
 *   nginx are reloaded (`nginx -s reload`). Then tickets of the previous key still resume on
 *   both (and nginx renews them under the new key), and new tickets are sealed under the new key
 *   (`cli open` with the new first file says SUCCESS under its name) and resume across the pair.
 *
 * Ignored, with the reason printed, when nginx or openssl is missing (CI installs both with
 * `.ci/install-peers` and fails instead).
 */
import assert from "node:assert/strict";
import { sessionFromPem } from "../../src/session/codec.ts";
import { makeCertDir, parseSessionText, runClient } from "./_openssl.ts";
import {
  cliOk,
  missing,
  type NginxServer,
  parseSClient,
  randomBytes,
  startNginxServer,
} from "./_peers.ts";

const why = await missing(["nginx", "openssl"]);
if (why !== null) console.warn(`nginx_fleet_test: skipping (CI installs these): ${why}`);

type Version = "1.2" | "1.3";
const VERSIONS: Version[] = ["1.2", "1.3"];
/** The fleet's rotation interval: short, so that the test sees one rotation. */
const INTERVAL_MS = 8000;
/** A sealing key with less time left than this is let go before the test starts. */
const MIN_SEALING_LEFT_MS = 5000;

/** One `ssl_session_ticket_key` line that `fleet export` printed. */
interface ExportedKey {
  file: string;
  state: string;
  name: string;
}

/** What `fleet status` prints (the fields this test reads). */
interface FleetStatus {
  now: number;
  sealing: { interval: number; name: string } | null;
  keys: { interval: number; name: string; state: string; deactivateAt: number }[];
}

/** What `cli open` prints (the fields this test reads). */
interface Opened {
  status: number;
  keyName: string;
}

Deno.test({
  name:
    "fleet export to nginx (nginx-80): two nginx on one Deno KV fleet resume each other's sessions; after rotate, export and nginx -s reload, old tickets resume and new ones are sealed under the new key (TLS 1.2, 1.3)",
  ignore: why !== null,
}, async (t) => {
  const certs = await makeCertDir("openssl", "rsa");
  const servers: NginxServer[] = [];
  try {
    const dir = certs.dir;
    const store = `kv:${dir}/fleet.kv`;
    const env = { SESSION_TICKETS_KEK: randomBytes(32).toBase64() };
    const fleet = (args: string[]) => cliOk(["fleet", ...args, "--store", store], { env });
    const status = async () => JSON.parse(await fleet(["status"])) as FleetStatus;
    const sleepUntil = async (when: number) => {
      const ms = when - Date.now();
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    };
    /** The sealing key's entry in `fleet status`. */
    const sealingKey = (s: FleetStatus) => {
      assert.ok(s.sealing !== null, `the fleet has no sealing key: ${JSON.stringify(s)}`);
      const k = s.keys.find((k) => k.interval === s.sealing!.interval);
      assert.ok(k !== undefined);
      return k;
    };
    /** `fleet export --layout nginx-80 --out <host>/ticket.key`, and the lines it printed. */
    const exportFor = async (host: string): Promise<ExportedKey[]> => {
      await Deno.mkdir(`${dir}/${host}`, { recursive: true });
      const out = await fleet([
        "export",
        "--layout",
        "nginx-80",
        "--out",
        `${dir}/${host}/ticket.key`,
      ]);
      const keys = out.trim().split("\n").map((line) => {
        const m = /^ssl_session_ticket_key (\S+); # (\S+) ([0-9a-f]{32})$/.exec(line);
        assert.ok(m !== null, `unexpected export line: ${line}`);
        return { file: m[1], state: m[2], name: m[3] };
      });
      // Each file is the 80-byte key whose first 16 bytes are the name printed beside it.
      for (const k of keys) {
        const raw = await Deno.readFile(k.file);
        assert.equal(raw.length, 80, k.file);
        assert.equal(raw.subarray(0, 16).toHex(), k.name, k.file);
        assert.equal((await Deno.stat(k.file)).mode! & 0o777, 0o600, k.file);
      }
      return keys;
    };

    // Found the fleet: AES-256 "openssl" tickets (nginx-80), an 8 s interval and no staging
    // margins (one machine, one clock), so that its first key seals at once.
    await fleet([
      "rotate",
      "--format",
      "openssl",
      "--rotation-interval",
      `${INTERVAL_MS / 1000}s`,
      "--decrypt-period",
      "60s",
      "--propagation-delay",
      "0s",
      "--max-clock-skew",
      "0s",
    ]);
    // Start with a sealing key that has most of its interval ahead, and the next key published
    // (as a cron job running `fleet rotate` keeps it).
    let first = sealingKey(await status());
    if (first.deactivateAt - Date.now() < MIN_SEALING_LEFT_MS) {
      await sleepUntil(first.deactivateAt + 100);
      await fleet(["rotate"]);
      first = sealingKey(await status());
    }

    // Each host runs its own export (at the same time, as two cron jobs would).
    const before = await Promise.all([exportFor("a"), exportFor("b")]);
    const [sealing1, next1] = [before[0][0], before[0][1]];
    assert.equal(sealing1.state, "active");
    assert.equal(sealing1.name, first.name);
    assert.equal(next1?.state, "pending", "the next key is exported ahead of its interval");
    assert.ok(before[0].slice(2).every((k) => k.state === "decrypt-only"));
    // Both hosts hold the same keys.
    assert.deepEqual(
      before[1].map((k) => [k.state, k.name]),
      before[0].map((k) => [k.state, k.name]),
    );

    for (const keys of before) {
      servers.push(await startNginxServer(certs.certPath, certs.keyPath, keys.map((k) => k.file)));
    }
    const [a, b] = servers;
    let n = 0;
    const fresh = (name: string) => `${dir}/${++n}_${name}`;
    const sClient = async (server: NginxServer, version: Version, extra: string[]) => {
      const r = await runClient("openssl", server.port, [
        version === "1.3" ? "-tls1_3" : "-tls1_2",
        ...extra,
      ]);
      const out = parseSClient(r.stdout);
      assert.equal(
        out.protocol,
        version === "1.3" ? "TLSv1.3" : "TLSv1.2",
        `${r.stdout}${r.stderr}\n${server.output()}`,
      );
      return { ...out, printedTicket: parseSessionText(r.stdout).ticket };
    };
    const ticketIn = async (sessionPem: string) => {
      const t = sessionFromPem(await Deno.readTextFile(sessionPem)).ticket;
      assert.ok(t !== null && t.length > 0, `no ticket in ${sessionPem}`);
      return t;
    };
    /** A new session on `from` (its ticket under `keyName`) that resumes on `to`. */
    const acrossPair = async (
      from: NginxServer,
      to: NginxServer,
      version: Version,
      keyName: string,
    ) => {
      const pem = fresh("session.pem");
      const made = await sClient(from, version, ["-sess_out", pem]);
      assert.equal(made.handshake, "New");
      assert.equal(made.body, ".");
      const ticket = await ticketIn(pem);
      assert.equal(ticket.subarray(0, 16).toHex(), keyName);
      const resumed = await sClient(to, version, ["-sess_in", pem]);
      assert.equal(resumed.handshake, "Reused", to.output());
      assert.equal(resumed.body, "r");
      return { pem, ticket };
    };

    /** Sessions made before the rotation, per version. */
    const old = new Map<Version, { pem: string; ticket: Uint8Array }>();
    for (const version of VERSIONS) {
      await t.step(
        `TLS ${version}: a session from nginx A resumes on nginx B, and back`,
        async () => {
          old.set(version, await acrossPair(a, b, version, sealing1.name));
          await acrossPair(b, a, version, sealing1.name);
        },
      );
    }

    // The next interval: its key (exported as pending above) seals now. `fleet rotate`
    // publishes the one after it; a second export and a reload hand both to nginx.
    await sleepUntil(first.deactivateAt + 100);
    await fleet(["rotate"]);
    const after = await Promise.all([exportFor("a"), exportFor("b")]);
    const sealing2 = after[0][0];
    // The new sealing key first, the key after it, then the decrypt-only keys, newest first (an
    // older one is there too when the fleet was founded late in an interval).
    assert.deepEqual(
      after[0].slice(0, 3).map((k) => [k.state, k.name]),
      [
        ["active", next1.name],
        ["pending", after[0][1].name],
        ["decrypt-only", sealing1.name],
      ],
    );
    assert.deepEqual(
      after[0].slice(3).map((k) => k.state),
      before[0].slice(2).map(() => "decrypt-only"),
    );
    assert.notEqual(after[0][1].name, sealing1.name);
    assert.deepEqual(
      after[1].map((k) => [k.state, k.name]),
      after[0].map((k) => [k.state, k.name]),
    );
    await a.reload(after[0].map((k) => k.file));
    await b.reload(after[1].map((k) => k.file));

    for (const version of VERSIONS) {
      await t.step(
        `TLS ${version}: after rotate, export and reload, the previous key's session resumes on both, renewed under the new key`,
        async () => {
          const prev = old.get(version);
          assert.ok(prev !== undefined, "needs the steps before the rotation");
          for (const server of [a, b]) {
            const renewed = fresh("renewed.pem");
            const out = await sClient(server, version, [
              "-sess_in",
              prev.pem,
              "-sess_out",
              renewed,
            ]);
            assert.equal(out.handshake, "Reused", server.output());
            assert.equal(out.body, "r");
            // nginx renews a ticket of any key but its first (ngx_ssl_session_ticket_key_callback
            // returns 2): in TLS 1.2 during the resumption (printed by s_client; -sess_out is not
            // written for a resumed TLS 1.2 session), in TLS 1.3 after it.
            const next = version === "1.2" ? out.printedTicket : await ticketIn(renewed);
            assert.ok(next !== null && next.length > 0, "no renewed ticket");
            assert.equal(next.subarray(0, 16).toHex(), sealing2.name);
          }
          // The old ticket opens with the previous key, now the export's last file.
          const ticket = fresh("old_ticket.bin");
          await Deno.writeFile(ticket, prev.ticket);
          const opened = JSON.parse(
            await cliOk(["open", "--key", after[0][2].file, "--layout", "nginx-80", ticket]),
          ) as Opened;
          assert.equal(opened.status, 5);
          assert.equal(opened.keyName, sealing1.name);
        },
      );

      await t.step(
        `TLS ${version}: after the reload, new tickets are sealed under the new key and resume across the pair`,
        async () => {
          const made = await acrossPair(a, b, version, sealing2.name);
          await acrossPair(b, a, version, sealing2.name);
          const ticket = fresh("new_ticket.bin");
          await Deno.writeFile(ticket, made.ticket);
          const opened = JSON.parse(
            await cliOk(["open", "--key", sealing2.file, "--layout", "nginx-80", ticket]),
          ) as Opened;
          assert.equal(opened.status, 5); // SUCCESS: the sealing key, no renewal
          assert.equal(opened.keyName, sealing2.name);
        },
      );
    }
  } finally {
    for (const s of servers) await s.stop();
    await certs.remove();
  }
});
