// A fuzz test of the TLS 1.3 server: at least 100,000 mutated ClientHellos and records are sent
// to live in-memory connections (`acceptTls` over tests/_memory_transport.ts), and every one must
// end in a completed step or in a TlsAlert with a known RFC 8446 alert number (which the server
// also wrote as its last record) or a TlsConnectionError: never another exception, never an
// internal_error wrapping one, never a hang, never an unhandled rejection.
//
// Seeds are real messages made by tests/_tls13_client.ts against the same server: ClientHellos
// (plain, rich, P-384, share-less for a HelloRetryRequest, with a valid PSK from one of the
// engine's tickets, with two identities), second ClientHellos after a HelloRetryRequest, and, on
// a deterministic server (fixed random, fixed ephemeral keys, an Ed25519 certificate, so the
// whole transcript repeats), the client Finished and post-handshake records (application data,
// KeyUpdate, alerts, handshake messages), mutated as plaintext and re-sealed or mutated as
// ciphertext. Mutations: bit flips, interesting bytes, truncation, extension, insertion,
// deletion, duplication, length-field edits (structure-aware for ClientHellos), extension-list
// edits, splices between seeds, and record-framing changes (fragmentation, ChangeCipherSpec,
// header edits, trailing data).
//
// Every case has its own PRNG seeded from (FUZZ_SEED, case index), and the server is
// deterministic (fixed certificate, ticket keys, clock, random and ephemeral keys; the seeds use
// fixed client randoms and keys), so a failure reproduces with
// `FUZZ_SEED=<seed> FUZZ_ONLY=<index> deno test -A tests/tls_fuzz_test.ts` (same mutations; only
// the IV inside the PSK seeds' ticket differs between runs) and exactly with
// `FUZZ_REPLAY=<input hex>` (the hex printed with the failure). FUZZ_CASES sets the number of
// cases (default 100,000).
import assert from "node:assert/strict";
import { TlsAlert } from "../src/server/alert.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { ServerCredentials } from "../src/tls/certificate.ts";
import { acceptTls, type TlsConnectionOptions } from "../src/tls/connection.ts";
import { TlsConnectionError } from "../src/tls/errors.ts";
import { trafficKey } from "../src/tls/key_schedule.ts";
import {
  type ExtensionEntry,
  handshakeMessage,
  HELLO_RETRY_REQUEST_RANDOM,
} from "../src/tls/messages.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import { memoryTransportPair } from "./_memory_transport.ts";
import {
  caseSeed,
  CERT_PEM,
  counterRandom,
  fixedPair,
  frame,
  fuzzSettings,
  KEY_PEM,
  mutateBytes,
  mutateHello,
  records,
  Rng,
  runFuzzCampaign,
} from "./_fuzz.ts";
import {
  type ClientHelloOptions,
  Group,
  record,
  ticketIdentity,
  Tls13Client,
} from "./_tls13_client.ts";

const SETTINGS = fuzzSettings(0x8446);
const { seed: SEED, cases: CASES } = SETTINGS;
const CONCURRENCY = 24;
const CASE_TIMEOUT_MS = 5_000;
/** Alerts the server may send for malformed input (RFC 8446 §6.2; 86 for a hello that becomes TLS 1.2). */
const KNOWN_ALERTS = new Set([10, 20, 22, 40, 47, 50, 51, 70, 86, 109, 112, 120]);

// ---------------------------------------------------------------------------------------------
// Running one case

interface Outcome {
  /** The bucket for the distribution. */
  key: string;
  /** Set when the case broke a rule. */
  failure?: string;
}

function stage(out: Uint8Array): string {
  const recs = records(out);
  if (recs.some((x) => x.type === 23)) return "after ServerHello";
  const hs = recs.find((x) => x.type === 22);
  if (hs === undefined) return "before any reply";
  const random = hs.body.subarray(6, 38);
  return random.every((v, i) => v === HELLO_RETRY_REQUEST_RANDOM[i])
    ? "after HelloRetryRequest"
    : "after ServerHello";
}

