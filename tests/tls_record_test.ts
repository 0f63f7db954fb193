// The TLS 1.3 record layer (src/tls/record.ts, src/tls/record_stream.ts): RecordReader framing
// and limits, RecordCipher protection and nonces, and the rules RecordStream enforces on a live
// server connection (driven by tests/_tls13_client.ts over an in-memory transport).
import assert from "node:assert/strict";
import { TlsAlert } from "../src/server/alert.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { ServerCredentials } from "../src/tls/certificate.ts";
import type { TlsConnectionOptions } from "../src/tls/connection.ts";
import { TlsConnectionError } from "../src/tls/errors.ts";
import { trafficKey } from "../src/tls/key_schedule.ts";
import { handshakeMessage } from "../src/tls/messages.ts";
import {
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  plaintextRecord,
  RecordCipher,
  RecordReader,
} from "../src/tls/record.ts";
import { memoryTransportPair } from "./_memory_transport.ts";
import {
  type ClientServerPair,
  connectPair,
  record,
  serverOutcome,
  serverReadOnce,
  type Tls13Client,
} from "./_tls13_client.ts";
import { testCredentials } from "./_tls_certs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

let creds: Promise<ServerCredentials> | undefined;
let ctx: Promise<SslContext> | undefined;

async function connect(options: Partial<TlsConnectionOptions> = {}): Promise<ClientServerPair> {
  creds ??= testCredentials("P-256").then((c) => ServerCredentials.fromPem(c.certPem, c.keyPem));
  ctx ??= SslContext.create();
  return connectPair({ credentials: await creds, context: await ctx, ...options });
}

/** Runs `script` with a fresh client; expects alert `n` at both ends of the handshake. */
async function expectHandshakeAlert(
  n: number,
  script: (client: Tls13Client) => Promise<void>,
): Promise<void> {
  const h = await connect();
  try {
    await script(h.client);
    assert.equal(await h.client.readAlert(), n, "the alert the client received");
    assert.equal(await serverOutcome(h.conn), n, "the alert the server raised");
  } finally {
    await h.done();
  }
}

/**
 * Completes a handshake, then runs `script` while the server reads its readable; expects the
 * read to fail with alert `n`, which the client receives.
 */
async function expectDataPhaseAlert(
  n: number,
  script: (client: Tls13Client) => Promise<void>,
): Promise<void> {
  const h = await connect();
  try {
    await h.client.handshake();
    await h.conn.handshake();
    await h.client.readTickets(2);
    const read = serverReadOnce(h.conn);
    await script(h.client);
    assert.equal(await h.client.readAlert(), n, "the alert the client received");
    assert.equal(await read, n, "the alert the server raised");
  } finally {
    await h.done();
  }
}

/** AES-GCM with an explicit nonce and additional data (an independent sealer for forgeries). */
async function aesGcm(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  data: Uint8Array,
  decrypt = false,
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-GCM", false, [
    decrypt ? "decrypt" : "encrypt",
  ]);
  const params = {
    name: "AES-GCM",
    iv: new Uint8Array(nonce),
    additionalData: new Uint8Array(aad),
  };
  return new Uint8Array(
    decrypt
      ? await crypto.subtle.decrypt(params, k, new Uint8Array(data))
      : await crypto.subtle.encrypt(params, k, new Uint8Array(data)),
  );
}

/** RFC 8446 §5.3: the 64-bit sequence number, left-padded to iv_length, XORed with the IV. */
function nonceFor(iv: Uint8Array, seq: bigint): Uint8Array {
  const padded = new Uint8Array(12);
  new DataView(padded.buffer).setBigUint64(4, seq);
  return iv.map((b, i) => b ^ padded[i]);
}

/** Seals `inner` (a whole TLSInnerPlaintext) as the client's next record, bypassing RecordCipher. */
async function forgeClientRecord(client: Tls13Client, inner: Uint8Array): Promise<Uint8Array> {
  const { key, iv } = trafficKey(client.hash, client.applicationSecrets!.client, client.keyLength);
  const length = inner.length + 16;
  const header = new Uint8Array([23, 3, 3, length >> 8, length & 0xff]);
  const seq = BigInt(client.writeCipher!.sequence++);
  const body = await aesGcm(key, nonceFor(iv, seq), header, inner);
  return new Uint8Array([...header, ...body]);
}

/** A reader over bytes delivered `maxRead` at a time. */
function readerOf(bytes: Uint8Array, maxRead?: number): RecordReader {
  const [a, b] = memoryTransportPair({ maxRead, capacity: bytes.length + 1 });
  void a.writeAll(bytes).then(() => a.closeWrite());
  return new RecordReader(b);
}

