/**
 * Limits every protocol meets through the gateway kit, checked on a real broker with each
 * protocol's own client: one --max-connections over every protocol and listener, --max-memory
 * admission, and the publish pace (reading pauses, nothing is lost; a client that keeps flooding
 * is disconnected).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { brokerFor, collect, connect, gather, sleep, waitFor, type Broker } from '../interop/harness.js';
import { connectOutcome } from '../security/helpers.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { Terminal, sampleLocation } from '../../bench/lib/jt808-terminal.js';
import { SAMPLE_ITEMS, TIME, Vehicle, frame as gbtFrame, loginData } from '../protocols/gbt32960/helpers.js';
import { encodeReport } from '../../src/protocols/gbt32960/codec/encode-infos.js';

const ALL = ['--store', 'memory', '--stomp-port', '0', '--jt808-port', '0', '--gbt32960-port', '0'];
const VIN = 'LJNCTLIMITS000001';

function portOf(broker: Broker, protocol: string): number {
  const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === protocol && l['transport'] === 'tcp');
  if (line === undefined) throw new Error(`no ${protocol} listener in the broker log`);
  return Number(line['port']);
}

async function ready(t: Parameters<typeof brokerFor>[0], args: string[]): Promise<Broker> {
  const broker = await brokerFor(t, { args: [...ALL, ...args] });
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'ready'), 5000, 'the ready line');
  return broker;
}

/** Resolves true when the server closes the socket within `ms` without sending anything. */
function closedAtOnce(port: number, ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.on('data', () => (got = true));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(!got);
    });
    socket.on('error', () => {});
  });
}

test('--max-connections counts every protocol together', async (t) => {
  const broker = await ready(t, ['--max-connections', '3']);
  await connect(t, broker.url, { protocolVersion: 5 });
  const stomp = await RawStomp.open(t, portOf(broker, 'stomp'));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'h' }));
  await stomp.next('CONNECTED');
  const terminal = await Terminal.connect(portOf(broker, 'jt808'), '013955500001');
  t.after(() => terminal.close());
  // Three open (MQTT, STOMP, JT/T 808): a fourth is refused at accept, whatever its protocol.
  for (const protocol of ['gbt32960', 'stomp', 'mqtt'] as const) {
    const port = protocol === 'mqtt' ? broker.port : portOf(broker, protocol);
    assert.equal(await closedAtOnce(port), true, `a ${protocol} connection past the limit is closed at once`);
  }
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'connection refused: --max-connections reached' && l['limit'] === 3), 5000, 'the log line');
});

test('--max-memory refuses new logins of every protocol, each in its own words', async (t) => {
  const broker = await ready(t, ['--max-memory', '1MiB']);
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 5 }), 0x89, 'MQTT 5: CONNACK 0x89');
  const stomp = await RawStomp.open(t, portOf(broker, 'stomp'));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'h' }));
  assert.match((await stomp.next('ERROR')).header('message') ?? '', /server busy/);
  const terminal = await Terminal.connect(portOf(broker, 'jt808'), '013955500002');
  t.after(() => terminal.close());
  assert.equal(await terminal.response(0x0102, terminal.send(0x0102, { code: 'x' })), 1, 'JT/T 808: 8001 result 1');
  const vehicle = await Vehicle.connect(t, portOf(broker, 'gbt32960'));
  vehicle.send(gbtFrame(0x01, loginData(), VIN));
  assert.equal((await vehicle.next(0x01)).flag, 0x02, 'GB/T 32960: login answered 02');
});

test('the publish pace holds STOMP and GB/T 32960 back too: reading pauses, nothing is lost', async (t) => {
  const broker = await ready(t, ['--max-publish-rate', '20']);
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  await watcher.subscribeAsync(['paced/#', 'gbt32960/+/upstream/#'], { qos: 0 });

  // 40 SENDs at once at 20/s (a bucket of 10): they arrive over more than a second, all of them.
  const stomp = await RawStomp.open(t, portOf(broker, 'stomp'));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'h' }));
  await stomp.next('CONNECTED');
  const sent = collect(watcher, 40, 8000, 'the 40 SENDs');
  const started = Date.now();
  stomp.send(Buffer.concat(Array.from({ length: 40 }, (_, i) => stompFrame('SEND', { destination: 'paced/stomp' }, String(i)))));
  assert.deepEqual(
    (await sent).map((m) => m.payload.toString()),
    Array.from({ length: 40 }, (_, i) => String(i)),
    'every SEND, in order',
  );
  assert.ok(Date.now() - started >= 1000, `40 messages at 20/s take over a second (took ${Date.now() - started} ms)`);

  const vehicle = await Vehicle.connect(t, portOf(broker, 'gbt32960'));
  vehicle.send(gbtFrame(0x01, loginData(), VIN));
  assert.equal((await vehicle.next(0x01)).flag, 0x01);
  await sleep(600); // the login's publish used a token: let the bucket fill again
  const reports = collect(watcher, 25, 8000, 'the 25 vehicle reports');
  const burstAt = Date.now();
  vehicle.send(Buffer.concat(Array.from({ length: 25 }, () => gbtFrame(0x02, encodeReport(TIME, [SAMPLE_ITEMS['Vehicle']!]), VIN))));
  const got = (await reports).filter((m) => m.topic === `gbt32960/${VIN}/upstream/info`);
  assert.equal(got.length, 25, 'every report');
  assert.ok(Date.now() - burstAt >= 500, `25 reports at 20/s with a bucket of 10 take over half a second (took ${Date.now() - burstAt} ms)`);
  assert.deepEqual(
    (await gather(watcher, 200)).filter((m) => m.topic.startsWith('gbt32960/')),
    [],
    'and nothing more',
  );
});

test('a JT/T 808 terminal or a STOMP client that keeps sending above the rate is disconnected (quota exceeded)', async (t) => {
  const broker = await ready(t, ['--max-publish-rate', '20', '--publish-quota-strikes', '1', '--log-level', 'debug']);
  const terminal = await Terminal.connect(portOf(broker, 'jt808'), '013955500003');
  t.after(() => terminal.close());
  assert.equal(await terminal.response(0x0102, terminal.send(0x0102, { code: 'x' })), 0);
  const stomp = await RawStomp.open(t, portOf(broker, 'stomp'));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'h' }));
  await stomp.next('CONNECTED');
  const until = Date.now() + 8000;
  while ((!terminal.closed || !stomp.closed) && Date.now() < until) {
    if (!terminal.closed) for (let i = 0; i < 50; i++) terminal.send(0x0200, sampleLocation(i));
    if (!stomp.closed) stomp.send(Buffer.concat(Array.from({ length: 50 }, () => stompFrame('SEND', { destination: 'flood' }, 'x'))));
    await sleep(50);
  }
  assert.equal(terminal.closed, true, 'the flooding terminal was disconnected');
  assert.equal(stomp.closed, true, 'the flooding STOMP client was disconnected');
  const error = stomp.frames.find((f) => f.command === 'ERROR');
  assert.match(error?.header('message') ?? '', /publish rate stayed above the limit/);
  await waitFor(() => broker.logs.filter((l) => l['msg'] === 'client disconnected' && l['reason'] === 'quota-exceeded').length === 2, 3000, 'two quota-exceeded disconnects');
});
