/**
 * An in-memory duplex byte stream for the TLS tests: two connected {@link TlsTransport}s with a
 * bounded buffer in each direction, so a test can run `acceptTls(server, ...)` and drive the
 * other end without sockets. Semantics follow a `Deno.Conn`: `read` resolves `null` once the
 * peer closed (or half-closed) its writing side and the buffer is drained; `write` waits while
 * the buffer is full and may write part of its input; after `close()` this end's reads and
 * writes reject with `Deno.errors.BadResource` (a pending read too, as when a `Deno.Conn` is
 * closed under it); writing to a peer that closed rejects with `Deno.errors.BrokenPipe`.
 *
 * @module
 */

import { concatBytes } from "../src/ticket/bytes.ts";
import type { TlsTransport } from "../src/tls/record.ts";

/** Options of {@link memoryTransportPair}. */
export interface MemoryTransportOptions {
  /** Bytes buffered per direction before `write` waits (default 64 KiB). */
  capacity?: number;
  /** The most bytes one `read` returns (default: unlimited), to split records across reads. */
  maxRead?: number;
}

/** One direction: a bounded FIFO of bytes. */
class Pipe {
  readonly #capacity: number;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  /** The writer closed: reads return null once drained. */
  eof = false;
  /** The reader closed: writes fail. */
  broken = false;
  #readWaiters: (() => void)[] = [];
  #writeWaiters: (() => void)[] = [];
  /** Every byte ever written, when recording. */
  readonly log: Uint8Array[] | null;

  constructor(capacity: number, record: boolean) {
    this.#capacity = capacity;
    this.#buf = new Uint8Array(Math.min(capacity, 4096)); // grows up to the capacity
    this.log = record ? [] : null;
  }

  get size(): number {
    return this.#end - this.#start;
  }

  #wake(list: (() => void)[]): void {
    for (const w of list.splice(0)) w();
  }

  wakeAll(): void {
    this.#wake(this.#readWaiters);
    this.#wake(this.#writeWaiters);
  }

  waitReadable(): Promise<void> {
    return new Promise((resolve) => this.#readWaiters.push(resolve));
  }

  waitWritable(): Promise<void> {
    return new Promise((resolve) => this.#writeWaiters.push(resolve));
  }

  /** Copies up to `max` buffered bytes into `p`; 0 when empty. */
  take(p: Uint8Array, max: number): number {
    const n = Math.min(p.length, this.size, max);
    p.set(this.#buf.subarray(this.#start, this.#start + n));
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (n > 0) this.#wake(this.#writeWaiters);
    return n;
  }

  /** Appends as much of `p` as fits; the count. */
  put(p: Uint8Array): number {
    if (this.#buf.length - this.#end < p.length && this.#buf.length < this.#capacity) {
      const size = Math.min(this.#capacity, Math.max(2 * this.#buf.length, this.size + p.length));
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buf = grown;
    }
    if (this.#buf.length - this.#end < p.length && this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = Math.min(p.length, this.#buf.length - this.#end);
    this.#buf.set(p.subarray(0, n), this.#end);
    this.#end += n;
    if (n > 0) {
      this.log?.push(p.slice(0, n));
      this.#wake(this.#readWaiters);
    }
    return n;
  }

  /** Removes and returns everything buffered now. */
  drain(): Uint8Array {
    const out = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    this.#wake(this.#writeWaiters);
    return out;
  }
}

/** One end of a {@link memoryTransportPair}. */
export class MemoryTransport implements TlsTransport {
  readonly #in: Pipe;
  readonly #out: Pipe;
  readonly #maxRead: number;
  #closed = false;

  /** @internal Use {@link memoryTransportPair}. */
  constructor(incoming: Pipe, outgoing: Pipe, maxRead: number) {
    this.#in = incoming;
    this.#out = outgoing;
    this.#maxRead = maxRead;
  }

  /** Whether `close()` was called on this end. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the peer closed its writing side (no more bytes will arrive after the buffer). */
  get peerWriteClosed(): boolean {
    return this.#in.eof;
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.#in.size;
  }

  /** Reads into `p`: the count, or `null` at end of stream. */
  async read(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("the transport is closed");
      if (p.length === 0) return 0;
      const n = this.#in.take(p, this.#maxRead);
      if (n > 0) return n;
      if (this.#in.eof) return null;
      await this.#in.waitReadable();
    }
  }

  /** Writes from `p` (waiting while the peer's buffer is full): the count written. */
  async write(p: Uint8Array): Promise<number> {
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("the transport is closed");
      if (this.#out.broken) throw new Deno.errors.BrokenPipe("the peer closed the transport");
      if (this.#out.eof) throw new Deno.errors.BadResource("the writing side is closed");
      if (p.length === 0) return 0;
      const n = this.#out.put(p);
      if (n > 0) return n;
      await this.#out.waitWritable();
    }
  }

  /** Writes all of `p`. */
  async writeAll(p: Uint8Array): Promise<void> {
    let off = 0;
    while (off < p.length) off += await this.write(p.subarray(off));
  }

  /** Ends this side's writing (the peer reads end of stream); reading goes on. */
  closeWrite(): void {
    this.#out.eof = true;
    this.#out.wakeAll();
  }

  /** Closes both directions of this end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.eof = true;
    this.#in.broken = true;
    this.#in.eof = true;
    this.#in.wakeAll();
    this.#out.wakeAll();
  }

  /** Removes and returns every byte received so far without waiting. */
  takeAvailable(): Uint8Array {
    return this.#in.drain();
  }

  /** Every byte this end ever wrote (when the pair was made with `record: true`). */
  written(): Uint8Array {
    return concatBytes(this.#out.log ?? []);
  }
}

/**
 * Two connected in-memory transports: what one end writes the other reads.
 *
 * @param options Buffer size per direction and the largest single read.
 * @param record Keep a copy of every byte written (for {@link MemoryTransport.written}).
 * @returns `[client, server]`.
 *
 * @example
 * ```ts
 * import { memoryTransportPair } from "./_memory_transport.ts";
 * const [a, b] = memoryTransportPair();
 * await a.write(new Uint8Array([1, 2, 3]));
 * a.closeWrite();
 * const p = new Uint8Array(8);
 * console.log(await b.read(p), await b.read(p)); // 3 null
 * ```
 */
export function memoryTransportPair(
  options: MemoryTransportOptions = {},
  record = false,
): [MemoryTransport, MemoryTransport] {
  const capacity = options.capacity ?? 65536;
  const maxRead = options.maxRead ?? Number.MAX_SAFE_INTEGER;
  const toServer = new Pipe(capacity, record);
  const toClient = new Pipe(capacity, record);
  return [
    new MemoryTransport(toClient, toServer, maxRead),
    new MemoryTransport(toServer, toClient, maxRead),
  ];
}
