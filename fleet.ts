/**
 * Ticket keys shared by a fleet of servers: {@link FleetRing} (a leaderless key schedule over a
 * store, keys wrapped at rest, exportable to nginx and HAProxy) and the stores it runs on:
 * Deno KV, etcd and memory. Give a `FleetRing` to an `SslContext` as its `ticketKeys`.
 *
 * @example
 * ```ts
 * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
 * const ring = await FleetRing.start({
 *   store: new MemoryKeyStore(),
 *   kek: crypto.getRandomValues(new Uint8Array(32)),
 *   propagationDelay: 0,
 *   maxClockSkew: 0,
 * });
 * console.log(ring.status().storeReachable); // true
 * await ring.stop();
 * ```
 *
 * @module
 */

export {
  type KeyStore,
  KeyStoreError,
  KeyStoreUnavailableError,
  MAX_STORE_KEY_BYTES,
  MAX_STORE_VALUE_BYTES,
  type StoredRecord,
} from "./src/fleet/key_store.ts";
export { FleetConfigError } from "./src/fleet/errors.ts";
export { MemoryKeyStore, type MemoryKeyStoreOptions } from "./src/fleet/memory_store.ts";
export { DenoKvKeyStore, type DenoKvKeyStoreOptions } from "./src/fleet/deno_kv_store.ts";
export { EtcdKeyStore, type EtcdKeyStoreOptions } from "./src/fleet/etcd_store.ts";
export { DEFAULT_MAX_PROCESSES, FleetRing } from "./src/fleet/fleet_ring.ts";
export type {
  FleetClockSkew,
  FleetExport,
  FleetKeyStatus,
  FleetMetrics,
  FleetRingOptions,
  FleetSchedule,
  FleetStatus,
} from "./src/fleet/fleet_types.ts";
export {
  importKek,
  KEK_ENV,
  loadKek,
  parseKek,
  unwrapRecord,
  wrapRecord,
} from "./src/fleet/key_wrap.ts";
