// Cost ratios of the public seal/open API against the raw Web Crypto AES-GCM primitive, measured
// interleaved and paired: each round times a batch of every operation in turn, each round gives
// the ratio of the API's batch to the raw primitive's batch just before it, and the figure is
// the median of those per-round ratios (times are medians over all rounds). On a shared 2-core
// machine one-at-a-time Web Crypto latency swings by tens of percent from one benchmark to the
// next, so comparing averages of separately timed benchmarks mostly measures that drift;
// interleaving cancels it, and 1,000 rounds (about 20 s) average over the slower swings.
//
// Run: deno task bench (after the Deno.bench tables), or deno run bench/ratios.ts [rounds].
import { TicketKey } from "../mod.ts";
import { encodeSession } from "../src/session/codec.ts";
import { BENCH_SESSIONS } from "./_sessions.ts";

const ROUNDS = Number(Deno.args[0] ?? 1000);
const BATCH = 16;
const IN_FLIGHT = 64;

const sessions = BENCH_SESSIONS;

const key = await TicketKey.generate({ format: "aes-256-gcm", sealBudget: 2 ** 40 });
const raw = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
  "encrypt",
  "decrypt",
]);
const name = crypto.getRandomValues(new Uint8Array(16));

const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];

/**
 * Median µs per operation of each op, one at a time (n = 1) or `IN_FLIGHT` at once, and the
 * median over rounds of the paired ratios seal/rawSeal and open/rawOpen.
 */
async function measure(
  ops: Record<string, () => Promise<unknown>>,
  n: number,
): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (const k in ops) samples[k] = [];
  const sealRatios: number[] = [];
  const openRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t: Record<string, number> = {};
    for (const k in ops) {
      const start = performance.now();
      if (n === 1) { for (let i = 0; i < BATCH; i++) await ops[k](); }
      else await Promise.all(Array.from({ length: n }, ops[k]));
      t[k] = ((performance.now() - start) * 1000) / (n === 1 ? BATCH : n);
      samples[k].push(t[k]);
    }
    sealRatios.push(t.seal / t.rawSeal);
    openRatios.push(t.open / t.rawOpen);
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  return { ...m, sealRatio: median(sealRatios), openRatio: median(openRatios) };
}

console.log(
  `\nInterleaved, ${ROUNDS} rounds: median µs per operation, and the median of the per-round\n` +
    "ratios API / raw primitive:\n",
);
console.log(
  "| session | mode | raw encrypt | seal | seal ratio | raw decrypt | open | open ratio |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const [label, session] of sessions) {
  const der = encodeSession(session);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: name }, raw, der);
  const ticket = await key.seal(session);
  const ops = {
    rawSeal: () =>
      crypto.subtle.encrypt(
        { name: "AES-GCM", iv: crypto.getRandomValues(new Uint8Array(12)), additionalData: name },
        raw,
        der,
      ),
    seal: () => key.seal(session),
    rawOpen: () => crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: name }, raw, ct),
    open: () => key.open(ticket),
  };
  for (const n of [1, IN_FLIGHT]) {
    const m = await measure(ops, n);
    const f = (x: number) => x.toFixed(1);
    console.log(
      `| ${label} | ${n === 1 ? "1 at a time" : `${n} in flight`} | ${f(m.rawSeal)} | ${
        f(m.seal)
      } | ${m.sealRatio.toFixed(2)}× | ${f(m.rawOpen)} | ${f(m.open)} | ${
        m.openRatio.toFixed(2)
      }× |`,
    );
  }
}
