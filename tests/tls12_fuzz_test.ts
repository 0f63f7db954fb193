// A fuzz test of the TLS 1.2 server: at least 100,000 mutated TLS 1.2 ClientHellos,
// ClientKeyExchanges, ChangeCipherSpecs, Finished messages and application records are sent to
// live in-memory connections (`acceptTls` over tests/_memory_transport.ts), and every one must end
// in a completed step, in a TlsAlert with a known alert number (which the server also wrote as its
// last record, protected once it sent its ChangeCipherSpec) or in a TlsConnectionError: never
// another exception, never internal_error, never a hang, never an unhandled rejection.
//
// Seeds are real client byte streams recorded from tests/_tls12_client.ts against a
// deterministic server (fixed random, fixed ephemeral keys, an Ed25519 certificate, fixed ticket
// keys and clock) with a fixed client random and key, so the full handshake (ClientHello,
// ClientKeyExchange, ChangeCipherSpec, Finished), the abbreviated one (ClientHello with a ticket,
// ChangeCipherSpec, Finished) and the records after them repeat byte for byte, and mutated
// plaintexts are re-sealed under the client's keys at the right sequence number. The mutators are
// those of the TLS 1.3 fuzz (tests/_fuzz.ts).
//
// A failure reproduces with `FUZZ_SEED=<seed> FUZZ_ONLY=<index> deno test -A
// tests/tls12_fuzz_test.ts` and exactly with `FUZZ_REPLAY=<input hex>`. FUZZ_CASES sets the
// number of cases (default 100,000).
import assert from "node:assert/strict";
import { TlsAlert } from "../src/server/alert.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { ServerCredentials } from "../src/tls/certificate.ts";
import { acceptTls, type TlsConnectionOptions } from "../src/tls/connection.ts";
import { TlsConnectionError } from "../src/tls/errors.ts";
import { handshakeMessage } from "../src/tls/messages.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import { Tls12GcmCipher } from "../src/tls/tls12_record.ts";
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
import { type ClientSession12, type Hello12Options, Tls12Client } from "./_tls12_client.ts";
import { Group } from "./_tls13_client.ts";

const SETTINGS = fuzzSettings(0x5246);
const { seed: SEED, cases: CASES } = SETTINGS;
const CONCURRENCY = 24;
const CASE_TIMEOUT_MS = 5_000;
/** Alerts the server may send for malformed TLS 1.2 input (RFC 5246 §7.2.2, RFC 7507). */
const KNOWN_ALERTS = new Set([10, 20, 22, 40, 47, 50, 51, 70, 86, 109, 112, 120]);

interface Outcome {
  key: string;
  failure?: string;
}