function classify(result: unknown, output: Uint8Array, handshakeOk: boolean): Outcome {
  if (result === "ok" || result === "done") {
    return {
      key: handshakeOk
        ? `handshake completed (${result === "done" ? "close_notify" : "eof"})`
        : "?",
    };
  }
  if (result instanceof TlsAlert) {
    const recs = records(output);
    const last = recs[recs.length - 1];
    const protectedPhase = recs.some((x) => x.type === 23);
    if (!KNOWN_ALERTS.has(result.alert)) {
      return { key: `alert ${result.alert}`, failure: `unexpected alert: ${result.message}` };
    }
    if (last === undefined) {
      return { key: `alert ${result.alert}`, failure: "no alert record written" };
    }
    if (
      !protectedPhase && (last.type !== 21 || last.body[0] !== 2 || last.body[1] !== result.alert)
    ) {
      return { key: `alert ${result.alert}`, failure: "the last record is not the alert raised" };
    }
    if (protectedPhase && last.type !== 23) {
      return {
        key: `alert ${result.alert}`,
        failure: "the alert after the ServerHello is not protected",
      };
    }
    return { key: `alert ${result.alert}` };
  }
  if (result instanceof TlsConnectionError) {
    if (result.kind === "timeout") return { key: "timeout", failure: result.message };
    const what = result.kind; // (the number of a peer-alert is whatever the mutation made)
    return { key: handshakeOk ? `${what} (after the handshake)` : `${what} (${stage(output)})` };
  }
  const e = result as Error;
  return { key: "exception", failure: `${e?.name}: ${e?.message}\n${e?.stack}` };
}

/** Feeds `input` to a fresh connection, then ends the stream; reads application data if any. */
async function runCase(input: Uint8Array, options: TlsConnectionOptions): Promise<Outcome> {
  const [c, s] = memoryTransportPair({ capacity: 1 << 17 });
  const conn = acceptTls(s, options);
  const writing = c.writeAll(input).then(() => c.closeWrite(), () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<"hang">((
    resolve,
  ) => (timer = setTimeout(() => resolve("hang"), CASE_TIMEOUT_MS)));
  const work = (async () => {
    let handshakeOk = false;
    try {
      await conn.handshake();
      handshakeOk = true;
      const reader = conn.readable.getReader();
      for (;;) if ((await reader.read()).done) return { result: "done" as unknown, handshakeOk };
    } catch (e) {
      return { result: e, handshakeOk };
    }
  })();
  const done = await Promise.race([work, hang]);
  clearTimeout(timer);
  if (done === "hang") {
    c.close();
    await Promise.race([work, new Promise((r) => setTimeout(r, 100))]);
    return { key: "hang", failure: `no outcome within ${CASE_TIMEOUT_MS} ms` };
  }
  await writing;
  const output = c.takeAvailable();
  c.close();
  return classify(done.result, output, done.handshakeOk);
}

// ---------------------------------------------------------------------------------------------
// Seeds

interface Seeds {
  options: TlsConnectionOptions;
  /** Whole first ClientHello messages. */
  hellos: { name: string; message: Uint8Array }[];
  /** ClientHello1 records (unmutated prefix) and the second ClientHello after the HRR. */
  retries: { name: string; prefix: Uint8Array; message: Uint8Array }[];
  /** The deterministic handshake: ClientHello record, sealers and messages. */
  det: {
    chRecord: Uint8Array;
    finished: Uint8Array;
    finRecord: Uint8Array;
    sealHs: (inner: Uint8Array) => Promise<Uint8Array>;
    sealApp: (inner: Uint8Array) => Promise<Uint8Array>;
    inners: { name: string; inner: Uint8Array }[];
    appRecords: Uint8Array[];
  };
  donors: Uint8Array[];
}

async function aesSealer(hash: "SHA-256" | "SHA-384", secret: Uint8Array, keyLength: 16 | 32) {
  const { key, iv } = trafficKey(hash, secret, keyLength);
  const k = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-GCM", false, [
    "encrypt",
  ]);
  return async (inner: Uint8Array) => {
    const len = inner.length + 16;
    const header = new Uint8Array([23, 3, 3, (len >> 8) & 0xff, len & 0xff]);
    const body = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: new Uint8Array(iv), additionalData: header },
      k,
      new Uint8Array(inner),
    );
    return concatBytes([header, new Uint8Array(body)]);
  };
}

