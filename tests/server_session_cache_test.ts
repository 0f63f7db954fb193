// The server session cache (src/server/session_cache.ts) against libssl's ssl/ssl_sess.c: a full
// cache gives up the session that expires first (its list is kept in timeoutcmp order and
// SSL_CTX_add_session removes the tail), a lookup (lookup_sess_in_cache) does not move a
// session, and SSL_SESS_CACHE_OFF (size 0) keeps nothing.
import assert from "node:assert/strict";
import { SessionCache } from "../src/server/session_cache.ts";
import { SslSession } from "../src/session/ssl_session.ts";

/** A session whose id is `id` repeated, created at `time` with `timeout` seconds. */
function session(id: number, time: number, timeout = 7200): SslSession {
  return new SslSession({ sessionId: new Uint8Array(32).fill(id), time, timeout });
}

function held(cache: SessionCache, ids: number[]): number[] {
  return ids.filter((id) => cache.get(new Uint8Array(32).fill(id)) !== undefined);
}

Deno.test("ssl/ssl_sess.c:SSL_CTX_add_session: with one timeout for all, a full cache gives up the oldest session, even one just looked up (lookup_sess_in_cache does not reorder)", () => {
  const cache = new SessionCache(2);
  cache.add(session(1, 100));
  cache.add(session(2, 101));
  assert.ok(cache.get(new Uint8Array(32).fill(1)) !== undefined);
  cache.add(session(3, 102));
  assert.equal(cache.size, 2);
  assert.deepEqual(held(cache, [1, 2, 3]), [2, 3]);
});

Deno.test("ssl/ssl_sess.c:SSL_CTX_add_session: with different timeouts the session that expires first goes, wherever it was added; of equal expiries, the one added first", () => {
  const cache = new SessionCache(3);
  cache.add(session(1, 100, 7200)); // expires 7300
  cache.add(session(2, 100, 300)); // expires 400
  cache.add(session(3, 100, 7200)); // expires 7300
  cache.add(session(4, 100, 7200));
  assert.deepEqual(held(cache, [1, 2, 3, 4]), [1, 3, 4]);
  cache.add(session(5, 100, 7200)); // 1, 3, 4 and 5 all expire at 7300: 1 was added first
  assert.deepEqual(held(cache, [1, 3, 4, 5]), [3, 4, 5]);
});

Deno.test("ssl/ssl_sess.c: adding a session again replaces it and counts as new; removing and clearing empty the cache", () => {
  const cache = new SessionCache(2);
  cache.add(session(1, 100));
  cache.add(session(2, 101));
  const again = session(1, 102);
  cache.add(again); // 1 is now the latest to expire
  assert.equal(cache.size, 2);
  assert.equal(cache.get(new Uint8Array(32).fill(1)), again);
  cache.add(session(3, 103));
  assert.deepEqual(held(cache, [1, 2, 3]), [1, 3]);
  assert.equal(cache.remove(new Uint8Array(32).fill(3)), true);
  assert.equal(cache.remove(new Uint8Array(32).fill(3)), false);
  cache.clear();
  assert.equal(cache.size, 0);
  cache.add(session(4, 50)); // an empty cache starts over: no stale order from before
  cache.add(session(5, 60));
  cache.add(session(6, 70));
  assert.deepEqual(held(cache, [4, 5, 6]), [5, 6]);
});

Deno.test("SSL_SESS_CACHE_OFF: a cache of size 0 keeps nothing; a session without an id is never cached", () => {
  const off = new SessionCache(0);
  off.add(session(1, 100));
  assert.equal(off.size, 0);
  const cache = new SessionCache(2);
  cache.add(new SslSession({ time: 100, timeout: 7200 }));
  assert.equal(cache.size, 0);
});
