/**
 * A lean MQTT 3.1.1 QoS 1 publisher for benches: one socket, pre-encoded PUBLISH frames with the
 * packet id patched in, a window of unacknowledged messages, and the time from each PUBLISH to
 * its PUBACK. Cheap enough that the broker, not the load generator, is what a bench measures.
 */
import net from 'node:net';
import { encodeConnect } from '../../src/protocols/mqtt/codec/encode.js';

export class Qos1Publisher {
  /** PUBLISH→PUBACK times in ms, when recording. */
  readonly latencies: number[] = [];
  record = false;
  acked = 0;
  private readonly sentAt = new Float64Array(65_536);
  private nextId = 1;
  private pending = Buffer.alloc(0);
  private connected: (() => void) | null = null;
  private onAck: (() => void) | null = null;

  private constructor(
    private readonly socket: net.Socket,
    private readonly frame: Buffer,
    /** offset of the packet id in `frame` */
    private readonly idAt: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.onAck?.();
    });
  }

  /** The broker closed the connection (a window above its --receive-maximum, for one). */
  closed = false;

  /** Connects as `clientId` (clean session) and prepares PUBLISH frames of `topic` with `payload`. */
  static async connect(port: number, clientId: string, topic: string, payload: Buffer): Promise<Qos1Publisher> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const t = Buffer.from(topic);
    const rest = 2 + t.length + 2 + payload.length;
    const lenBytes: number[] = [];
    for (let n = rest; ; ) {
      const b = n % 128;
      n = Math.floor(n / 128);
      lenBytes.push(n > 0 ? b | 0x80 : b);
      if (n === 0) break;
    }
    const frame = Buffer.concat([Buffer.from([0x32, ...lenBytes, t.length >> 8, t.length & 0xff]), t, Buffer.alloc(2), payload]);
    const p = new Qos1Publisher(socket, frame, 1 + lenBytes.length + 2 + t.length);
    const ready = new Promise<void>((resolve) => {
      p.connected = resolve;
    });
    socket.write(encodeConnect({ protocolVersion: 4, cleanStart: true, keepAlive: 600, clientId }));
    await ready;
    return p;
  }

  /** Publishes `count` messages keeping at most `window` unacknowledged; resolves when all are acknowledged. */
  run(count: number, window: number): Promise<void> {
    const target = this.acked + count;
    let sent = 0;
    return new Promise((resolve, reject) => {
      const pump = (): void => {
        const parts: Buffer[] = [];
        while (sent < count && sent - (this.acked - (target - count)) < window) {
          parts.push(this.next());
          sent++;
        }
        if (parts.length > 0) this.socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
        if (this.acked >= target || this.closed) {
          this.onAck = null;
          if (this.closed) reject(new Error(`the broker closed the connection after ${this.acked} acknowledgements`));
          else resolve();
        }
      };
      this.onAck = pump;
      pump();
    });
  }

  /** Publishes one message every `1000 / rate` ms for `seconds`, recording latencies; resolves once all are acknowledged. */
  async paced(rate: number, seconds: number): Promise<void> {
    this.record = true;
    const total = Math.round(rate * seconds);
    const target = this.acked + total;
    const start = performance.now();
    for (let i = 0; i < total; ) {
      const due = Math.floor(((performance.now() - start) * rate) / 1000) + 1;
      while (i < due && i < total) {
        this.socket.write(this.next());
        i++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    while (this.acked < target) {
      if (this.closed) throw new Error(`the broker closed the connection after ${this.acked} acknowledgements`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.record = false;
  }

  close(): void {
    this.socket.destroy();
  }

  private next(): Buffer {
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    const f = Buffer.from(this.frame);
    f.writeUInt16BE(id, this.idAt);
    this.sentAt[id] = performance.now();
    return f;
  }

  /** CONNACK first, then only PUBACKs (4 bytes each in 3.1.1). */
  private read(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    if (this.connected !== null && buf.length >= 4) {
      if (buf[3] !== 0) throw new Error(`CONNACK refused with ${buf[3]}`);
      const done = this.connected;
      this.connected = null;
      at = 4;
      done();
    }
    const now = performance.now();
    for (; at + 4 <= buf.length; at += 4) {
      if (this.record) this.latencies.push(now - this.sentAt[buf.readUInt16BE(at + 2)]!);
      this.acked++;
    }
    buf = buf.subarray(at);
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    this.onAck?.();
  }
}

/** The p-th percentile (0-100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
