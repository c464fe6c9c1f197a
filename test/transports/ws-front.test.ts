/**
 * The node:tls front of secure WebSocket, in process: a plain Unix-socket server stands in for
 * uWebSockets.js and shows what the front forwards; the timer wheel is driven by hand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { TimerWheel } from '../../src/core/timer-wheel.js';
import { TlsProvider } from '../../src/transports/tls.js';
import { WsLink } from '../../src/transports/ws-link.js';
import { FRONT_HEADER, WsFront, privateSocketPath, type FrontConnection } from '../../src/transports/ws-front.js';
import { waitFor } from '../interop/harness.js';
import { makeCerts, type Certs } from './helpers.js';

const CONNECT_TIMEOUT = 3;

let certs: Certs;
let socketDir: { path: string; remove(): void };
let inner: net.Server;
let front: WsFront;
let wheel: TimerWheel;
/** What the stand-in for uWS received, per accepted inner socket, in order. */
const received: Array<{ socket: net.Socket; bytes: Buffer }> = [];

before(async () => {
  certs = makeCerts();
  socketDir = privateSocketPath();
  inner = net.createServer((socket) => {
    const entry = { socket, bytes: Buffer.alloc(0) };
    received.push(entry);
    socket.on('data', (d: Buffer) => (entry.bytes = Buffer.concat([entry.bytes, d])));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => inner.listen(socketDir.path, resolve));
  wheel = new TimerWheel();
  const provider = new TlsProvider({ cert: certs.cert, key: certs.key, ca: certs.ca, requireClientCert: false });
  front = await WsFront.open({ host: '127.0.0.1', port: 0, maxConnections: 100, connectTimeout: CONNECT_TIMEOUT, wheel }, provider, socketDir.path);
});
after(() => {
  front.close();
  inner.close();
  socketDir.remove();
  certs.remove();
});

/** A TLS client of the front (with the test client certificate unless told otherwise) and the inner socket it arrived on. */
async function open(withCert = true): Promise<{ client: tls.TLSSocket; arrived: { socket: net.Socket; bytes: Buffer } }> {
  const count = received.length;
  const client = tls.connect({
    host: '127.0.0.1',
    port: front.port,
    ca: readFileSync(certs.ca),
    ...(withCert ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : {}),
  });
  client.on('error', () => {});
  await new Promise<void>((resolve) => client.once('secureConnect', () => resolve()));
  await waitFor(() => received.length > count, 2000, 'the inner connection');
  return { client, arrived: received[count]! };
}

/** The front header the inner side received, and the request as the client sent it (header removed). */
function split(bytes: Buffer): { header: string; request: string } {
  const text = bytes.toString('latin1');
  const match = new RegExp(`\r\n${FRONT_HEADER}: ([^\r\n]*)\r\n`).exec(text);
  assert.ok(match, `the front header after the request line (got ${JSON.stringify(text.slice(0, 200))})`);
  return { header: match[1]!, request: text.slice(0, match.index + 2) + text.slice(match.index + match[0].length) };
}

const REQUEST = 'GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n';

/** A masked binary WebSocket frame carrying `text` (the front closes on unmasked ones). */
function maskedFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'latin1');
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
}

function endsWith(bytes: Buffer, tail: Buffer): boolean {
  return bytes.length >= tail.length && bytes.subarray(bytes.length - tail.length).equals(tail);
}

test('the first request gets the front header right after its request line; the rest passes unchanged', async (t) => {
  const { client, arrived } = await open();
  t.after(() => client.destroy());
  // Split mid request line: the front must wait for the whole line.
  client.write(REQUEST.slice(0, 7));
  await new Promise((r) => setTimeout(r, 50));
  client.write(REQUEST.slice(7));
  await waitFor(() => arrived.bytes.includes('\r\n\r\n'), 2000, 'the request');
  const { header, request } = split(arrived.bytes);
  assert.equal(request, REQUEST);
  assert.ok(arrived.bytes.toString('latin1').startsWith(`GET /mqtt HTTP/1.1\r\n${FRONT_HEADER}: `), 'the header comes first, before any the client sent');
  const conn = front.claim(header);
  assert.ok(conn, 'the header claims the connection');
  assert.equal(conn.remoteAddress, '127.0.0.1');
  assert.equal(conn.remotePort, client.localPort, "the client's own port");
  assert.equal(conn.identity, 'device-42', "the verified client certificate's CN");
  assert.equal(front.claim(header), null, 'a connection is claimed once');
  const later = maskedFrame('later bytes');
  client.write(later);
  await waitFor(() => endsWith(arrived.bytes, later), 2000, 'later bytes passed as they are');
  assert.equal((arrived.bytes.toString('latin1').match(new RegExp(FRONT_HEADER, 'g')) ?? []).length, 1, 'only the first request gets the header');
});

