/**
 * Memory before authentication, on a real broker with each protocol's frames: a first frame is
 * bounded by --max-connect-size (MQTT 5 hears CONNACK 0x95 naming the flag, 3.1.1 is closed,
 * STOMP gets ERROR, JT/T 808 and GB/T 32960 logins are dropped), and the bytes every connection
 * not logged in keeps are bounded together by --max-login-buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, connect, rawClient, waitFor, type Broker, type RawClient } from '../interop/harness.js';
import { parseConnack, prop } from '../interop/wire.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { Vehicle, frame as gbtFrame, gbtPort, loginData } from '../protocols/gbt32960/helpers.js';
import { Terminal } from '../../bench/lib/jt808-terminal.js';
import { jt808Port, testPhone } from '../protocols/jt808/helpers.js';
import { varintSize, writeVarint } from '../../src/protocols/mqtt/codec/writer.js';

const REASON_STRING = 0x1f;

function stompPort(broker: Broker): number {
  const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp' && l['transport'] === 'tcp');
  if (line === undefined) throw new Error('no stomp listener in the broker log');
  return Number(line['port']);
}

/** The fixed header of a CONNECT declaring `remaining` bytes, then the start of an MQTT `level` variable header. */
function connectStart(remaining: number, level: number): Buffer {
  const header = Buffer.alloc(1 + varintSize(remaining));
  header[0] = 0x10;
  writeVarint(header, 1, remaining);
  return Buffer.concat([header, Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([level, 0x02, 0, 60])]);
}

test('an MQTT 5 CONNECT over --max-connect-size is refused with CONNACK 0x95 naming the flag, before it arrives', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  const raw = await rawClient(t, broker.port, 5);
  // 1 MB declared (the default --max-packet-size allows it); only the start is sent.
  raw.send(connectStart(1_000_000, 5));
  const connack = parseConnack(await raw.next(2), 5);
  assert.equal(connack.code, 0x95);
  const text = String(prop(connack.props, REASON_STRING));
  assert.match(text, /--max-connect-size of 65536 bytes/);
  await raw.expectClose();
});

test('an MQTT 3.1.1 CONNECT over --max-connect-size is closed without CONNACK', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--max-connect-size', '1KiB'] });
  const raw = await rawClient(t, broker.port, 4);
  raw.send(connectStart(5000, 4));
  const after = await raw.expectClose();
  assert.deepEqual(
    after.map((p) => p.type),
    [],
  );
});

test('a CONNECT with a will and authentication data within --max-connect-size gets in (MQTT.js, MQTT 5)', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  const client = await connect(t, broker.url, {
    protocolVersion: 5,
    will: { topic: 'w/big', payload: Buffer.alloc(40_000, 0x61), qos: 0, retain: false },
    properties: { userProperties: { note: 'x'.repeat(8000) } },
  });
  assert.equal(client.connected, true);
});

test('a STOMP CONNECT frame over --max-connect-size gets ERROR naming the flag', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--stomp-port', '0'] });
  const stomp = await RawStomp.open(t, stompPort(broker));
  // Ten headers of 8,000 bytes: each within --stomp-max-header-length, 80 KB together.
  const headers: Record<string, string> = { 'accept-version': '1.2', host: 'h' };
  for (let i = 0; i < 10; i++) headers[`x-pad-${i}`] = 'p'.repeat(8000);
  stomp.send(stompFrame('CONNECT', headers));
  const error = await stomp.next('ERROR');
  assert.match(error.header('message') ?? '', /--max-connect-size/);
  await stomp.closedWithin(3000);
});

test('a GB/T 32960 login frame over --max-connect-size is dropped, not answered', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--gbt32960-port', '0', '--max-connect-size', '512', '--allow-anonymous'] });
  const vehicle = await Vehicle.connect(t, gbtPort(broker));
  // A valid login, 40 subsystem codes of 20 characters: about 830 bytes.
  const codes = Array.from({ length: 40 }, (_, i) => String(i).padStart(20, '0'));
  vehicle.send(gbtFrame(0x01, loginData(1, '12345678901234567890', codes), 'LJNCTLOGINSIZE001'));
  const line = await waitFor(() => broker.logs.some((l) => l['msg'] === 'bad frame skipped, resynchronising on the next "##"'), 3000, 'the skipped frame').then(() =>
    broker.logs.find((l) => l['msg'] === 'bad frame skipped, resynchronising on the next "##"'),
  );
  assert.match(String(line?.['error']), /maximum frame size of 512 bytes/);
  assert.equal(vehicle.frames.length, 0);
});

test('a JT/T 808 frame over --max-connect-size before login is dropped as too large', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--jt808-port', '0', '--max-connect-size', '512', '--jt808-max-violations', '1'] });
  const terminal = await Terminal.connect(await jt808Port(broker), testPhone(141));
  t.after(() => terminal.close());
  // Authentication with a 600-character code: within --jt808-max-frame-size (4096), over 512.
  terminal.send(0x0102, { code: 'c'.repeat(600) });
  await terminal.waitClosed(3000);
  assert.equal(terminal.received.length, 0);
});

test('unfinished logins are bounded together by --max-login-buffer: past it such connections are closed, others still get in', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--max-login-buffer', '256KiB'] });
  const clients: RawClient[] = [];
  // Eight connections each keep 60,000 bytes of a 64,000-byte CONNECT: 480,000 bytes, over 262,144.
  for (let i = 0; i < 8; i++) {
    const raw = await rawClient(t, broker.port, 5);
    raw.send(Buffer.concat([connectStart(64_000, 5), Buffer.alloc(60_000 - 13)]));
    clients.push(raw);
  }
  await waitFor(() => clients.filter((c) => c.closed).length >= 4, 5000, 'connections closed past --max-login-buffer');
  const closed = clients.filter((c) => c.closed).length;
  assert.ok(closed <= 5, `${closed} of 8 closed: those within the buffer stay`);
  const line = broker.logs.find((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('connection closed before login'));
  assert.match(String(line?.['msg']), /--max-login-buffer \(262144 bytes\)/);
  // What closed connections held is given back: a normal client still gets in.
  for (const c of clients) c.close();
  const client = await connect(t, broker.url, { protocolVersion: 5 });
  assert.equal(client.connected, true);
});