async function makeSeeds(): Promise<Seeds> {
  const credentials = await ServerCredentials.fromPem(CERT_PEM, KEY_PEM);
  const context = await SslContext.create({
    ticketKeys: new Uint8Array(80).map((_, i) => i * 7 + 1),
    now: () => Date.UTC(2026, 11, 1),
    random: counterRandom(),
  });
  const pairs = new Map<number, CryptoKeyPair>();
  const clientPairs = new Map<number, CryptoKeyPair>();
  for (const g of [Group.X25519, Group.P256, Group.P384]) {
    pairs.set(g, await fixedPair(g, 0x51));
    clientPairs.set(g, await fixedPair(g, 0xc1));
  }
  const serverRandom = new Uint8Array(32).fill(0x5e);
  const options: TlsConnectionOptions = {
    credentials,
    context,
    alpnProtocols: ["h2", "http/1.1"],
    serverNames: { localhost: context },
    handshakeTimeoutMs: 60_000,
    random: () => serverRandom.slice(),
    ephemeralKeys: (g) => Promise.resolve(pairs.get(g)!),
  };

  /** Runs a real handshake with `script`, checks it completes, returns what the script returns. */
  async function live<T>(script: (c: Tls13Client) => Promise<T>): Promise<T> {
    const [c, s] = memoryTransportPair();
    const conn = acceptTls(s, options);
    try {
      const client = new Tls13Client(c);
      for (const [g, pair] of clientPairs) client.setKeyPair(g, pair);
      const out = await script(client);
      await conn.handshake();
      return out;
    } finally {
      c.close();
      await conn.handshake().catch(() => {});
    }
  }

  const ticket = await live(async (c) => {
    await c.handshake();
    return (await c.readTickets(1))[0];
  });
  const sid = new Uint8Array(32).fill(0x33);
  const psk = { ...ticketIdentity(ticket), obfuscatedTicketAge: (ticket.ageAdd + 1000) % 2 ** 32 };
  const random = (n: number) => new Uint8Array(32).fill(n);
  const helloOptions: Record<string, ClientHelloOptions> = {
    plain: {},
    rich: {
      serverName: "localhost",
      alpn: ["h2", "http/1.1"],
      legacySessionId: sid,
      keyShares: [Group.P256, Group.X25519],
      earlyData: true,
      extraExtensions: [[0xfafa, new Uint8Array(0)], [21, new Uint8Array(32)]] as ExtensionEntry[],
    },
    p384: { suites: [0x1302], groups: [Group.P384], keyShares: [Group.P384] },
    psk: { psk: [psk], serverName: "localhost" },
    pskTwo: {
      psk: [
        { identity: new Uint8Array(48).fill(7), obfuscatedTicketAge: 1 },
        ticketIdentity(ticket),
      ],
    },
  };
  const hellos: Seeds["hellos"] = [];
  for (const [i, [name, o]] of Object.entries(helloOptions).entries()) {
    const message = await live(async (c) => {
      const m = await c.sendClientHello({ random: random(i + 1), ...o });
      await c.readServerHello();
      await c.readServerFlight();
      await c.sendFinished();
      return m;
    });
    hellos.push({ name, message });
  }
  const retries: Seeds["retries"] = [];
  for (
    const [name, o] of Object.entries({
      hrr: { groups: [Group.P256, Group.X25519], keyShares: [] },
      hrrPsk: { keyShares: [], psk: [psk] },
      hrrCompat: { keyShares: [], legacySessionId: sid, alpn: ["http/1.1"] },
    })
  ) {
    const [ch1, ch2] = await live(async (c) => {
      const m1 = await c.sendClientHello({ random: random(0x40 + retries.length), ...o });
      assert.equal((await c.readServerHello()).helloRetryRequest, true);
      const m2 = await c.sendSecondClientHello();
      await c.readServerHello();
      await c.readServerFlight();
      await c.sendFinished();
      return [m1, m2];
    });
    hellos.push({ name: `${name}-first`, message: ch1 });
    retries.push({ name, prefix: record(22, ch1, 0x0301), message: ch2 });
  }

  // The deterministic handshake (everything above is fixed, so the transcript repeats).
  const det = await live(async (c) => {
    const ch = await c.sendClientHello({ random: new Uint8Array(32).fill(0xc1) });
    await c.readServerHello();
    await c.readServerFlight();
    const finished = c.finishedMessage();
    const hsSecret = c.handshakeSecrets!.client;
    await c.sendFinished(finished);
    return {
      ch,
      finished,
      hsSecret,
      appSecret: c.applicationSecrets!.client.slice(),
      hash: c.hash,
      keyLength: c.keyLength,
    };
  });
  const sealHs = await aesSealer(det.hash, det.hsSecret, det.keyLength);
  const sealApp = await aesSealer(det.hash, det.appSecret, det.keyLength);
  const chRecord = record(22, det.ch, 0x0301);
  const finRecord = await sealHs(concatBytes([det.finished, new Uint8Array([22])]));
  const enc = new TextEncoder();
  const inners = [
    {
      name: "data",
      inner: concatBytes([
        enc.encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        new Uint8Array([23]),
      ]),
    },
    { name: "empty-data", inner: new Uint8Array([23]) },
    {
      name: "key-update",
      inner: concatBytes([handshakeMessage(24, new Uint8Array([0])), new Uint8Array([22])]),
    },
    {
      name: "key-update-req",
      inner: concatBytes([handshakeMessage(24, new Uint8Array([1])), new Uint8Array([22])]),
    },
    { name: "close-notify", inner: new Uint8Array([1, 0, 21]) },
    { name: "fatal-alert", inner: new Uint8Array([2, 40, 21]) },
    {
      name: "nst",
      inner: concatBytes([handshakeMessage(4, new Uint8Array(16)), new Uint8Array([22])]),
    },
    {
      name: "padded-data",
      inner: concatBytes([enc.encode("pad"), new Uint8Array([23]), new Uint8Array(40)]),
    },
  ];
  const appRecords = await Promise.all(inners.map((x) => sealApp(x.inner)));
  const donors = [
    ...hellos.map((h) => h.message),
    ...retries.map((x) => x.message),
    det.finished,
    ...inners.map((x) => x.inner),
  ];
  return {
    options,
    hellos,
    retries,
    det: { chRecord, finished: det.finished, finRecord, sealHs, sealApp, inners, appRecords },
    donors,
  };
}