async function rejectsWith(p: Promise<unknown>, check: (e: unknown) => boolean): Promise<void> {
  const e = await p.then(() => "resolved", (e) => e);
  assert.ok(check(e), `unexpected outcome: ${e}`);
}

const isAlert = (n: number) => (e: unknown) => e instanceof TlsAlert && e.alert === n;
const isClosed = (e: unknown) => e instanceof TlsConnectionError && e.kind === "closed";

// ---------------------------------------------------------------------------------------------
// RecordReader (RFC 8446 §5.1)

Deno.test("RFC 8446 §5.1: RecordReader reassembles records delivered a byte at a time, and several per read", async () => {
  const bytes = new Uint8Array([
    ...plaintextRecord(22, new Uint8Array([1, 2, 3])),
    ...plaintextRecord(21, new Uint8Array([2, 40])),
    ...plaintextRecord(23, new Uint8Array(0)),
  ]);
  for (const maxRead of [1, 3, undefined]) {
    const r = readerOf(bytes, maxRead);
    const seen: [number, number[]][] = [];
    for (let rec = await r.next(); rec !== null; rec = await r.next()) {
      seen.push([rec.type, Array.from(rec.body)]);
    }
    assert.deepEqual(seen, [[22, [1, 2, 3]], [21, [2, 40]], [23, []]], `maxRead ${maxRead}`);
  }
});

Deno.test("RFC 8446 §5.1: a plaintext record of 2^14 bytes is read, one of 2^14 + 1 is record_overflow (22)", async () => {
  const ok = readerOf(plaintextRecord(23, new Uint8Array(MAX_PLAINTEXT_LENGTH)));
  assert.equal((await ok.next())?.body.length, MAX_PLAINTEXT_LENGTH);
  const over = new Uint8Array([22, 3, 3, 0x40, 0x01]);
  await rejectsWith(readerOf(over).next(), isAlert(22));
});

Deno.test("RFC 8446 §5.2: a protected record body of 2^14 + 256 bytes is read, 2^14 + 257 is record_overflow (22)", async () => {
  const max = new Uint8Array(5 + MAX_CIPHERTEXT_LENGTH);
  max.set([23, 3, 3, MAX_CIPHERTEXT_LENGTH >> 8, MAX_CIPHERTEXT_LENGTH & 0xff]);
  const r = readerOf(max);
  r.maxBodyLength = MAX_CIPHERTEXT_LENGTH;
  assert.equal((await r.next())?.body.length, MAX_CIPHERTEXT_LENGTH);
  const over = readerOf(new Uint8Array([23, 3, 3, 0x41, 0x01]));
  over.maxBodyLength = MAX_CIPHERTEXT_LENGTH;
  await rejectsWith(over.next(), isAlert(22));
});

Deno.test("RFC 8446 §5.1: an unknown record content type is unexpected_message (10)", async () => {
  for (const type of [0, 19, 24, 255]) {
    await rejectsWith(readerOf(new Uint8Array([type, 3, 3, 0, 1, 0])).next(), isAlert(10));
  }
});

Deno.test("RecordReader: a record version that is not 3.x is decode_error (50)", async () => {
  await rejectsWith(readerOf(new Uint8Array([22, 2, 0, 0, 1, 0])).next(), isAlert(50));
});

Deno.test("RFC 8446 §5.1: end of stream between records is null, inside a header or body TlsConnectionError closed", async () => {
  assert.equal(await readerOf(new Uint8Array(0)).next(), null);
  await rejectsWith(readerOf(new Uint8Array([22, 3, 3])).next(), isClosed);
  await rejectsWith(readerOf(new Uint8Array([22, 3, 3, 0, 9, 1, 2])).next(), isClosed);
});

// ---------------------------------------------------------------------------------------------
// RecordCipher (RFC 8446 §5.2 - §5.4)

Deno.test("RFC 8446 §5.3: the per-record nonce is the IV XOR the left-padded 64-bit sequence number", async () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = await RecordCipher.create(key, iv);
  for (const seq of [0, 1, 2, 255, 256, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 48 + 0x0102, 2 ** 53 - 1]) {
    cipher.sequence = seq;
    const rec = await cipher.seal(23, enc.encode(`record ${seq}`));
    assert.equal(cipher.sequence, seq + 1);
    assert.deepEqual(Array.from(rec.subarray(0, 3)), [23, 3, 3]);
    assert.equal((rec[3] << 8) | rec[4], rec.length - 5);
    const inner = await aesGcm(
      key,
      nonceFor(iv, BigInt(seq)),
      rec.subarray(0, 5),
      rec.subarray(5),
      true,
    );
    assert.deepEqual(
      inner,
      new Uint8Array([...enc.encode(`record ${seq}`), 23]),
      `sequence ${seq}`,
    );
  }
});