test('a forged or wrong front header claims nothing; without a client certificate the identity is null', async (t) => {
  const { client, arrived } = await open(false);
  t.after(() => client.destroy());
  client.write(`GET /mqtt HTTP/1.1\r\n${FRONT_HEADER}: forged 1\r\n\r\n`);
  await waitFor(() => arrived.bytes.includes('\r\n\r\n'), 2000, 'the request');
  const { header } = split(arrived.bytes);
  const [secret, id] = header.split(' ');
  assert.equal(front.claim('forged 1'), null);
  assert.equal(front.claim(`${secret!.slice(0, -1)}${secret!.endsWith('x') ? 'y' : 'x'} ${id}`), null, 'wrong secret');
  assert.equal(front.claim(`${secret} ${Number(id) + 1000}`), null, 'no such connection');
  assert.equal(front.claim(''), null);
  const conn = front.claim(header);
  assert.ok(conn);
  assert.equal(conn.identity, null);
});

test('bytes flow with backpressure: 16 MiB for a client that does not read stay with the sender, then all arrive in order', async (t) => {
  const { client, arrived } = await open();
  t.after(() => client.destroy());
  client.write(REQUEST);
  await waitFor(() => arrived.bytes.includes('\r\n\r\n'), 2000, 'the request');
  const big = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  client.pause();
  arrived.socket.write(big);
  await new Promise((r) => setTimeout(r, 300));
  // Had the front read on regardless, it would hold the 16 MiB and the sender's buffer would be empty.
  assert.ok(arrived.socket.writableLength > 0, 'the front stopped reading the inner side while the client did not read');
  const chunks: Buffer[] = [];
  let got = 0;
  client.on('data', (d: Buffer) => {
    chunks.push(d);
    got += d.length;
  });
  client.resume();
  await waitFor(() => got >= big.length, 10_000, `16 MiB at the client (got ${got})`);
  assert.ok(Buffer.concat(chunks).equals(big));
});

test("a wss link's pause stops reading from the client's TLS socket until resume", async (t) => {
  const { client, arrived } = await open();
  t.after(() => client.destroy());
  client.write(REQUEST);
  await waitFor(() => arrived.bytes.includes('\r\n\r\n'), 2000, 'the request');
  const conn: FrontConnection = front.claim(split(arrived.bytes).header)!;
  const link = new WsLink('wss', conn.remoteAddress, conn.remotePort, { pausedLimit: 65_536 }, conn);
  const before = arrived.bytes.length;
  link.pause();
  const paused = maskedFrame('while paused');
  client.write(paused);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(arrived.bytes.length, before, 'nothing passed while paused');
  link.resume();
  await waitFor(() => endsWith(arrived.bytes, paused), 2000, 'the bytes after resume');
});

test("closing either side closes the other; the client's last bytes before its end still reach the inner side", async () => {
  const a = await open();
  a.arrived.socket.end();
  await waitFor(() => a.client.destroyed, 3000, 'the client side closed after the inner side ended');
  const b = await open();
  b.client.end(REQUEST);
  await waitFor(() => b.arrived.socket.readableEnded, 3000, 'the end passed on to the inner side');
  assert.ok(b.arrived.bytes.toString('latin1').endsWith('\r\n\r\n'), 'the bytes sent just before the end arrived');
  b.arrived.socket.end();
  await waitFor(() => b.client.destroyed, 3000, 'the client side closed');
  const c = await open();
  c.client.destroy();
  await waitFor(() => c.arrived.socket.destroyed || c.arrived.socket.readableEnded, 3000, 'the inner side closed after the client vanished');
});

test('a connection that never sends its upgrade request is closed at the connect timeout (timer wheel)', async () => {
  // The wheel's clock moves only when it ticks (every 250 ms in the broker).
  wheel.tick(Date.now());
  const { client, arrived } = await open();
  wheel.tick(Date.now() + (CONNECT_TIMEOUT - 1) * 1000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(client.destroyed, false, 'still open before the deadline');
  wheel.tick(Date.now() + CONNECT_TIMEOUT * 1000 + 500);
  await waitFor(() => client.destroyed, 2000, 'the client side closed at the deadline');
  await waitFor(() => arrived.socket.destroyed, 2000, 'the inner side closed too');
});

test('a request line longer than 8 KiB is answered 414 and closed', async () => {
  const { client } = await open();
  let answer = '';
  client.setEncoding('latin1').on('data', (d: string) => (answer += d));
  client.write('GET /' + 'a'.repeat(9000));
  await waitFor(() => client.destroyed, 3000, 'closed after the 414');
  assert.match(answer, /^HTTP\/1\.1 414 /);
});
