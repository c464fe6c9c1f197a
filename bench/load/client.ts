/**
 * One generator client: a raw socket speaking just enough MQTT (CONNECT, SUBSCRIBE, PUBLISH and
 * its acks, PINGREQ) through the project's codec. Publishes are copied from one pre-encoded
 * template into a single buffer per batch, with the packet id and send time patched in, and
 * written once; inbound bytes go through scanFrames with no object per packet.
 */

import net from 'node:net';
import tls from 'node:tls';
import { encodeConnect, encodePublish, encodeSubscribe, encodeUnsubscribe, PINGREQ } from '../../src/protocols/mqtt/codec/encode.js';
import { scanFrames, SCAN_ERR_TOO_LARGE, SCAN_HEADER, SCAN_STRIDE } from '../../src/protocols/mqtt/codec/scanner.js';
import type { Counters } from './ipc.js';
import type { BenchOptions } from './options.js';
import type { ClientSpec } from './plan.js';
import type { Target } from './targets.js';
import { frameHeader, upgradeRequest, WsDecoder } from './ws-framing.js';

/** What a client reports to the worker that owns it. */
export interface ClientHost {
  readonly counters: Counters;
  /** The worker's one scan result array. */
  readonly scan: Uint32Array;
  /** Records `count` deliveries that took `micros` each. */
  recordLatency(micros: number, count: number): void;
  onConnack(client: BenchClient): void;
  onSubscribed(client: BenchClient): void;
  /** The publisher's window has room again (QoS 1/2 acks arrived). */
  onWindow(client: BenchClient): void;
  /** The socket is writable again after a full buffer. */
  onDrain(client: BenchClient): void;
  /** The connection ended; `error` is undefined when the generator closed it. */
  onGone(client: BenchClient, error: string | undefined): void;
}

const MAX_PACKET = 268_435_460;
/** Bytes queued in the socket above which a publisher waits for 'drain'. */
const HIGH_WATER = 64 * 1024;

/** Nanoseconds on the monotonic clock every process on this machine shares. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Milliseconds on the same clock. */
export function nowMs(): number {
  return nowNs() / 1e6;
}

/** A generator client (publisher, subscriber, idle connection or retained seeder). */
export class BenchClient {
  readonly spec: ClientSpec;
  connected = false;
  /** True once the generator itself started closing, so the 'close' is not an error. */
  closing = false;
  blocked = false;
  /** QoS 1/2 publishes not yet acknowledged. */
  outstanding = 0;
  /** Publishes sent by this client since the run started (for --rate). */
  sent = 0;
  connectStartNs = 0;
  /** retained scenario: deliveries expected and received in the current subscribe round. */
  roundExpected = 0;
  roundReceived = 0;
  roundStartNs = 0;
  private readonly host: ClientHost;
  private readonly o: BenchOptions;
  private readonly v5: boolean;
  private readonly socket: net.Socket;
  private readonly ws: WsDecoder | null;
  private pending: Buffer | null = null;
  private nextId = 1;
  private readonly template: Buffer;
  private readonly idOffset: number;
  private readonly stampOffset: number;
  private gone = false;
  /** Sizes of the QoS 0 batches whose PINGRESP has not come back yet, oldest first. */
  readonly pingBatches: number[] = [];
  private subscribedOnce = false;
  private readonly targetHost: string;