Deno.test("RFC 8446 §5.3: records sealed and opened without awaiting in between each use their own nonce (one nonce buffer per cipher)", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const w = await RecordCipher.create(key, iv), r = await RecordCipher.create(key, iv);
  const texts = ["zero", "one", "two", "three"].map((t) => enc.encode(t));
  // All four seals start before any finishes: each must have taken its nonce at the call.
  const records = await Promise.all(texts.map((t) => w.seal(23, t)));
  assert.equal(w.sequence, 4);
  for (let seq = 0; seq < records.length; seq++) {
    const inner = await aesGcm(
      key,
      nonceFor(iv, BigInt(seq)),
      records[seq].subarray(0, 5),
      records[seq].subarray(5),
      true,
    );
    assert.deepEqual(inner, new Uint8Array([...texts[seq], 23]), `record ${seq}`);
  }
  const opened = await Promise.all(
    records.map((rec) => r.open(rec.subarray(0, 5), rec.subarray(5))),
  );
  assert.deepEqual(opened.map((o) => dec.decode(o.content)), ["zero", "one", "two", "three"]);
});

Deno.test("RFC 8446 §5.3: a record opened out of sequence fails with bad_record_mac (20)", async () => {
  const key = new Uint8Array(32).fill(1), iv = new Uint8Array(12).fill(2);
  const w = await RecordCipher.create(key, iv), r = await RecordCipher.create(key, iv);
  const first = await w.seal(23, enc.encode("first"));
  const second = await w.seal(23, enc.encode("second"));
  await rejectsWith(r.open(second.subarray(0, 5), second.subarray(5)), isAlert(20));
  const r2 = await RecordCipher.create(key, iv);
  assert.equal((await r2.open(first.subarray(0, 5), first.subarray(5))).type, 23);
  // The header is the additional data: a changed header fails too.
  const hdr = second.slice(0, 5);
  hdr[2] = 1;
  await rejectsWith(r2.open(hdr, second.subarray(5)), isAlert(20));
});

Deno.test("RFC 8446 §5.4: padding after the content type is stripped; an all-zero plaintext is unexpected_message (10)", async () => {
  const key = new Uint8Array(16).fill(3), iv = new Uint8Array(12).fill(4);
  const nonce0 = nonceFor(iv, 0n);
  const padded = new Uint8Array([...enc.encode("hi"), 22, 0, 0, 0, 0]);
  const header = new Uint8Array([23, 3, 3, 0, padded.length + 16]);
  const body = await aesGcm(key, nonce0, header, padded);
  const opened = await (await RecordCipher.create(key, iv)).open(header, body);
  assert.equal(opened.type, 22);
  assert.deepEqual(opened.content, enc.encode("hi"));
  const zeros = new Uint8Array(9);
  const h2 = new Uint8Array([23, 3, 3, 0, zeros.length + 16]);
  const b2 = await aesGcm(key, nonce0, h2, zeros);
  await rejectsWith((await RecordCipher.create(key, iv)).open(h2, b2), isAlert(10));
});

Deno.test("RFC 8446 §5.4: a TLSInnerPlaintext over 2^14 + 1 bytes is record_overflow (22)", async () => {
  const key = new Uint8Array(16).fill(5), iv = new Uint8Array(12).fill(6);
  const inner = new Uint8Array(MAX_PLAINTEXT_LENGTH + 2);
  inner[MAX_PLAINTEXT_LENGTH] = 23; // content 2^14 bytes, type, one byte of padding
  const len = inner.length + 16;
  const header = new Uint8Array([23, 3, 3, len >> 8, len & 0xff]);
  const body = await aesGcm(key, nonceFor(iv, 0n), header, inner);
  await rejectsWith((await RecordCipher.create(key, iv)).open(header, body), isAlert(22));
});

// ---------------------------------------------------------------------------------------------
// RecordStream on a live connection

Deno.test("RFC 8446 §5.1: a plaintext record over 2^14 bytes from a client is record_overflow (22)", async () => {
  await expectHandshakeAlert(22, async (client) => {
    await client.sendRaw(new Uint8Array([22, 3, 1, 0x40, 0x01, 1, 0]));
  });
});

Deno.test("RFC 8446 §5.2: a protected record over 2^14 + 256 bytes is record_overflow (22)", async () => {
  await expectDataPhaseAlert(22, async (client) => {
    await client.sendRaw(new Uint8Array([23, 3, 3, 0x41, 0x01, 0, 0, 0]));
  });
});

