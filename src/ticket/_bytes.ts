/**
 * Private byte helpers for the ticket layer (not exported from `mod.ts`). The byte helpers every
 * layer shares are in `bytes.ts`.
 *
 * @module
 */

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return s;
}

/**
 * Map key for a 16-byte key name (the first 16 bytes of `bytes`, which must have at least 16):
 * one UTF-16 code unit per byte, so two names are equal exactly when their strings are.
 */
export function nameKey(bytes: Uint8Array): string {
  const b = bytes;
  return String.fromCharCode(
    b[0],
    b[1],
    b[2],
    b[3],
    b[4],
    b[5],
    b[6],
    b[7],
    b[8],
    b[9],
    b[10],
    b[11],
    b[12],
    b[13],
    b[14],
    b[15],
  );
}

/** True when `e` is the error Web Crypto raises for a failed decryption (bad tag, bad padding). */
export function isOperationError(e: unknown): boolean {
  return e instanceof DOMException && e.name === "OperationError";
}