/** The input of case `index` and its kind. */
async function buildCase(
  index: number,
  seeds: Seeds,
): Promise<{ kind: string; input: Uint8Array }> {
  const r = new Rng(caseSeed(SEED, index));
  const roll = r.int(100);
  if (roll < 68) {
    const seed = r.pick(seeds.hellos);
    const m = mutateHello(r, seed.message, seeds.donors);
    return { kind: `hello/${seed.name}`, input: frame(r, m, r.int(8) === 0 ? 0x0303 : 0x0301) };
  }
  if (roll < 86) {
    const seed = r.pick(seeds.retries);
    const m = mutateHello(r, seed.message, seeds.donors);
    return {
      kind: `second-hello/${seed.name}`,
      input: concatBytes([seed.prefix, frame(r, m, 0x0303)]),
    };
  }
  const d = seeds.det;
  const sub = r.int(100);
  if (sub < 25) {
    const inner = mutateBytes(r, concatBytes([d.finished, new Uint8Array([22])]), seeds.donors);
    return { kind: "finished/plaintext", input: concatBytes([d.chRecord, await d.sealHs(inner)]) };
  }
  if (sub < 40) {
    return {
      kind: "finished/record",
      input: concatBytes([d.chRecord, mutateBytes(r, d.finRecord, seeds.donors)]),
    };
  }
  const i = r.int(d.inners.length);
  if (sub < 80) {
    const inner = mutateBytes(r, d.inners[i].inner, seeds.donors);
    return {
      kind: `post/plaintext/${d.inners[i].name}`,
      input: concatBytes([d.chRecord, d.finRecord, await d.sealApp(inner)]),
    };
  }
  return {
    kind: `post/record/${d.inners[i].name}`,
    input: concatBytes([d.chRecord, d.finRecord, mutateBytes(r, d.appRecords[i], seeds.donors)]),
  };
}

// ---------------------------------------------------------------------------------------------

Deno.test({
  name:
    `fuzz: ${CASES} mutated ClientHellos and records to live connections end only in known alerts or connection errors`,
  // Timers of the server connections are all cleared when each case settles.
  async fn() {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      unhandled.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    try {
      const seeds = await makeSeeds();
      // The unmutated deterministic inputs behave as expected.
      const sanity = [
        [concatBytes([seeds.det.chRecord, seeds.det.finRecord]), "closed (after the handshake)"],
        [
          concatBytes([seeds.det.chRecord, seeds.det.finRecord, seeds.det.appRecords[4]]),
          "handshake completed (close_notify)",
        ],
        [
          concatBytes([seeds.det.chRecord, seeds.det.finRecord, seeds.det.appRecords[3]]),
          "closed (after the handshake)",
        ],
        [seeds.retries[0].prefix, "closed (after HelloRetryRequest)"],
      ] as const;
      for (const [input, key] of sanity) {
        assert.deepEqual(await runCase(input, seeds.options), { key });
      }

      const distribution = await runFuzzCampaign({
        label: "TLS 1.3",
        settings: SETTINGS,
        concurrency: CONCURRENCY,
        build: (index) => buildCase(index, seeds),
        run: (input) => runCase(input, seeds.options),
      });
      // The fuzz reached every phase: some mutated inputs still completed a handshake.
      if (distribution !== null && SETTINGS.only === null) {
        assert.ok((distribution.get("closed (after the handshake)") ?? 0) > 0);
      }
      assert.deepEqual(unhandled, []);
    } finally {
      globalThis.removeEventListener("unhandledrejection", onUnhandled);
    }
  },
});