Deno.test("RFC 8446 §5.4: a protected record whose inner plaintext exceeds 2^14 + 1 bytes is record_overflow (22)", async () => {
  await expectDataPhaseAlert(22, async (client) => {
    const inner = new Uint8Array(MAX_PLAINTEXT_LENGTH + 2);
    inner[MAX_PLAINTEXT_LENGTH] = 23;
    await client.sendRaw(await forgeClientRecord(client, inner));
  });
});

Deno.test("RFC 8446 §5: a record of unknown content type from a client is unexpected_message (10)", async () => {
  await expectHandshakeAlert(10, async (client) => {
    await client.sendRaw(new Uint8Array([24, 3, 3, 0, 1, 1]));
  });
});

Deno.test(
  {
    name:
      "RFC 8446 §5: a protected record with an unknown inner content type is unexpected_message (10)",
    // A KeyUpdate sent with inner type 99 must not be taken for a KeyUpdate.
  },
  async () => {
    await expectDataPhaseAlert(10, async (client) => {
      await client.sendProtected(99, handshakeMessage(24, new Uint8Array([0])));
    });
  },
);

Deno.test("RFC 8446 §5.2: a protected record that fails authentication is bad_record_mac (20)", async () => {
  await expectDataPhaseAlert(20, async (client) => {
    const rec = await client.sealRecord(23, enc.encode("tampered"));
    rec[rec.length - 1] ^= 1;
    await client.sendRaw(rec);
  });
});

Deno.test("RFC 8446 §5.4: a protected record with an all-zero inner plaintext is unexpected_message (10)", async () => {
  await expectDataPhaseAlert(10, async (client) => {
    await client.sendRaw(await client.sealRecord(0, new Uint8Array(12)));
  });
});

