/**
 * An independent HKDF-Expand-Label (RFC 8446 §7.1, RFC 5869 §2.3) on Web Crypto, the reference
 * the synchronous `src/server/hkdf.ts` is checked against (tests) and measured against (bench).
 *
 * @module
 */

/**
 * HKDF-Expand-Label with one awaited Web Crypto HMAC per output block.
 *
 * @example
 * ```ts ignore
 * const iv = await webCryptoExpandLabel(new Uint8Array(32), "iv", new Uint8Array(0), 12, "SHA-256");
 * ```
 */
export async function webCryptoExpandLabel(
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
  hash: "SHA-256" | "SHA-384",
): Promise<Uint8Array<ArrayBuffer>> {
  const hLen = hash === "SHA-384" ? 48 : 32;
  const full = new TextEncoder().encode("tls13 " + label);
  const info = new Uint8Array([
    length >>> 8,
    length & 0xff,
    full.length,
    ...full,
    context.length,
    ...context,
  ]);
  const key = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(secret),
    { name: "HMAC", hash },
    false,
    [
      "sign",
    ],
  );
  const out = new Uint8Array(length);
  let prev = new Uint8Array(0);
  for (let i = 1, done = 0; done < length; i++, done += hLen) {
    prev = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new Uint8Array([...prev, ...info, i])),
    );
    out.set(prev.subarray(0, Math.min(hLen, length - done)), done);
  }
  return out;
}
