/**
 * What the WebSocket listeners check before and after the upgrade, with hand-written HTTP
 * requests and frames over raw TCP and TLS sockets (and MQTT.js): a browser page from another
 * site is refused (403) unless --ws-allowed-origins lists it, clients without Origin get in;
 * MQTT takes binary frames only (a text frame closes with 1003), STOMP takes text too; an
 * unmasked client frame closes a ws or wss connection with 1002 (RFC 6455 5.1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { brokerFor, connect, startBroker, type Broker } from '../interop/harness.js';
import { connectPacket, publishPacket } from '../interop/wire.js';
import { originAllowed, parseAllowedOrigins } from '../../src/transports/ws.js';
import { ClientFrameCheck } from '../../src/transports/ws-frame-check.js';
import { makeCerts, portOf, type Certs } from './helpers.js';

const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;

/** One frame from the client: FIN set, masked unless told otherwise. */
function clientFrame(opcode: number, payload: Buffer, masked = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | len]) : Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | 126, len >> 8, len & 0xff]);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** A raw socket that upgrades by hand and reads the server's frames. */
class RawUpgrade {
  response = '';
  readonly frames: ServerFrame[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private upgraded = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static async open(t: Parameters<typeof brokerFor>[0], port: number, secure: Certs | null = null): Promise<RawUpgrade> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = secure === null ? net.connect(port, '127.0.0.1', () => resolve(s)) : tls.connect({ host: '127.0.0.1', port, ca: readFileSync(secure.ca), servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    });
    t.after(() => socket.destroy());
    return new RawUpgrade(socket);
  }

  /** Sends the upgrade request with `extra` header lines; resolves with the status code. */
  async upgrade(path: string, port: number, subprotocol: string, extra: Record<string, string> = {}): Promise<number> {
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Protocol: ${subprotocol}`,
      ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    ];
    this.socket.write(lines.join('\r\n') + '\r\n\r\n');
    await this.until(() => this.response !== '', 'the upgrade response');
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.response)?.[1] ?? 0);
  }

  send(opcode: number, payload: Buffer, masked = true): void {
    this.socket.write(clientFrame(opcode, payload, masked));
  }

  async until(check: () => boolean, what: string, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end)
        throw new Error(`no ${what} within ${ms} ms (response: ${JSON.stringify(this.response.slice(0, 200))}, frames: ${this.frames.map((f) => f.opcode).join(',')}, closed: ${this.closed})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The code of the server's close frame, once the socket closed. */
  async closeCode(): Promise<number> {
    await this.until(() => this.closed, 'close');
    const close = this.frames.find((f) => f.opcode === OP_CLOSE);
    return close === undefined || close.payload.length < 2 ? 0 : close.payload.readUInt16BE(0);
  }

  private received(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.response = this.buf.toString('latin1', 0, end + 4);
      this.buf = this.buf.subarray(end + 4);
      this.upgraded = true;
    }
    if (!this.response.startsWith('HTTP/1.1 101')) {
      // A refusal: the rest is its body.
      this.response += this.buf.toString('latin1');
      this.buf = Buffer.alloc(0);
      return;
    }
    for (;;) {
      if (this.buf.length < 2) return;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      }
      if (this.buf.length < at + len) return;
      this.frames.push({ opcode: this.buf[0]! & 0x0f, payload: Buffer.from(this.buf.subarray(at, at + len)) });
      this.buf = this.buf.subarray(at + len);
    }
  }
}

const CONNECT = connectPacket({ version: 4, clientId: 'ws-checks' });
const STOMP_CONNECT = Buffer.from('CONNECT\naccept-version:1.2\nhost:h\n\n\0');