Deno.test("RFC 8446 §5.4: padding is stripped before the application sees the data", async () => {
  const h = await connect();
  try {
    await h.client.handshake();
    await h.conn.handshake();
    await h.client.sendProtected(23, enc.encode("ping"), 300);
    assert.equal(await serverReadOnce(h.conn), "ping");
    // A padded handshake message (KeyUpdate) is read as well.
    assert.equal((await h.client.readTickets(2)).length, 2);
    const read = serverReadOnce(h.conn);
    await h.client.sendProtected(22, handshakeMessage(24, new Uint8Array([1])), 17);
    await h.client.rotateWriteKey();
    assert.deepEqual(await h.client.nextEvent(), { kind: "key_update", requested: false });
    await h.client.sendProtected(23, enc.encode("pong"), 1);
    assert.equal(await read, "pong");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §5.1: zero-length application data records are allowed and skipped", async () => {
  const h = await connect();
  try {
    await h.client.handshake();
    await h.conn.handshake();
    await h.client.sendProtected(23, new Uint8Array(0));
    await h.client.write(enc.encode("x"));
    assert.equal(await serverReadOnce(h.conn), "x");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §5.1: a zero-length handshake record is unexpected_message (10)", async () => {
  await expectHandshakeAlert(10, async (client) => {
    await client.sendRecord(22, new Uint8Array(0), 0x0301);
  });
  await expectHandshakeAlert(10, async (client) => {
    await client.sendClientHello();
    await client.readServerHello();
    await client.readServerFlight();
    await client.sendProtected(22, new Uint8Array(0));
  });
  await expectDataPhaseAlert(10, async (client) => {
    await client.sendProtected(22, new Uint8Array(0));
  });
});

Deno.test("RFC 8446 §5.1: handshake messages fragmented into one-byte records are reassembled", async () => {
  const h = await connect();
  try {
    h.client.handshakeRecordSize = 1; // ClientHello, Finished and KeyUpdate, a byte per record
    await h.client.handshake();
    assert.equal(await serverOutcome(h.conn), "ok");
    await h.client.readTickets(2);
    const read = serverReadOnce(h.conn);
    await h.client.keyUpdate(true);
    assert.deepEqual(await h.client.nextEvent(), { kind: "key_update", requested: false });
    await h.client.write(enc.encode("after"));
    assert.equal(await read, "after");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §5.1: a handshake message longer than the ClientHello limit is illegal_parameter (47)", async () => {
  await expectHandshakeAlert(47, async (client) => {
    await client.sendRecord(22, new Uint8Array([1, 0x01, 0x00, 0x01, 3, 3]), 0x0301);
  });
});

Deno.test("RFC 8446 §5.1: a post-handshake message longer than the server's limit is illegal_parameter (47)", async () => {
  await expectDataPhaseAlert(47, async (client) => {
    await client.sendProtected(22, new Uint8Array([24, 0, 0x04, 0x01]));
  });
});

Deno.test("RFC 8446 §5.1: data after the ClientHello in the same record (spanning the key change) is unexpected_message (10)", async () => {
  await expectHandshakeAlert(10, async (client) => {
    const ch = await client.buildClientHello({});
    await client.sendRecord(22, new Uint8Array([...ch, 20, 0, 0]), 0x0301);
  });
});

Deno.test("RFC 8446 §5.1: handshake data after the client Finished in the same record is unexpected_message (10)", async () => {
  await expectHandshakeAlert(10, async (client) => {
    await client.sendClientHello();
    await client.readServerHello();
    await client.readServerFlight();
    const fin = client.finishedMessage();
    await client.sendProtected(22, new Uint8Array([...fin, 24, 0, 0, 1, 0]));
  });
});

Deno.test("RFC 8446 §5.1: handshake data after a KeyUpdate in the same record is unexpected_message (10)", async () => {
  await expectDataPhaseAlert(10, async (client) => {
    const ku = handshakeMessage(24, new Uint8Array([0]));
    await client.sendProtected(22, new Uint8Array([...ku, ...ku]));
  });
});

Deno.test("RFC 8446 §5.1: application data between the records of a fragmented post-handshake message is unexpected_message (10)", async () => {
  await expectDataPhaseAlert(10, async (client) => {
    const ku = handshakeMessage(24, new Uint8Array([0]));
    await client.sendProtected(22, ku.subarray(0, 3));
    await client.sendProtected(23, enc.encode("interleaved"));
  });
});

Deno.test("RFC 8446 §5.1: close_notify between the records of a fragmented post-handshake message is unexpected_message (10)", async () => {
  await expectDataPhaseAlert(10, async (client) => {
    const ku = handshakeMessage(24, new Uint8Array([0]));
    await client.sendProtected(22, ku.subarray(0, 3));
    await client.sendProtected(21, new Uint8Array([1, 0]));
  });
});

Deno.test("RFC 8446 §5: an unprotected handshake record after the ServerHello is unexpected_message (10)", async () => {
  await expectHandshakeAlert(10, async (client) => {
    await client.sendClientHello();
    await client.readServerHello();
    await client.readServerFlight();
    await client.sendRaw(record(22, client.finishedMessage()));
  });
});

Deno.test("RFC 8446 §5.1: end of stream inside a record ends the handshake with TlsConnectionError closed", async () => {
  for (const cut of [3, 5, 60]) {
    const h = await connect();
    try {
      const rec = record(22, await h.client.buildClientHello({}), 0x0301);
      await h.client.sendRaw(rec.subarray(0, cut));
      h.transport.closeWrite();
      assert.equal(await serverOutcome(h.conn), "closed", `cut after ${cut} bytes`);
    } finally {
      await h.done();
    }
  }
});

Deno.test("RFC 8446 §5.1: end of stream inside a handshake message that spans records ends with TlsConnectionError closed", async () => {
  const h = await connect();
  try {
    const ch = await h.client.buildClientHello({});
    await h.client.sendRecord(22, ch.subarray(0, 50), 0x0301);
    h.transport.closeWrite();
    assert.equal(await serverOutcome(h.conn), "closed");
    assert.equal(await h.client.readAlert(), null);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §6: a fatal alert from the client ends the handshake with TlsConnectionError peer-alert", async () => {
  const h = await connect();
  try {
    await h.client.sendClientHello();
    await h.client.readServerHello();
    await h.client.sendRecord(21, new Uint8Array([2, 48]));
    const e = await h.conn.handshake().then(() => null, (e) => e);
    assert.ok(e instanceof TlsConnectionError, String(e));
    assert.equal(e.kind, "peer-alert");
    assert.equal(e.alert, 48);
  } finally {
    await h.done();
  }
});

Deno.test(
  {
    name:
      "RFC 8446 §5: an unprotected close_notify after the handshake is unexpected_message (10), not a clean close",
    // An unauthenticated close_notify would allow truncation. libssl allows plaintext alerts
    // only until the first record from the peer decrypts (ENC_READ_STATE_ALLOW_PLAIN_ALERTS).
  },
  async () => {
    await expectDataPhaseAlert(10, async (client) => {
      await client.sendRecord(21, new Uint8Array([1, 0]));
    });
  },
);

Deno.test("RFC 8446 §6: an alert record of the wrong length is decode_error (50)", async () => {
  await expectHandshakeAlert(50, async (client) => {
    await client.sendRecord(21, new Uint8Array([2, 40, 0]));
  });
});
