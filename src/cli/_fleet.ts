/**
 * Private: the `fleet` command: show a fleet's key schedule and metrics, force the next key,
 * and export the ring as nginx or HAProxy key files.
 *
 * @module
 */

import { TicketKeyError } from "../ticket/errors.ts";
import { FleetConfigError } from "../fleet/errors.ts";
import { FleetRing } from "../fleet/fleet_ring.ts";
import { type KeyStore, KeyStoreError, KeyStoreUnavailableError } from "../fleet/key_store.ts";
import { loadKek } from "../fleet/key_wrap.ts";
import { DenoKvKeyStore } from "../fleet/deno_kv_store.ts";
import { EtcdKeyStore } from "../fleet/etcd_store.ts";
import type { TicketKeyLayout } from "../ticket/ticket_key.ts";
import { parseArgs } from "./_args.ts";
import { CliError, permissionError, usageError } from "./_errors.ts";
import { type CliIo, utf8 } from "./_io.ts";

const SUBCOMMANDS = ["status", "metrics", "rotate", "export"];
const EXPORT_LAYOUTS = ["nginx-80", "nginx-48", "haproxy-80", "haproxy-48"];

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /**
   * The command only reads: refuse a Deno KV path that is not an existing file (opening one
   * would create it) instead of opening it.
   */
  mustExist?: boolean;
}

/** Whether a `kv:` path names a file (not `:memory:` or a KV Connect URL). */
function isKvFilePath(path: string): boolean {
  return path !== ":memory:" && !/^https?:\/\//.test(path);
}

/**
 * Opens the store named by `--store`: `kv:PATH` (Deno KV file) or `etcd:URL[,URL...]`.
 *
 * @example
 * ```ts ignore
 * import { openStore } from "./_fleet.ts";
 * const store = await openStore("etcd:http://127.0.0.1:2379");
 * await store.close();
 * ```
 *
 * @param spec The `--store` value.
 * @param options `mustExist` for commands that only read.
 * @returns The store.
 * @throws {CliError} For a malformed spec, a missing store that must exist, or a store that
 * cannot be opened.
 */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<KeyStore> {
  if (spec.startsWith("kv:") && spec.length > 3) {
    const path = spec.slice(3);
    if (options.mustExist && isKvFilePath(path)) await requireKvFile(path);
    return await DenoKvKeyStore.open(path);
  }
  if (spec.startsWith("etcd:") && spec.length > 5) {
    return new EtcdKeyStore({ endpoints: spec.slice(5).split(",").filter((s) => s !== "") });
  }
  throw usageError(
    `--store must be kv:PATH or etcd:http://HOST:PORT[,http://...], got "${spec}"`,
  );
}

async function requireKvFile(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CliError(
        `there is no Deno KV store at ${path}, and this command never creates one; check --store (fleet rotate founds a fleet)`,
      );
    }
    throw e;
  }
  if (!info.isFile) {
    throw new CliError(
      `${path} is not a Deno KV file (it is a ${
        info.isDirectory ? "directory" : "special file"
      }); check --store`,
    );
  }
}

/**
 * Runs `fleet <status|metrics|rotate|export> --store S [--prefix P] [--kek-file F] ...`.
 *
 * @example
 * ```ts ignore
 * import { fleetCommand } from "./_fleet.ts";
 * import { resolveIo } from "./_io.ts";
 * const code = await fleetCommand(["status", "--store", "kv:/tmp/keys.kv"], resolveIo());
 * console.log(code); // 0
 * ```
 *
 * @param args The arguments after `fleet`.
 * @param io Standard streams.
 * @returns The exit status.
 * @throws {CliError} For usage errors and failures (one line each).
 */
