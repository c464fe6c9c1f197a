/** A client over a plain socket for byte-level tests, reading whole packets with timeouts. */
import net from 'node:net';
import type { TestContext } from './harness.js';
import { clientId } from './mqtt-clients.js';
import { connectPacket, describe, parseConnack, splitPackets, type Connack, type ConnectOptions, type RawPacket, type Version, PACKET_NAMES } from './wire.js';

/** A client over a plain socket for byte-level tests. */
export class RawClient {
  readonly socket: net.Socket;
  /** Packets received and not yet taken by next(). */
  readonly queue: RawPacket[] = [];
  /** Every packet ever received, for failure messages. */
  readonly history: RawPacket[] = [];
  closed = false;
  private pending: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  constructor(
    socket: net.Socket,
    readonly version: Version,
  ) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const { packets, rest } = splitPackets(Buffer.concat([this.pending, chunk]));
      this.pending = Buffer.from(rest);
      this.queue.push(...packets);
      this.history.push(...packets);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private waitEvent(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Writes raw bytes (a Buffer or a hex string). */
  send(data: Buffer | string): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data.replace(/\s+/g, ''), 'hex') : data);
  }

  /** The next packet, optionally required to be of `type`; fails naming what came instead. */
  async next(type?: number, timeoutMs = 3000): Promise<RawPacket> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const p = this.queue.shift();
      if (p) {
        if (type !== undefined && p.type !== type) throw new Error(`expected ${PACKET_NAMES[type]}, got ${describe(p)}`);
        return p;
      }
      if (this.closed) throw new Error(`expected ${type !== undefined ? PACKET_NAMES[type] : 'a packet'}, the connection closed (received: ${this.received()})`);
      const left = until - Date.now();
      if (left <= 0 || !(await this.waitEvent(left))) {
        if (this.queue.length === 0 && !this.closed) {
          throw new Error(`expected ${type !== undefined ? PACKET_NAMES[type] : 'a packet'} within ${timeoutMs} ms, nothing came (received: ${this.received()})`);
        }
      }
    }
  }

  /** The next packet of `type`, skipping (and returning) others such as PUBLISH in between. */
  async nextOf(type: number, timeoutMs = 3000): Promise<RawPacket> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const idx = this.queue.findIndex((p) => p.type === type);
      if (idx >= 0) return this.queue.splice(idx, 1)[0]!;
      if (this.closed) throw new Error(`expected ${PACKET_NAMES[type]}, the connection closed (received: ${this.received()})`);
      const left = until - Date.now();
      if (left <= 0 || !(await this.waitEvent(left))) {
        if (!this.queue.some((p) => p.type === type)) {
          throw new Error(`expected ${PACKET_NAMES[type]} within ${timeoutMs} ms (received: ${this.received()})`);
        }
      }
    }
  }

  /** Resolves when the broker closes the connection; fails if it stays open for `timeoutMs`. */
  async expectClose(timeoutMs = 3000): Promise<RawPacket[]> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`expected the broker to close the connection within ${timeoutMs} ms, it stayed open (received: ${this.received()})`);
      await this.waitEvent(left);
    }
    return this.queue.splice(0);
  }

  /** Waits `ms` and returns every packet that arrived meanwhile (for counting, or absence). */
  async drain(ms: number): Promise<RawPacket[]> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.closed) await this.waitEvent(until - Date.now());
    return this.queue.splice(0);
  }

  /** Sends CONNECT and requires a successful CONNACK, returned decoded. */
  async handshake(opts: ConnectOptions = {}): Promise<Connack> {
    this.send(connectPacket({ version: this.version, clientId: opts.clientId ?? clientId('raw'), ...opts }));
    const connack = parseConnack(await this.next(2), this.version);
    if (connack.code !== 0) throw new Error(`expected CONNACK 0, got 0x${connack.code.toString(16)}`);
    return connack;
  }

  private received(): string {
    return this.history.length ? this.history.slice(-6).map(describe).join(', ') : 'nothing';
  }

  /** Closes the socket. */
  close(): void {
    this.socket.destroy();
  }
}

/** A raw socket connected to the broker; closed when the test ends. */
export function rawClient(t: TestContext | null, port: number, version: Version = 4): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const timer = setTimeout(() => reject(new Error(`raw connect to port ${port} timed out`)), 3000);
    s.once('connect', () => {
      clearTimeout(timer);
      const c = new RawClient(s, version);
      if (t) t.after(() => c.close());
      resolve(c);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