  constructor(host: ClientHost, o: BenchOptions, spec: ClientSpec, target: Target, localAddress: string | undefined, localPort: number | undefined) {
    this.host = host;
    this.o = o;
    this.spec = spec;
    this.v5 = o.protocol === 5;
    const qos = spec.role === 'seed' ? 1 : o.qos;
    this.template = encodePublish(o.protocol, { topic: spec.topic, payload: Buffer.alloc(spec.role === 'seed' ? 0 : o.size), qos, retain: spec.role === 'seed', dup: false, packetId: 1 });
    // Header, topic, then (QoS > 0) the id, then (5.0) an empty property block, then the payload.
    let at = 1;
    while ((this.template[at]! & 0x80) !== 0) at++;
    at += 3 + Buffer.byteLength(spec.topic);
    this.idOffset = qos > 0 ? at : -1;
    const payloadAt = at + (qos > 0 ? 2 : 0) + (this.v5 ? 1 : 0);
    this.stampOffset = o.size >= 8 && spec.role === 'pub' ? payloadAt : -1;
    this.ws = o.transport === 'ws' ? new WsDecoder() : null;
    this.connectStartNs = nowNs();
    const port = spec.role === 'sub' && o.subscriberPort !== 0 ? o.subscriberPort : target.port;
    this.targetHost = target.host;
    const socket =
      o.transport === 'tls'
        ? tls.connect({ host: target.host, port, localAddress, localPort, rejectUnauthorized: false, servername: net.isIP(target.host) === 0 ? target.host : undefined } as tls.ConnectionOptions &
            net.TcpSocketConnectOpts)
        : net.connect({ host: target.host, port, localAddress, localPort });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once(o.transport === 'tls' ? 'secureConnect' : 'connect', () => this.onOpen(port));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      this.host.onDrain(this);
    });
    socket.on('error', (err: Error) => this.end(err.message));
    socket.on('close', () => this.end(this.closing ? undefined : 'connection closed by the broker'));
  }

  private onOpen(port: number): void {
    if (this.ws !== null) this.socket.write(upgradeRequest(this.targetHost, port, this.o.wsPath));
    else this.sendConnect();
  }

  private sendConnect(): void {
    this.send(
      encodeConnect({
        protocolVersion: this.o.protocol,
        // MQTT 5 starts clean even for a persistent session, so a run never resumes an earlier run's.
        cleanStart: this.v5 || this.o.sessionExpiry === 0,
        keepAlive: this.o.keepalive,
        clientId: this.spec.clientId,
        username: this.o.username ?? null,
        password: this.o.password === undefined ? null : Buffer.from(this.o.password),
        // The generator acks at once; a large window keeps the broker, not the client, the limit.
        properties: this.v5 ? (this.o.sessionExpiry > 0 ? { receiveMaximum: 65535, sessionExpiryInterval: this.o.sessionExpiry } : { receiveMaximum: 65535 }) : undefined,
      }),
    );
  }

  /** Writes MQTT bytes (inside a WebSocket frame for ws); false when the socket buffer is full. */
  send(bytes: Buffer): boolean {
    if (this.gone) return false;
    if (this.ws !== null) this.socket.write(frameHeader(bytes.length));
    const ok = this.socket.write(bytes) && this.socket.writableLength < HIGH_WATER;
    if (!ok) this.blocked = true;
    return ok;
  }

  /** Subscribes to the spec's filter at the run's QoS (packet id 1; later rounds alternate). */
  subscribe(packetId = 1): void {
    this.send(encodeSubscribe(this.o.protocol, { packetId, subscriptions: [{ filter: this.spec.filter, qos: this.o.qos }] }));
  }

  /** Starts a retained round: unsubscribes (after the first) and subscribes again. */
  resubscribe(expected: number, first: boolean): void {
    this.roundExpected = expected;
    this.roundReceived = 0;
    this.roundStartNs = nowNs();
    if (!first) this.send(encodeUnsubscribe(this.o.protocol, { packetId: 2, filters: [this.spec.filter] }));
    this.subscribe(3);
  }

  /**
   * Sends `count` publishes in one write; returns false when the socket buffer is full. With
   * `ping`, a PINGREQ follows them: its PINGRESP tells that the broker has read the batch, which
   * is how unlimited QoS 0 keeps the broker, not socket buffers, the limit.
   */
  publish(count: number, ping = false): boolean {
    if (count <= 0) return !this.blocked;
    const t = this.template;
    const size = t.length;
    const batch = Buffer.allocUnsafe(size * count + (ping ? 2 : 0));
    if (ping) {
      batch[size * count] = 0xc0;
      batch[size * count + 1] = 0;
      this.pingBatches.push(count);
      this.outstanding += count;
    }
    const stamp = this.stampOffset >= 0 ? nowNs() : 0;
    for (let i = 0, at = 0; i < count; i++, at += size) {
      t.copy(batch, at);
      if (this.idOffset >= 0) {
        const id = this.nextId;
        this.nextId = id === 65535 ? 1 : id + 1;
        batch[at + this.idOffset] = id >>> 8;
        batch[at + this.idOffset + 1] = id & 0xff;
      }
      if (this.stampOffset >= 0) batch.writeDoubleLE(stamp, at + this.stampOffset);
    }
    if (this.idOffset >= 0) this.outstanding += count;
    this.sent += count;
    this.host.counters.sent += count;
    return this.send(batch);
  }

  /** Publishes an empty retained message to `topic` (seed cleanup), QoS 1. */
  publishTopic(topic: string, payload: Buffer, retain: boolean): void {
    const id = this.nextId;
    this.nextId = id === 65535 ? 1 : id + 1;
    this.outstanding++;
    this.send(encodePublish(this.o.protocol, { topic, payload, qos: 1, retain, dup: false, packetId: id }));
  }

  /** Sends PINGREQ (keep-alive); not for a client whose PINGRESPs pace its batches. */
  ping(): void {
    if (this.connected && this.pingBatches.length === 0 && this.spec.role !== 'pub') this.send(PINGREQ);
  }

  /** Sends DISCONNECT and ends the connection. */
  close(): void {
    if (this.gone || this.closing) return;
    this.closing = true;
    if (this.connected) this.send(Buffer.from([0xe0, 0x00]));
    this.socket.end();
    // A broker that never closes its side must not keep the worker alive.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private end(error: string | undefined): void {
    if (this.gone) return;
    this.gone = true;
    this.connected = false;
    this.socket.destroy();
    this.host.onGone(this, error);
  }

  private onData(chunk: Buffer): void {
    if (this.ws === null) {
      this.onMqtt(chunk);
      return;
    }
    const out = this.ws.push(chunk);
    if (out.opened) this.sendConnect();
    for (const data of out.data) this.onMqtt(data);
    if (out.pong !== null) this.socket.write(out.pong);
    if (out.error !== null) this.end(out.error);
  }

  private onMqtt(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    const out = this.host.scan;
    const capacity = ((out.length - SCAN_HEADER) / SCAN_STRIDE) | 0;
    const now = nowNs();
    // Acks for a whole chunk go out as one write.
    let acks: Buffer | null = null;
    let ackLen = 0;
    let start = 0;
    let windowOpened = false;
    let runStamp = 0;
    let runCount = 0;
    for (;;) {
      scanFrames(buf, start, buf.length, MAX_PACKET, this.v5, out);
      const count = out[0]!;
      for (let i = 0; i < count; i++) {
        const r = SCAN_HEADER + i * SCAN_STRIDE;
        const type = out[r]!;
        const flags = out[r + 1]!;
        const varHeader = out[r + 4]!;
        if (type === 3) {
          this.host.counters.received++;
          const qos = (flags >> 1) & 3;
          const payloadAt = this.v5 ? out[r + 8]! + out[r + 9]! : out[r + 5]! + out[r + 6]! + (qos > 0 ? 2 : 0);
          const payloadEnd = out[r + 2]! + out[r + 3]!;
          if (this.roundExpected > 0) {
            this.host.recordLatency(Math.max(1, Math.round((now - this.roundStartNs) / 1000)), 1);
            if (++this.roundReceived === this.roundExpected) this.resubscribe(this.roundExpected, false);
          } else if (payloadEnd - payloadAt >= 8) {
            // Messages of one publisher batch share a send time and a chunk shares `now`: record runs.
            const sentAt = buf.readDoubleLE(payloadAt);
            if (sentAt !== runStamp) {
              if (runCount > 0) this.host.recordLatency(Math.max(1, Math.round((now - runStamp) / 1000)), runCount);
              runStamp = sentAt;
              runCount = 0;
            }
            runCount++;
          }
          if (qos > 0) {
            if (acks === null) acks = Buffer.allocUnsafe(4 * (count - i));
            else if (ackLen + 4 > acks.length) acks = growAcks(acks, ackLen + 4 * (count - i));
            acks[ackLen] = qos === 1 ? 0x40 : 0x50;
            acks[ackLen + 1] = 2;
            acks[ackLen + 2] = out[r + 7]! >>> 8;
            acks[ackLen + 3] = out[r + 7]! & 0xff;
            ackLen += 4;
          }
        } else if (type === 4 || type === 7) {
          this.outstanding--;
          this.host.counters.acked++;
          windowOpened = true;
        } else if (type === 5 || type === 6) {
          // PUBREC -> PUBREL (publisher); PUBREL -> PUBCOMP (subscriber).
          if (acks === null) acks = Buffer.allocUnsafe(4 * (count - i));
          else if (ackLen + 4 > acks.length) acks = growAcks(acks, ackLen + 4 * (count - i));
          acks[ackLen] = type === 5 ? 0x62 : 0x70;
          acks[ackLen + 1] = 2;
          acks[ackLen + 2] = buf[varHeader]!;
          acks[ackLen + 3] = buf[varHeader + 1]!;
          ackLen += 4;
        } else if (type === 2) {
          const code = buf[varHeader + 1]!;
          if (code !== 0) {
            this.end(`CONNACK refused with ${this.v5 ? 'reason' : 'return'} code 0x${code.toString(16).padStart(2, '0')}`);
            return;
          }
          this.connected = true;
          this.host.onConnack(this);
        } else if (type === 9) {
          const codeAt = this.v5 ? varHeader + 2 + propertyBlockLength(buf, varHeader + 2) : varHeader + 2;
          const code = buf[codeAt]!;
          if (code >= 0x80) {
            this.host.counters.errors++;
            this.end(`SUBACK refused ${this.spec.filter} with code 0x${code.toString(16)}`);
            return;
          }
          if (!this.subscribedOnce) {
            this.subscribedOnce = true;
            this.host.onSubscribed(this);
          }
        } else if (type === 13) {
          const batch = this.pingBatches.shift();
          if (batch !== undefined) {
            this.outstanding -= batch;
            windowOpened = true;
          }
        } else if (type === 14) {
          this.end(`DISCONNECT from the broker${this.v5 && out[r + 3]! > 2 ? ` with reason 0x${buf[varHeader]!.toString(16)}` : ''}`);
          return;
        }
      }
      start = out[1]!;
      if (out[2]! !== 0) {
        this.host.counters.errors++;
        this.end(out[2] === SCAN_ERR_TOO_LARGE ? 'packet from the broker too large' : `malformed packet from the broker (scan error ${out[2]})`);
        return;
      }
      if (count === capacity && start < buf.length) continue;
      break;
    }
    if (runCount > 0) this.host.recordLatency(Math.max(1, Math.round((now - runStamp) / 1000)), runCount);
    if (start < buf.length) this.pending = Buffer.from(buf.subarray(start));
    if (acks !== null) this.send(ackLen === acks.length ? acks : acks.subarray(0, ackLen));
    if (windowOpened) this.host.onWindow(this);
  }
}

function growAcks(acks: Buffer, size: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(size, acks.length * 2));
  acks.copy(bigger);
  return bigger;
}

/** Bytes taken by the property length varint plus the properties at `at`. */
function propertyBlockLength(buf: Buffer, at: number): number {
  let length = 0;
  let shift = 1;
  let i = at;
  for (; i < at + 4 && i < buf.length; i++) {
    length += (buf[i]! & 0x7f) * shift;
    if ((buf[i]! & 0x80) === 0) break;
    shift *= 128;
  }
  return i - at + 1 + length;
}