export async function fleetCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs("fleet", args, {
    store: "string",
    prefix: "string",
    "kek-file": "string",
    layout: "string",
    out: "string",
    format: "string",
    "rotation-interval": "string",
    "decrypt-period": "string",
    "propagation-delay": "string",
    "max-clock-skew": "string",
    "max-processes": "string",
  });
  const sub = positionals[0];
  if (sub === undefined || !SUBCOMMANDS.includes(sub)) {
    throw usageError(
      `fleet needs a subcommand: ${SUBCOMMANDS.join(", ")}${
        sub === undefined ? "" : ` (got "${sub}")`
      }; see fleet --help`,
    );
  }
  if (positionals.length > 1) {
    throw usageError(`unexpected argument "${positionals[1]}"; see fleet --help`);
  }
  const storeSpec = options.store as string | undefined;
  if (storeSpec === undefined) {
    throw usageError("fleet needs --store kv:PATH or --store etcd:URL[,URL...]; see fleet --help");
  }
  const layout = options.layout as string | undefined;
  const out = options.out as string | undefined;
  if (sub === "export") {
    if (layout === undefined || !EXPORT_LAYOUTS.includes(layout)) {
      throw usageError(
        `fleet export needs --layout ${EXPORT_LAYOUTS.join("|")}${
          layout === undefined ? "" : ` (got "${layout}")`
        }`,
      );
    }
    if (out === undefined || out === "-" || out === "") {
      throw usageError("fleet export needs --out FILE (key files are written with mode 0600)");
    }
  } else if (layout !== undefined || out !== undefined) {
    throw usageError(`--layout and --out belong to fleet export, not fleet ${sub}`);
  }
  const settings = fleetSettings(options);
  const kek = await kekOption(options);
  let store: KeyStore;
  try {
    store = await openStore(storeSpec, { mustExist: sub !== "rotate" });
  } catch (e) {
    throw storeError(e);
  }
  let ring: FleetRing | null = null;
  try {
    ring = await FleetRing.start({
      store,
      kek,
      readOnly: sub !== "rotate",
      background: false,
      ...settings,
    });
    if (sub === "status") {
      await io.stdout(utf8(JSON.stringify(ring.status(), null, 2) + "\n"));
    } else if (sub === "metrics") {
      await io.stdout(utf8(JSON.stringify(ring.metrics(), null, 2) + "\n"));
    } else if (sub === "rotate") {
      const r = await ring.rotateNow();
      await io.stdout(utf8(JSON.stringify(r) + "\n"));
    } else {
      await exportFiles(ring, layout as TicketKeyLayout, out!, io);
    }
    return 0;
  } catch (e) {
    throw storeError(e);
  } finally {
    await ring?.stop();
    await store.close().catch(() => {});
  }
}

async function exportFiles(
  ring: FleetRing,
  layout: TicketKeyLayout,
  out: string,
  io: CliIo,
): Promise<void> {
  const ex = await ring.exportKeys(layout);
  const names = ex.files.length === 1
    ? [out]
    : ex.files.map((_, i) => i === 0 ? out : `${out}.${i}`);
  try {
    for (let i = 0; i < ex.files.length; i++) {
      // Write beside, then rename: a server reloading meanwhile sees the old or the new file.
      const tmp = `${names[i]}.tmp-${crypto.randomUUID().slice(0, 8)}`;
      try {
        await Deno.writeFile(tmp, ex.files[i], { mode: 0o600 });
        await Deno.rename(tmp, names[i]);
      } catch (e) {
        await Deno.remove(tmp).catch(() => {});
        throw new CliError(
          `cannot write key file ${names[i]}: ${
            e instanceof Error ? e.message.split("\n")[0] : String(e)
          }; check the path and its permissions`,
        );
      }
    }
  } finally {
    for (const f of ex.files) f.fill(0);
  }
  const lines = layout.startsWith("nginx")
    ? names.map((n, i) => `ssl_session_ticket_key ${n}; # ${ex.keys[i].state} ${ex.keys[i].name}`)
    : [
      `tls-ticket-keys ${out}`,
      ...ex.keys.map((k, i) => `#   line ${i + 1}: ${k.state} ${k.name}`),
    ];
  await io.stdout(utf8(lines.join("\n") + "\n"));
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** The FleetRing settings the `fleet` and `serve` options give. */
export interface FleetSettings {
  /** `--prefix`. */
  prefix?: string;
  /** `--rotation-interval`, ms. */
  rotationInterval?: number;
  /** `--decrypt-period`, ms. */
  decryptPeriod?: number;
  /** `--propagation-delay`, ms. */
  propagationDelay?: number;
  /** `--max-clock-skew`, ms. */
  maxClockSkew?: number;
  /** `--max-processes`. */
  maxProcesses?: number;
  /** From `--format`. */
  format?: "aes-256-gcm" | "openssl";
  /** From `--format` (`openssl-128`). */
  aesBits?: 128 | 256;
}

/**
 * Reads the fleet options shared by `fleet` and `serve --store` (prefix, format, schedule).
 *
 * @example
 * ```ts
 * import { fleetSettings } from "./_fleet.ts";
 * console.log(fleetSettings({ format: "openssl-128", "rotation-interval": "2s" }));
 * // { prefix: undefined, rotationInterval: 2000, ..., format: "openssl", aesBits: 128 }
 * ```
 */
export function fleetSettings(options: Record<string, unknown>): FleetSettings {
  const fmt = options.format as string | undefined;
  if (fmt !== undefined && !["aes-256-gcm", "openssl", "openssl-128"].includes(fmt)) {
    throw usageError(`--format must be aes-256-gcm, openssl or openssl-128, got "${fmt}"`);
  }
  return {
    prefix: options.prefix as string | undefined,
    rotationInterval: duration(options["rotation-interval"], "--rotation-interval"),
    decryptPeriod: duration(options["decrypt-period"], "--decrypt-period"),
    propagationDelay: duration(options["propagation-delay"], "--propagation-delay"),
    maxClockSkew: duration(options["max-clock-skew"], "--max-clock-skew"),
    maxProcesses: count(options["max-processes"], "--max-processes"),
    format: fmt === undefined ? undefined : fmt === "aes-256-gcm" ? "aes-256-gcm" : "openssl",
    aesBits: fmt === undefined ? undefined : fmt === "openssl-128" ? 128 : 256,
  };
}

/**
 * The key-encryption key from `--kek-file` or `SESSION_TICKETS_KEK`, errors as CLI errors.
 *
 * @example
 * ```ts ignore
 * import { kekOption } from "./_fleet.ts";
 * const kek = await kekOption({ "kek-file": "fleet.kek" });
 * ```
 */
export async function kekOption(options: Record<string, unknown>): Promise<CryptoKey> {
  try {
    return await loadKek({ file: options["kek-file"] as string | undefined });
  } catch (e) {
    throw storeError(e);
  }
}

/** A positive whole-number option, or undefined when absent. */
function count(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^[1-9][0-9]{0,9}$/.test(v)) {
    throw usageError(`${what} takes a whole number from 1, got "${String(v)}"`);
  }
  return Number(v);
}

