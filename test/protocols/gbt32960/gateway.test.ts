/**
 * A simulated vehicle over TCP against a real broker process, with an MQTT.js backend on the
 * other side: login, real-time reports, heartbeat, time sync, a Query and its response,
 * refused logins and malformed frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, connect, collect, gather, type Broker, type MqttClient, type TestContext } from '../../interop/harness.js';
import { encodeReport } from '../../../src/protocols/gbt32960/codec/encode-infos.js';
import { SAMPLE_ITEMS, TIME, VECTORS, VIN, Vehicle, frame, gbtPort, hex, logoutData, vinHook } from './helpers.js';

const OTHER_VIN = 'LSVAU2180N2183294';

async function setup(t: TestContext, extra: string[] = []): Promise<{ broker: Broker; backend: MqttClient; port: number }> {
  const hook = await vinHook(t, [VIN, OTHER_VIN]);
  const broker = await brokerFor(t, { args: ['--gbt32960-port', '0', '--auth-http-url', hook.url, '--allow-anonymous', '--store', 'memory', ...extra] });
  const backend = await connect(t, broker.url);
  await backend.subscribeAsync(['gbt32960/+/upstream/#', '$SYS/brokers/+/clients/+/+'], { qos: 1 });
  return { broker, backend, port: gbtPort(broker) };
}

async function loggedIn(t: TestContext, port: number, backend: MqttClient, vin = VIN): Promise<Vehicle> {
  const vehicle = await Vehicle.connect(t, port);
  const published = collect(backend, 2, 3000, 'vlogin and connected event');
  vehicle.send(vin === VIN ? hex(VECTORS.login) : frame(0x01, hex(VECTORS.login).subarray(24, -1), vin));
  const answer = await vehicle.next(0x01);
  assert.equal(answer.flag, 0x01, 'login answered with success');
  await published;
  return vehicle;
}

test('login: answered with 01 and the time refreshed, vlogin JSON published at QoS 1, online event', async (t) => {
  const { backend, port } = await setup(t);
  const vehicle = await Vehicle.connect(t, port);
  const messages = collect(backend, 2, 3000, 'vlogin and connected event');
  vehicle.send(VECTORS.login);
  const answer = await vehicle.next(0x01);
  assert.equal(answer.flag, 0x01);
  assert.equal(answer.vin, VIN);
  assert.equal(answer.data.length, 31);
  assert.notDeepEqual(answer.data.subarray(0, 6), Buffer.from([12, 12, 29, 12, 19, 20]), 'time replaced by the platform time');
  assert.deepEqual(answer.data.subarray(6), hex(VECTORS.login).subarray(30, -1), 'rest of the login echoed');
  const got = await messages;
  const vlogin = got.find((m) => m.topic === `gbt32960/${VIN}/upstream/vlogin`);
  assert.ok(vlogin, `vlogin published (got ${got.map((m) => m.topic).join(', ')})`);
  assert.equal(vlogin.packet.qos, 1);
  assert.deepEqual(JSON.parse(vlogin.payload.toString()), {
    Cmd: 1,
    Encrypt: 1,
    Vin: VIN,
    Data: { Time: { Year: 12, Month: 12, Day: 29, Hour: 12, Minute: 19, Second: 20 }, Seq: 1, ICCID: '12345678901234567890', Num: 1, Length: 1, Id: 'C' },
  });
  const online = got.find((m) => m.topic.endsWith(`/clients/${VIN}/connected`));
  assert.ok(online, 'connected event');
  assert.equal(JSON.parse(online.payload.toString()).protocol, 'gbt32960');
});

test('real-time and re-sent reports with vehicle, motor, location and alarm items are published as EMQX JSON', async (t) => {
  const { backend, port } = await setup(t);
  const vehicle = await loggedIn(t, port, backend);
  const items = [SAMPLE_ITEMS['Vehicle']!, SAMPLE_ITEMS['DriveMotor']!, SAMPLE_ITEMS['Location']!, SAMPLE_ITEMS['Alarm']!];
  const messages = collect(backend, 2, 3000, 'info and reinfo');
  vehicle.send(frame(0x02, encodeReport(TIME, items)));
  vehicle.send(frame(0x03, encodeReport(TIME, [SAMPLE_ITEMS['Engine']!])));
  const [info, reinfo] = await messages;
  assert.equal(info!.topic, `gbt32960/${VIN}/upstream/info`);
  assert.deepEqual(JSON.parse(info!.payload.toString()), { Cmd: 2, Encrypt: 1, Vin: VIN, Data: { Time: TIME, Infos: items } });
  assert.equal(reinfo!.topic, `gbt32960/${VIN}/upstream/reinfo`);
  assert.equal(JSON.parse(reinfo!.payload.toString()).Data.Infos[0].Type, 'Engine');
  assert.equal(vehicle.frames.length, 0, 'reports are not answered');
});

test('heartbeat and time sync are answered locally and not published; logout is published and answered', async (t) => {
  const { backend, port } = await setup(t);
  const vehicle = await loggedIn(t, port, backend);
  vehicle.send(VECTORS.heartbeat);
  const pong = await vehicle.next(0x07);
  assert.equal(pong.bytes.toString('hex').toUpperCase(), VECTORS.heartbeatAnswer);
  vehicle.send(frame(0x08, null));
  const sync = await vehicle.next(0x08);
  assert.equal(sync.flag, 0x01);
  assert.equal(sync.data.length, 6);
  const now = new Date(Date.now() + 480 * 60_000);
  assert.equal(sync.data[0], now.getUTCFullYear() % 100);
  assert.equal(sync.data[1], now.getUTCMonth() + 1);
  const quiet = await gather(backend, 300);
  assert.deepEqual(
    quiet.map((m) => m.topic),
    [],
    'nothing published for heartbeat or time sync',
  );
  const logout = collect(backend, 1, 3000, 'vlogout');
  vehicle.send(frame(0x04, logoutData(2)));
  assert.equal((await vehicle.next(0x04)).flag, 0x01);
  const [m] = await logout;
  assert.equal(m!.topic, `gbt32960/${VIN}/upstream/vlogout`);
  assert.deepEqual(JSON.parse(m!.payload.toString()).Data, { Time: TIME, Seq: 2 });
});

test('a Query from the MQTT backend reaches the vehicle; its answer is published on upstream/response', async (t) => {
  const { backend, port } = await setup(t);
  const vehicle = await loggedIn(t, port, backend);
  await backend.publishAsync(`gbt32960/${VIN}/dnstream`, JSON.stringify({ Action: 'Query', Total: 2, Ids: ['0x01', '0x02'] }), { qos: 1 });
  const query = await vehicle.next(0x80);
  assert.equal(query.flag, 0xfe);
  assert.equal(query.data.length, 9);
  assert.deepEqual(query.data.subarray(6), Buffer.from([2, 1, 2]));
  const response = collect(backend, 1, 3000, 'response');
  vehicle.send(frame(0x80, Buffer.from([17, 2, 2, 11, 12, 12, 2, 0x01, 0x17, 0x70, 0x02, 0x00, 0x0a]), VIN, 0x01));
  const [m] = await response;
  assert.equal(m!.topic, `gbt32960/${VIN}/upstream/response`);
  assert.deepEqual(JSON.parse(m!.payload.toString()), {
    Cmd: 128,
    Encrypt: 1,
    Vin: VIN,
    Data: { Time: { Year: 17, Month: 2, Day: 2, Hour: 11, Minute: 12, Second: 12 }, Total: 2, Params: [{ '0x01': 6000 }, { '0x02': 10 }] },
  });
});

test('commands queue behind the one in flight; an unanswered one is resent, then the next goes out', async (t) => {
  const { backend, port } = await setup(t, ['--gbt32960-retry-interval', '1', '--gbt32960-max-retries', '1']);
  const vehicle = await loggedIn(t, port, backend);
  const topic = `gbt32960/${VIN}/dnstream`;
  await backend.publishAsync(topic, JSON.stringify({ Action: 'Control', Command: '0x02' }), { qos: 1 });
  await backend.publishAsync(topic, JSON.stringify({ Action: 'Control', Command: '0x03' }), { qos: 1 });
  assert.equal((await vehicle.next(0x82)).data[6], 2);
  await gather(backend, 300);
  assert.equal(vehicle.frames.length, 0, 'the second command waits for an answer to the first');
  assert.equal((await vehicle.next(0x82, 3000)).data[6], 2, 'resent after the retry interval');
  assert.equal((await vehicle.next(0x82, 3000)).data[6], 3, 'given up after one resend: the next command goes out');
  vehicle.send(frame(0x82, Buffer.from([17, 2, 2, 11, 12, 12, 3]), VIN, 0x01));
  await gather(backend, 1500);
  assert.equal(vehicle.frames.length, 0, 'answered: not resent');
});

test('bad input: garbage, wrong BCC, wrong length, unknown info type, truncated item; the vehicle carries on', async (t) => {
  const { broker, backend, port } = await setup(t);
  const vehicle = await loggedIn(t, port, backend);
  const badBcc = frame(0x02, encodeReport(TIME, [SAMPLE_ITEMS['Engine']!]));
  badBcc[badBcc.length - 1] ^= 0x55;
  const badLength = Buffer.from(frame(0x02, encodeReport(TIME, [SAMPLE_ITEMS['Engine']!])));
  badLength.writeUInt16BE(5, 22);
  const unknownType = frame(0x02, Buffer.concat([encodeReport(TIME, [SAMPLE_ITEMS['Engine']!]), Buffer.from([0x2a, 0, 0])]));
  const truncated = frame(0x02, encodeReport(TIME, [SAMPLE_ITEMS['Location']!]).subarray(0, 12));
  const good = frame(0x02, encodeReport(TIME, [SAMPLE_ITEMS['Vehicle']!]));
  const messages = collect(backend, 3, 3000, 'the decodable frames');
  vehicle.send(Buffer.concat([Buffer.from('garbage!'), badBcc, badLength, unknownType, truncated, good]));
  const got = (await messages).map((m) => JSON.parse(m.payload.toString()) as { Data: { Infos: { Type: string }[]; Error?: string } });
  assert.deepEqual(
    got[0]!.Data.Infos.map((i) => i.Type),
    ['Engine'],
  );
  assert.equal(got[0]!.Data.Error, 'unknown information type 0x2A at data offset 12: its length is not known, the last 3 bytes are not decoded');
  assert.deepEqual(got[1]!.Data.Infos, []);
  assert.match(got[1]!.Data.Error!, /^Location item at data offset 6: truncated Location item \(9 bytes\)/);
  assert.equal(got[2]!.Data.Infos[0]!.Type, 'Vehicle');
  assert.equal(got[2]!.Data.Error, undefined);
  const warnings = broker.logs.filter((l) => l['level'] === 'warn').map((l) => `${String(l['msg'])} ${String(l['error'] ?? '')}`);
  assert.ok(
    warnings.some((w) => w.startsWith('bytes before "##" skipped')),
    warnings.join('\n'),
  );
  assert.ok(
    warnings.some((w) => /BCC mismatch/.test(w)),
    warnings.join('\n'),
  );
  vehicle.send(VECTORS.heartbeat);
  assert.equal((await vehicle.next(0x07)).flag, 0x01, 'still connected and answered');
});

test('frames before login are a protocol error; an unknown VIN is refused with 02 and closed', async (t) => {
  const { backend, port } = await setup(t);
  const early = await Vehicle.connect(t, port);
  early.send(VECTORS.heartbeat);
  await early.waitClosed();
  const stranger = await Vehicle.connect(t, port);
  stranger.send(frame(0x01, hex(VECTORS.login).subarray(24, -1), 'WBA00000000000001'));
  const answer = await stranger.next(0x01);
  assert.equal(answer.flag, 0x02);
  await stranger.waitClosed();
  const published = await gather(backend, 300);
  assert.deepEqual(
    published.filter((m) => m.topic.startsWith('gbt32960/')).map((m) => m.topic),
    [],
    'nothing published for them',
  );
});

test('a second login with the same VIN takes over; closing publishes the offline event', async (t) => {
  const { backend, port } = await setup(t);
  const first = await loggedIn(t, port, backend, OTHER_VIN);
  const events = collect(backend, 1, 3000, 'disconnected event');
  const second = await loggedIn(t, port, backend, OTHER_VIN);
  await first.waitClosed();
  const [takeover] = await events;
  assert.ok(takeover!.topic.endsWith(`/clients/${OTHER_VIN}/disconnected`));
  assert.equal(JSON.parse(takeover!.payload.toString()).reason, 'takeover');
  const gone = collect(backend, 1, 3000, 'disconnected event');
  second.close();
  const [offline] = await gone;
  assert.equal(JSON.parse(offline!.payload.toString()).reason, 'connection-lost');
});