function classify(result: unknown, output: Uint8Array, handshakeOk: boolean): Outcome {
  if (result === "done") return { key: "handshake completed (close_notify)" };
  const recs = records(output);
  const serverCcs = recs.some((x) => x.type === 20);
  if (result instanceof TlsAlert) {
    const key = `alert ${result.alert}`;
    if (!KNOWN_ALERTS.has(result.alert)) {
      return { key, failure: `unexpected alert: ${result.message}` };
    }
    const last = recs.at(-1);
    if (last === undefined || last.type !== 21) return { key, failure: "no alert record last" };
    if (!serverCcs && (last.body[0] !== 2 || last.body[1] !== result.alert)) {
      return { key, failure: "the last record is not the alert raised" };
    }
    if (serverCcs && last.body.length !== 2 + 24) {
      return { key, failure: "the alert after ChangeCipherSpec is not protected" };
    }
    return { key };
  }
  if (result instanceof TlsConnectionError) {
    if (result.kind === "timeout") return { key: "timeout", failure: result.message };
    const stage = handshakeOk ? "after the handshake" : serverCcs ? "after CCS" : "handshake";
    return { key: `${result.kind} (${stage})` };
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
  const hang = new Promise<"hang">((resolve) => {
    timer = setTimeout(() => resolve("hang"), CASE_TIMEOUT_MS);
  });
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

interface Seeds {
  options: TlsConnectionOptions;
  hellos: { name: string; message: Uint8Array }[];
  full: { ch: Uint8Array; cke: Uint8Array; ccs: Uint8Array; fin: Uint8Array };
  resume: { ch: Uint8Array; ccs: Uint8Array; fin: Uint8Array; finPlain: Uint8Array };
  finPlain: Uint8Array;
  ckeMessage: Uint8Array;
  /** Seals as the client: full-handshake keys (`seq` 0 is the Finished). */
  seal: (type: number, content: Uint8Array, seq: number) => Promise<Uint8Array>;
  sealResumed: (type: number, content: Uint8Array, seq: number) => Promise<Uint8Array>;
  post: { name: string; type: number; content: Uint8Array; record: Uint8Array }[];
  donors: Uint8Array[];
}

async function makeSeeds(): Promise<Seeds> {
  const credentials = await ServerCredentials.fromPem(CERT_PEM, KEY_PEM);
  const context = await SslContext.create({
    ticketKeys: new Uint8Array(80).map((_, i) => i * 5 + 3),
    now: () => Date.UTC(2026, 11, 1),
    random: counterRandom(),
  });
  const pairs = new Map<number, CryptoKeyPair>();
  const clientPairs = new Map<number, CryptoKeyPair>();
  for (const g of [Group.X25519, Group.P256, Group.P384]) {
    pairs.set(g, await fixedPair(g, 0x52));
    clientPairs.set(g, await fixedPair(g, 0xc2));
  }
  const serverRandom = new Uint8Array(32).fill(0x12);
  const options: TlsConnectionOptions = {
    credentials,
    context,
    alpnProtocols: ["h2", "http/1.1"],
    serverNames: { localhost: context },
    handshakeTimeoutMs: 60_000,
    random: () => serverRandom.slice(),
    ephemeralKeys: (g) => Promise.resolve(pairs.get(g)!),
  };
  const clientRandom = new Uint8Array(32).fill(0xc7);

  /** A real handshake; returns its outcome, the client's byte stream and the client. */
  async function live(hello: Hello12Options, resume?: ClientSession12) {
    const [c, s] = memoryTransportPair({}, true);
    const conn = acceptTls(s, options);
    try {
      const client = new Tls12Client(c);
      client.keyPairs = clientPairs;
      const outcome = await client.handshake({ random: clientRandom, ...hello }, resume);
      await conn.handshake();
      return { outcome, bytes: c.written(), client };
    } finally {
      c.close();
      await conn.handshake().catch(() => {});
    }
  }
  const recordBytes = (b: Uint8Array) => {
    const out: Uint8Array[] = [];
    for (let p = 0; p + 5 <= b.length;) {
      const n = 5 + ((b[p + 3] << 8) | b[p + 4]);
      out.push(b.slice(p, p + n));
      p += n;
    }
    return out;
  };

  const full = await live({});
  const [ch, cke, ccs, fin] = recordBytes(full.bytes);
  const k = full.client.keys!;
  const sealerFor = (key: Uint8Array, iv: Uint8Array) =>
  async (
    type: number,
    content: Uint8Array,
    seq: number,
  ) => {
    const c = await Tls12GcmCipher.create(key, iv);
    c.sequence = seq;
    return await c.seal(type, content);
  };
  const seal = sealerFor(k.clientKey, k.clientIv);
  // The Finished plaintext: open the recorded record.
  const opener = await Tls12GcmCipher.create(k.clientKey, k.clientIv);
  const finPlain = (await opener.open(fin.subarray(0, 5), fin.subarray(5))).content;

  const sessionId = new Uint8Array(32).fill(0x5d);
  const resumed = await live({ sessionId }, full.outcome.session);
  assert.equal(resumed.outcome.resumed, true);
  const [rch, rccs, rfin] = recordBytes(resumed.bytes);
  const rk = resumed.client.keys!;
  const sealResumed = sealerFor(rk.clientKey, rk.clientIv);
  const ropener = await Tls12GcmCipher.create(rk.clientKey, rk.clientIv);
  const rfinPlain = (await ropener.open(rfin.subarray(0, 5), rfin.subarray(5))).content;

  const noTicket = await live({ ticket: null });
  const probe = new Tls12Client(memoryTransportPair()[0]);
  const hello = (o: Hello12Options) => probe.buildClientHello({ random: clientRandom, ...o });
  const hellos = [
    { name: "plain", message: ch.slice(5) },
    { name: "no-ems", message: hello({ ems: false }) },
    { name: "scsv", message: hello({ renegotiationInfo: null, suites: [0xc02b, 0x00ff] }) },
    { name: "ticket", message: rch.slice(5) },
    {
      name: "session-id",
      message: hello({ ticket: null, sessionId: noTicket.outcome.session.sessionId }),
    },
    { name: "alpn", message: hello({ alpn: ["h2"], groups: [0x17, 0x18] }) },
    { name: "versions", message: hello({ supportedVersions: [0x0303], legacyVersion: 0x0304 }) },
  ];

  const enc = new TextEncoder();
  const postItems: { name: string; type: number; content: Uint8Array }[] = [
    { name: "data", type: 23, content: enc.encode("hello") },
    { name: "empty-data", type: 23, content: new Uint8Array(0) },
    { name: "close_notify", type: 21, content: new Uint8Array([1, 0]) },
    { name: "warning", type: 21, content: new Uint8Array([1, 90]) },
    { name: "renegotiation", type: 22, content: hellos[0].message },
    { name: "key_update", type: 22, content: handshakeMessage(24, new Uint8Array([0])) },
    { name: "ccs", type: 20, content: new Uint8Array([1]) },
  ];
  const post = await Promise.all(
    postItems.map(async (x) => ({ ...x, record: await seal(x.type, x.content, 1) })),
  );
  const donors = [
    ...hellos.map((h) => h.message),
    cke.slice(5),
    finPlain,
    ...postItems.map((x) => x.content),
  ];
  return {
    options,
    hellos,
    full: { ch, cke, ccs, fin },
    resume: { ch: rch, ccs: rccs, fin: rfin, finPlain: rfinPlain },
    finPlain,
    ckeMessage: cke.slice(5),
    seal,
    sealResumed,
    post,
    donors,
  };
}

async function buildCase(
  index: number,
  seeds: Seeds,
): Promise<{ kind: string; input: Uint8Array }> {
  const r = new Rng(caseSeed(SEED, index));
  const roll = r.int(100);
  const f = seeds.full;
  if (roll < 40) {
    const seed = r.pick(seeds.hellos);
    const m = mutateHello(r, seed.message, seeds.donors);
    return { kind: `hello/${seed.name}`, input: frame(r, m, r.int(4) === 0 ? 0x0301 : 0x0303) };
  }
  if (roll < 50) {
    const m = mutateBytes(r, seeds.ckeMessage, seeds.donors);
    return { kind: "key-exchange", input: concatBytes([f.ch, frame(r, m, 0x0303), f.ccs, f.fin]) };
  }
  if (roll < 55) {
    return {
      kind: "change-cipher-spec",
      input: concatBytes([f.ch, f.cke, mutateBytes(r, f.ccs, seeds.donors), f.fin]),
    };
  }
  if (roll < 70) {
    if (r.int(2) === 0) {
      const plain = mutateBytes(r, seeds.finPlain, seeds.donors);
      const type = r.int(6) === 0 ? r.pick([20, 21, 23]) : 22;
      return {
        kind: "finished/plaintext",
        input: concatBytes([f.ch, f.cke, f.ccs, await seeds.seal(type, plain, 0)]),
      };
    }
    return {
      kind: "finished/record",
      input: concatBytes([f.ch, f.cke, f.ccs, mutateBytes(r, f.fin, seeds.donors)]),
    };
  }
  if (roll < 88) {
    const item = r.pick(seeds.post);
    const prefix = concatBytes([f.ch, f.cke, f.ccs, f.fin]);
    if (r.int(2) === 0) {
      const plain = mutateBytes(r, item.content, seeds.donors);
      return {
        kind: `post/plaintext/${item.name}`,
        input: concatBytes([prefix, await seeds.seal(item.type, plain, 1)]),
      };
    }
    return {
      kind: `post/record/${item.name}`,
      input: concatBytes([prefix, mutateBytes(r, item.record, seeds.donors)]),
    };
  }
  const res = seeds.resume;
  if (r.int(2) === 0) {
    const plain = mutateBytes(r, res.finPlain, seeds.donors);
    return {
      kind: "resume/finished",
      input: concatBytes([res.ch, res.ccs, await seeds.sealResumed(22, plain, 0)]),
    };
  }
  return {
    kind: "resume/record",
    input: concatBytes([res.ch, res.ccs, mutateBytes(r, res.fin, seeds.donors)]),
  };
}

Deno.test({
  name: `fuzz TLS 1.2: ${CASES} mutated ClientHellos, ClientKeyExchanges, ChangeCipherSpecs, ` +
    "Finished messages and records end only in known alerts or connection errors",
  async fn() {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      unhandled.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    try {
      const seeds = await makeSeeds();
      const f = seeds.full, res = seeds.resume;
      // The unmutated inputs behave as expected: the recorded streams are deterministic.
      const sanity = [
        [concatBytes([f.ch, f.cke, f.ccs, f.fin]), "closed (after the handshake)"],
        [
          concatBytes([f.ch, f.cke, f.ccs, f.fin, seeds.post[2].record]),
          "handshake completed (close_notify)",
        ],
        [concatBytes([res.ch, res.ccs, res.fin]), "closed (after the handshake)"],
        [
          concatBytes([
            f.ch,
            f.cke,
            f.ccs,
            await seeds.seal(22, seeds.finPlain.map((b, i) => i === 5 ? b ^ 1 : b), 0),
          ]),
          "alert 51",
        ],
      ] as const;
      for (const [input, key] of sanity) {
        assert.deepEqual(await runCase(input, seeds.options), { key });
      }
      const distribution = await runFuzzCampaign({
        label: "TLS 1.2",
        settings: SETTINGS,
        concurrency: CONCURRENCY,
        build: (index) => buildCase(index, seeds),
        run: (input) => runCase(input, seeds.options),
      });
      assert.deepEqual(unhandled, []);
      // The fuzz reached every phase: full and resumed handshakes completed, and alerts after
      // the server's ChangeCipherSpec.
      if (distribution !== null && SETTINGS.only === null) {
        assert.ok((distribution.get("closed (after the handshake)") ?? 0) > 0);
      }
    } finally {
      globalThis.removeEventListener("unhandledrejection", onUnhandled);
    }
  },
});