/** A duration option (`500ms`, `2s`, `12h`, `1d`; bare numbers are ms), for `fleet` and `serve`. */
export function duration(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^([0-9]+)(ms|s|m|h|d)?$/.exec(String(v));
  if (m === null) {
    throw usageError(`${what} takes a duration such as 500ms, 2s, 12h or 1d; got "${v}"`);
  }
  return Number(m[1]) * UNITS[m[2] ?? "ms"];
}

/** A key store's or key's error as the one-line CLI error it should be. */
export function storeError(e: unknown): unknown {
  const denied = permissionError(e);
  if (denied !== null) return denied;
  if (e instanceof KeyStoreUnavailableError) {
    return new CliError(`the key store is unreachable: ${e.message}; check --store`);
  }
  if (e instanceof KeyStoreError || e instanceof TicketKeyError || e instanceof FleetConfigError) {
    return new CliError(e.message);
  }
  return e;
}

/** The help text of `fleet`. */
export const FLEET_HELP =
  `Usage: fleet status|metrics|rotate|export --store S [--prefix P] [--kek-file F]
       fleet export --layout nginx-80|nginx-48|haproxy-80|haproxy-48 --out FILE ...

Works on a fleet's shared ticket keys (FleetRing): the schedule every server follows, the
keys wrapped under the key-encryption key (KEK), and exports for nginx and HAProxy.

Subcommands:
  status    print the schedule as JSON: each key's interval, name, state, activation,
            deactivation and erase times; the sealing key; whether the store is reachable
  metrics   print the counters as JSON (per key: sealed, opened, renewed, failures)
  rotate    publish the next interval's key now if it is not yet in the store (the schedule
            is fixed by the clock, so the current key still seals until its interval ends)
  export    write the live keys for nginx (one file per key: FILE is the sealing key, then
            FILE.1, FILE.2 ...: pending keys, then older keys) or HAProxy (one file of base64
            lines: older keys, the sealing key, then the next key last); the fleet must run
            with format "openssl" (AES-256 for the -80 layouts, AES-128 for -48)

Options:
  --store S      kv:PATH (a Deno KV file; needs --unstable-kv) or
                 etcd:http://127.0.0.1:2379[,http://...] (the cluster's members)
  --prefix P     the fleet's key prefix in the store (default session-tickets/default)
  --kek-file F   the key-encryption key file (base64 of 32 bytes, or 32 raw bytes);
                 default: the SESSION_TICKETS_KEK environment variable
  --layout L     export: nginx-80, nginx-48, haproxy-80 or haproxy-48
  --out FILE     export: where to write (mode 0600, replaced atomically)
  --format F, --rotation-interval T, --decrypt-period T
                 the settings of a fleet that "rotate" founds (aes-256-gcm, openssl or
                 openssl-128; durations such as 2s, 12h, 1d); a fleet's existing settings
                 are read from the store, and must match when given
  --propagation-delay T, --max-clock-skew T
                 this process's staging margins (default: the fleet's, else 10s and 60s)
  --max-processes N
                 the most processes sealing under one key (default: the fleet's, else 16);
                 each may seal 2^32/N tickets under an aes-256-gcm key, then sends none
                 until the next key seals

The schedule (interval, decrypt period, format) is read from the fleet's store. status,
metrics and export never write to the store, and refuse a kv: PATH that does not exist.

Examples:
  deno run -A --unstable-kv cli.ts fleet status --store kv:/var/lib/tickets/keys.kv
  deno run -A cli.ts fleet export --store etcd:http://etcd-1.internal:2379 --layout nginx-80 --out /etc/nginx/ticket.key
`;
