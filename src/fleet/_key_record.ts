/**
 * A fleet key record: one ticket key wrapped under the fleet's key-encryption key, with its
 * clear, authenticated header (`kind: "ticket-key"`, the interval, the creator's clock and id,
 * the ticket format). Written and checked here only, so both sides agree on the header.
 *
 * @module
 */

import { TicketKeyError } from "../ticket/errors.ts";
import type { TicketFormat } from "../ticket/ticket_format.ts";
import { TICKET_KEY_LAYOUTS, TicketKey, type TicketKeyLayout } from "../ticket/ticket_key.ts";
import { unwrapRecord, wrapRecord } from "./key_wrap.ts";

/** The fleet's key settings every record must match. */
export interface KeyRecordFormat {
  format: TicketFormat;
  aesBits: 128 | 256;
  /** The raw layout the key bytes are stored in. */
  layout: TicketKeyLayout;
}

/** A record that opened and passed its checks. */
export interface OpenedKeyRecord {
  key: TicketKey;
  /** The creator's clock when it wrapped the key. */
  createdAt: number;
  /** The creator's process id ("" when the record does not say). */
  by: string;
}

/**
 * Makes the record value of a fresh random key for interval `n`.
 *
 * @example
 * ```ts ignore
 * const value = await newKeyRecord(kek, "fleet/keys/00042", 42, Date.now(), "me", fmt);
 * ```
 */
export async function newKeyRecord(
  kek: CryptoKey,
  recordKey: string,
  n: number,
  createdAt: number,
  by: string,
  f: KeyRecordFormat,
): Promise<Uint8Array> {
  const raw = crypto.getRandomValues(new Uint8Array(TICKET_KEY_LAYOUTS[f.layout].bytes));
  try {
    return await wrapRecord(kek, recordKey, raw, {
      kind: "ticket-key",
      interval: n,
      createdAt,
      format: f.format,
      aesBits: f.aesBits,
      by,
    });
  } finally {
    raw.fill(0);
  }
}

/**
 * Opens the record of interval `n` and checks its header against the fleet's format.
 *
 * @example
 * ```ts ignore
 * const { key, createdAt } = await openKeyRecord(kek, r.key, r.value, 42, fmt, 2 ** 28);
 * ```
 *
 * @throws {TicketKeyError} When it does not open under this KEK at this path, is not a ticket
 * key of interval `n` in the fleet's format, or its key bytes do not import.
 */
export async function openKeyRecord(
  kek: CryptoKey,
  recordKey: string,
  value: Uint8Array,
  n: number,
  f: KeyRecordFormat,
  sealBudget: number | undefined,
): Promise<OpenedKeyRecord> {
  const { header, payload } = await unwrapRecord(kek, recordKey, value);
  try {
    if (
      header.kind !== "ticket-key" || header.interval !== n ||
      typeof header.createdAt !== "number" || header.format !== f.format ||
      header.aesBits !== f.aesBits
    ) {
      throw new TicketKeyError(`store record ${recordKey} is not a ${f.format} fleet key`);
    }
    const key = await TicketKey.import(payload, f.layout, { sealBudget });
    const by = typeof header.by === "string" ? header.by : "";
    return { key, createdAt: header.createdAt, by };
  } finally {
    payload.fill(0);
  }
}