let certs: Certs;
let broker: Broker;
let wsPort: number;
let wssPort: number;
before(async () => {
  certs = makeCerts();
  broker = await startBroker({ args: ['--store', 'memory', '--ws-port', '0', '--wss-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key, '--stomp-port', '0'] });
  wsPort = await portOf(broker, 'ws');
  wssPort = await portOf(broker, 'wss');
});
after(async () => {
  await broker.dispose();
  certs.remove();
});

for (const secure of [false, true]) {
  const name = secure ? 'wss' : 'ws';
  const portFor = (): number => (secure ? wssPort : wsPort);

  test(`${name}: a page from another site is refused with 403; no Origin and the broker's own host get in`, async (t) => {
    const evil = await RawUpgrade.open(t, portFor(), secure ? certs : null);
    assert.equal(await evil.upgrade('/mqtt', portFor(), 'mqtt', { Origin: 'https://evil.example' }), 403);
    assert.match(evil.response, /--ws-allowed-origins/);
    const plain = await RawUpgrade.open(t, portFor(), secure ? certs : null);
    assert.equal(await plain.upgrade('/mqtt', portFor(), 'mqtt'), 101);
    const local = await RawUpgrade.open(t, portFor(), secure ? certs : null);
    assert.equal(await local.upgrade('/mqtt', portFor(), 'mqtt', { Origin: 'http://127.0.0.1:3000' }), 101);
  });

  test(`${name}: MQTT in a text frame closes the connection with 1003; in a binary frame it is answered`, async (t) => {
    const text = await RawUpgrade.open(t, portFor(), secure ? certs : null);
    assert.equal(await text.upgrade('/mqtt', portFor(), 'mqtt'), 101);
    text.send(OP_TEXT, CONNECT);
    assert.equal(await text.closeCode(), 1003);
    assert.equal(
      text.frames.some((f) => f.opcode === OP_BINARY),
      false,
      'no CONNACK',
    );
    const binary = await RawUpgrade.open(t, portFor(), secure ? certs : null);
    assert.equal(await binary.upgrade('/mqtt', portFor(), 'mqtt'), 101);
    binary.send(OP_BINARY, CONNECT);
    await binary.until(() => binary.frames.some((f) => f.opcode === OP_BINARY && f.payload[0] === 0x20), 'CONNACK');
  });

  // uWebSockets.js never looks at the MASK bit of client frames; the front of each port does.
  test(`${name}: an unmasked client frame closes the connection with 1002, unanswered`, async (t) => {
    const raw = await RawUpgrade.open(t, portFor(), secure ? certs : null);
    assert.equal(await raw.upgrade('/mqtt', portFor(), 'mqtt'), 101);
    raw.send(OP_BINARY, CONNECT, false);
    assert.equal(await raw.closeCode(), 1002);
    assert.equal(
      raw.frames.some((f) => f.opcode === OP_BINARY),
      false,
      'no CONNACK',
    );
    // Masked frames of every header size pass the front's check, boundaries kept: CONNECT, a
    // PUBLISH with a 16-bit length, then PINGREQ, which is answered.
    const masked = await RawUpgrade.open(t, portFor(), secure ? certs : null);
    assert.equal(await masked.upgrade('/mqtt', portFor(), 'mqtt'), 101);
    masked.send(OP_BINARY, CONNECT);
    masked.send(OP_BINARY, publishPacket({ topic: 'ws/checks', payload: Buffer.alloc(300, 0x61) }));
    masked.send(OP_BINARY, Buffer.from([0xc0, 0x00]));
    await masked.until(() => masked.frames.some((f) => f.opcode === OP_BINARY && f.payload[0] === 0xd0), 'PINGRESP');
  });
}

test('--ws-check-masks false serves ws from uWebSockets.js directly: MQTT.js connects, publishes and receives', async (t) => {
  const direct = await brokerFor(t, { args: ['--store', 'memory', '--ws-port', '0', '--ws-check-masks', 'false'] });
  const port = await portOf(direct, 'ws');
  const client = await connect(t, `ws://127.0.0.1:${port}/mqtt`, { clientId: 'direct-ws' });
  await client.subscribeAsync('ws/direct', { qos: 1 });
  const got = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
  await client.publishAsync('ws/direct', 'hello', { qos: 1 });
  assert.equal(await got, 'hello');
});

test('STOMP over ws still takes text frames', async (t) => {
  const raw = await RawUpgrade.open(t, wsPort);
  assert.equal(await raw.upgrade('/stomp', wsPort, 'v12.stomp'), 101);
  raw.send(OP_TEXT, STOMP_CONNECT);
  await raw.until(() => raw.frames.some((f) => f.payload.toString('latin1').startsWith('CONNECTED')), 'CONNECTED');
});

test('--ws-allowed-origins lets the listed pages in and keeps others out; MQTT.js from Node (no Origin) connects', async (t) => {
  const listed = await brokerFor(t, { args: ['--store', 'memory', '--ws-port', '0', '--ws-allowed-origins', 'https://app.example.com, http://dash.example.com:8080'] });
  const port = await portOf(listed, 'ws');
  for (const [origin, status] of [
    ['https://app.example.com', 101],
    ['http://dash.example.com:8080', 101],
    ['http://dash.example.com', 403],
    ['https://evil.example', 403],
  ] as const) {
    const raw = await RawUpgrade.open(t, port);
    assert.equal(await raw.upgrade('/mqtt', port, 'mqtt', { Origin: origin }), status, origin);
  }
  const client = await connect(t, `ws://127.0.0.1:${port}/mqtt`, { protocolVersion: 5 });
  assert.equal(client.connected, true);
});

test('--ws-allowed-origins: * lets any page in; a value that is not an origin is named', () => {
  assert.equal(parseAllowedOrigins('*'), null);
  assert.equal(originAllowed('https://anything.example', '127.0.0.1:8083', null), true);
  assert.throws(() => parseAllowedOrigins('https://app.example.com/path'), /--ws-allowed-origins: "https:\/\/app.example.com\/path" is not an origin/);
  assert.throws(() => parseAllowedOrigins('app.example.com'), /--ws-allowed-origins/);
  assert.equal(originAllowed('null', 'localhost:8083', new Set()), false);
});

test('the frame check follows headers of every length split anywhere, and stops at the first unmasked frame', () => {
  const request = Buffer.from('GET /mqtt HTTP/1.1\r\nHost: h\r\n\r\n');
  const long = Buffer.concat([Buffer.from([0x82, 0xff]), Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]), randomBytes(4), Buffer.alloc(65_536)]);
  const stream = Buffer.concat([request, clientFrame(OP_BINARY, Buffer.alloc(10)), clientFrame(OP_BINARY, Buffer.alloc(300)), long, clientFrame(OP_TEXT, Buffer.alloc(0))]);
  const whole = new ClientFrameCheck();
  assert.equal(whole.check(stream), true);
  const bytewise = new ClientFrameCheck();
  for (let i = 0; i < stream.length; i++) assert.equal(bytewise.check(stream.subarray(i, i + 1)), true, `byte ${i}`);
  assert.equal(bytewise.check(clientFrame(OP_BINARY, Buffer.alloc(5), false)), false);
});
