/**
 * A lean MQTT client over a raw socket for tests and benches that receive 100,000+ packets:
 * parses the stream incrementally, keeps per-topic counts instead of packet objects, acks QoS 1,
 * and times PINGREQ round trips. Packets it sends are encoded by the project's codec.
 */
import net from 'node:net';
import { encodeConnect, encodeSubscribe, PINGREQ } from '../../src/protocols/mqtt/codec/encode.js';
import type { ConnectProperties, ProtocolVersion, QoS } from '../../src/protocols/mqtt/codec/packets.js';

/** One PUBLISH as seen by the test: topic, retain flag, payload. */
export interface SeenPublish {
  topic: string;
  retain: boolean;
  qos: number;
  payload: Buffer;
  /** The whole packet, for byte-level comparisons. */
  packet: Buffer;
}

export class StreamClient {
  readonly socket: net.Socket;
  publishes = 0;
  /** Called for every PUBLISH, in arrival order. */
  onPublish: ((p: SeenPublish) => void) | null = null;
  private pending: Buffer | null = null;
  private waiters: Array<{ type: number; resolve: (body: Buffer) => void }> = [];

  private constructor(
    socket: net.Socket,
    readonly version: ProtocolVersion,
  ) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
  }

  /** Connects and waits for a successful CONNACK. */
  static async connect(port: number, clientId: string, version: ProtocolVersion = 4, properties?: ConnectProperties): Promise<StreamClient> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    const client = new StreamClient(socket, version);
    const connack = client.expect(2);
    socket.write(encodeConnect({ protocolVersion: version, cleanStart: true, keepAlive: 600, clientId, properties }));
    const body = await withTimeout(connack, 5000, 'CONNACK');
    const rc = body[1];
    if (rc !== 0) throw new Error(`CONNACK refused with ${rc}`);
    return client;
  }

  /** Subscribes; resolves with the SUBACK body once it arrives. */
  subscribe(filter: string, qos: QoS, subscriptionId = 0): Promise<Buffer> {
    const suback = this.expect(9);
    const properties = subscriptionId > 0 ? { subscriptionIdentifier: subscriptionId } : undefined;
    this.socket.write(encodeSubscribe(this.version, { packetId: 7, subscriptions: [{ filter, qos }], properties }));
    return withTimeout(suback, 5000, 'SUBACK');
  }

  /** One PINGREQ round trip in ms. */
  async ping(): Promise<number> {
    const start = performance.now();
    const pong = this.expect(13);
    this.socket.write(PINGREQ);
    await withTimeout(pong, 10_000, 'PINGRESP');
    return performance.now() - start;
  }

  /** Writes raw bytes (pipelined packets). */
  write(data: Buffer): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }

  private expect(type: number): Promise<Buffer> {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let pos = 0;
    while (pos + 2 <= buf.length) {
      let at = pos + 1;
      let remaining = 0;
      let shift = 0;
      let complete = false;
      while (at < buf.length) {
        const b = buf[at++] as number;
        remaining += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || at + remaining > buf.length) break;
      this.onPacket(buf[pos] as number, buf.subarray(at, at + remaining), buf.subarray(pos, at + remaining));
      pos = at + remaining;
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    buf = Buffer.alloc(0);
  }

  private onPacket(first: number, body: Buffer, packet: Buffer): void {
    const type = first >> 4;
    if (type === 3) {
      this.publishes++;
      const qos = (first >> 1) & 3;
      const topicLength = body.readUInt16BE(0);
      const topic = body.toString('utf8', 2, 2 + topicLength);
      let pos = 2 + topicLength;
      if (qos > 0) {
        const packetId = body.readUInt16BE(pos);
        pos += 2;
        this.socket.write(Buffer.from([0x40, 2, packetId >> 8, packetId & 0xff]));
      }
      if (this.version === 5) {
        let len = 0;
        let shift = 0;
        for (;;) {
          const b = body[pos++] as number;
          len += (b & 0x7f) * 2 ** shift;
          shift += 7;
          if ((b & 0x80) === 0) break;
        }
        pos += len;
      }
      this.onPublish?.({ topic, retain: (first & 1) === 1, qos, payload: body.subarray(pos), packet });
      return;
    }
    const i = this.waiters.findIndex((w) => w.type === type);
    if (i !== -1) this.waiters.splice(i, 1)[0]!.resolve(Buffer.from(body));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    }),
  ]);
}
