/**
 * A simulated JT/T 808 terminal over TCP for the gateway tests and the throughput bench, built
 * on the gateway's own codec: sends messages from JSON, collects the platform's frames as
 * {header, body} JSON, and waits for them with timeouts that say what was expected and what
 * arrived.
 */
import net from 'node:net';
import tls from 'node:tls';
import { FrameScanner } from '../../src/protocols/jt808/codec/frame.js';
import { FrameFault } from '../../src/protocols/jt808/codec/errors.js';
import { headerJson, type Jt808Header } from '../../src/protocols/jt808/codec/header.js';
import { bodyJson, encodeMessage, parseFrame } from '../../src/protocols/jt808/codec/message.js';
import type { JsonObject } from '../../src/protocols/jt808/codec/json-fields.js';

/** One frame the platform sent, decoded. */
export interface Received {
  header: Record<string, number | string>;
  body: JsonObject;
  raw: Buffer;
}

/** The header of a message from this terminal. */
export function terminalHeader(phone: string, is2019: boolean, msgId: number, msgSn: number): Jt808Header {
  return { msgId, encrypt: 0, bodyLength: 0, is2019, protoVer: is2019 ? 1 : 0, phone, msgSn, fragTotal: 0, fragSn: 0 };
}

export class Terminal {
  readonly socket: net.Socket;
  readonly received: Received[] = [];
  readonly faults: FrameFault[] = [];
  closed = false;
  private sn = 0;
  private readonly scanner = new FrameScanner(1 << 20);

  private constructor(
    socket: net.Socket,
    readonly phone: string,
    readonly is2019: boolean,
  ) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.scanner.push(chunk, this));
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  /** Connects to the gateway at host:port. */
  static connect(port: number, phone: string, is2019 = false, host = '127.0.0.1'): Promise<Terminal> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => resolve(new Terminal(socket, phone, is2019)));
      socket.once('error', reject);
    });
  }

  /** Connects over TLS (certificate checks off: tests use a self-signed certificate). */
  static connectTls(port: number, phone: string, is2019 = false, host = '127.0.0.1'): Promise<Terminal> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host, rejectUnauthorized: false });
      socket.once('secureConnect', () => resolve(new Terminal(socket, phone, is2019)));
      socket.once('error', reject);
    });
  }

  onFrame(frame: Buffer, length: number): boolean {
    const copy = Buffer.from(frame.subarray(0, length));
    const p = parseFrame(copy, length);
    if (p.header === null || p.fault !== FrameFault.None) {
      this.faults.push(p.fault);
      return true;
    }
    this.received.push({ header: headerJson(p.header), body: bodyJson(p.header, copy, p.bodyStart, p.bodyEnd), raw: copy });
    return true;
  }

  onFrameFault(fault: FrameFault): boolean {
    this.faults.push(fault);
    return true;
  }

  /** Sends a message; returns its msg_sn. */
  send(msgId: number, body: JsonObject = {}, sn = this.sn++): number {
    this.socket.write(encodeMessage(terminalHeader(this.phone, this.is2019, msgId, sn), body));
    return sn;
  }

  /** Writes raw bytes (for malformed input). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for the first frame (from `from` on) that matches. */
  async expect(what: string, match: (r: Received) => boolean, timeoutMs = 5000, from = 0): Promise<Received> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.received.length; i++) if (match(this.received[i]!)) return this.received[i]!;
      if (Date.now() > until) {
        const got = this.received.slice(from).map((r) => JSON.stringify({ header: r.header, body: r.body }));
        throw new Error(`terminal ${this.phone}: no ${what} within ${timeoutMs} ms; received: ${got.join(' ') || 'nothing'}${this.closed ? ' (connection closed)' : ''}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for 8001 answering `sn` of `msgId`; returns its result. */
  async response(msgId: number, sn: number, timeoutMs = 5000): Promise<number> {
    const r = await this.expect(`8001 for 0x${msgId.toString(16)} sn ${sn}`, (x) => x.header['msg_id'] === 0x8001 && x.body['seq'] === sn && x.body['id'] === msgId, timeoutMs);
    return r.body['result'] as number;
  }

  /** Registers and authenticates with the code it was given; throws unless both succeed. */
  async login(): Promise<void> {
    const sn = this.send(0x0100, { province: 31, city: 115, manufacturer: 'JNCT', model: 'SIM-1', dev_id: 'T01', color: 1, license_number: '测A12345' });
    const reg = await this.expect('8100', (r) => r.header['msg_id'] === 0x8100 && r.body['seq'] === sn);
    if (reg.body['result'] !== 0) throw new Error(`registration refused: ${JSON.stringify(reg.body)}`);
    const code = reg.body['auth_code'] as string;
    const authSn = this.send(0x0102, this.is2019 ? { code, imei: '123456789012345', software_version: '1.0' } : { code });
    const result = await this.response(0x0102, authSn);
    if (result !== 0) throw new Error(`authentication refused (result ${result})`);
  }

  /** Resolves once the platform closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > until) throw new Error(`terminal ${this.phone}: connection still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A sample 0200 body. */
export function sampleLocation(i = 0): JsonObject {
  return {
    alarm: 0,
    status: 2,
    latitude: 31_230_000 + i,
    longitude: 121_470_000 + i,
    altitude: 12,
    speed: 600,
    direction: 90,
    time: '250101120000',
    extra: { mileage: 1234, fuel_meter: 500, rssi: 20, gnss_sat_num: 9 },
  };
}
