/**
 * One admission path for every protocol: each security policy (password file and ACL file, JWT
 * grants, HTTP hook grants, token grants, anonymous with an ACL file) against every protocol and
 * transport (MQTT over TCP and WebSocket, STOMP over TCP and WebSocket, JT/T 808, GB/T 32960),
 * on one real broker per policy. The same identity rights (RIGHTS) must give the same allow or
 * deny on the same topic, whatever door the device came through: publishes, subscriptions,
 * wills (never under $SYS), point-to-point messages, the devices' own uplink and downlink topics,
 * and a named device's session (another identity may not use its client id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, clientId, collect, connect, sleep, waitFor, type Broker, type MqttClient, type TestContext } from '../interop/harness.js';
import { connectOutcome, subackCodes, tempDir } from '../security/helpers.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { Terminal, sampleLocation } from '../../bench/lib/jt808-terminal.js';
import { SAMPLE_ITEMS, TIME, Vehicle, frame as gbtFrame, loginData } from '../protocols/gbt32960/helpers.js';
import { encodeReport } from '../../src/protocols/gbt32960/codec/encode-infos.js';
import { PHONE_BAD, PHONE_OK, POLICIES, VIN_BAD, VIN_OK, gbtDown, gbtUp, jtDown, jtUp, type Policy } from './matrix-policies.js';

/** What the observer (allowed everything) saw published, in order. */
interface Seen {
  readonly topic: string;
  readonly payload: string;
}

/** Topics nobody may publish to in any policy: nothing may ever arrive there. */
const DENIED_TOPICS = ['other/up/mqtt', 'other/up/stomp', jtUp(PHONE_BAD), gbtUp(VIN_BAD), 'other/will'];

function portOf(broker: Broker, protocol: string, transport = 'tcp'): number {
  const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === protocol && l['transport'] === transport);
  if (line === undefined) throw new Error(`no ${protocol} ${transport} listener in the broker log`);
  return Number(line['port']);
}

async function arrives(seen: Seen[], topic: string, payload: string): Promise<void> {
  await waitFor(() => seen.some((s) => s.topic === topic && s.payload === payload), 3000, `${topic} "${payload}" at the observer`);
}

async function mqttChecks(t: TestContext, url: string, policy: Policy, observer: MqttClient, seen: Seen[]): Promise<void> {
  const dev = await connect(t, url, { ...policy.mqtt, protocolVersion: 5, clientId: clientId('dev') });
  await dev.publishAsync('fleet/up/mqtt', url, { qos: 1 });
  await arrives(seen, 'fleet/up/mqtt', url);
  const refused = (e: Error & { code?: number }): boolean => e.code === 0x87;
  await assert.rejects(dev.publishAsync('other/up/mqtt', url, { qos: 1 }), refused, 'PUBACK 0x87 on a topic outside the rights');
  await dev.publishAsync(jtUp(PHONE_OK), url, { qos: 1 });
  await arrives(seen, jtUp(PHONE_OK), url);
  await assert.rejects(dev.publishAsync(jtUp(PHONE_BAD), url, { qos: 1 }), refused, "PUBACK 0x87 on another terminal's uplink");
  assert.deepEqual(await subackCodes(dev, ['fleet/dn/#', 'other/dn/#'], 1), [1, 0x87]);
  const got = collect(dev, 1, 3000, 'the message on fleet/dn/#');
  await observer.publishAsync('fleet/dn/mqtt', url, { qos: 1 });
  assert.equal((await got)[0]!.topic, 'fleet/dn/mqtt');
  const will = { topic: 'other/will', payload: Buffer.from('gone'), qos: 0 as const, retain: true };
  assert.equal(await connectOutcome(url, { ...policy.mqtt, protocolVersion: 5, will }), 0x87, 'a will on a topic outside the rights is refused at CONNECT');
  assert.equal(await connectOutcome(url, { ...policy.mqtt, protocolVersion: 4, will }), 5, '3.1.1: return code 5');
  // No client publishes under $SYS, by will or otherwise, whatever its rights.
  const forged = { topic: '$SYS/brokers/node/clients/other/disconnected', payload: Buffer.from('forged'), qos: 0 as const, retain: true };
  assert.equal(await connectOutcome(url, { ...policy.mqtt, protocolVersion: 5, will: forged }), 0x87, 'a will under $SYS is refused');
}

/** A named device's session is its own: the MQTT device (another identity) may not use its client id (0x85 / 2); anonymous ones cannot be told apart. */
async function takeoverRefused(url: string, policy: Policy, deviceId: string): Promise<void> {
  if (!policy.named) return;
  assert.equal(await connectOutcome(url, { ...policy.mqtt, protocolVersion: 5, clientId: deviceId }), 0x85, `MQTT 5 with the client id of ${deviceId}: 0x85`);
  assert.equal(await connectOutcome(url, { ...policy.mqtt, protocolVersion: 4, clientId: deviceId }), 2, `3.1.1 with the client id of ${deviceId}: return code 2`);
}

async function stompChecks(_t: TestContext, open: () => Promise<RawStomp>, policy: Policy, observer: MqttClient, seen: Seen[], tag: string): Promise<void> {
  const login = async (): Promise<RawStomp> => {
    const c = await open();
    c.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', 'heart-beat': '0,0', ...policy.stomp }));
    await c.next('CONNECTED');
    return c;
  };
  const c = await login();
  await c.request('SEND', { destination: 'fleet/up/stomp' }, tag);
  await arrives(seen, 'fleet/up/stomp', tag);
  await c.request('SEND', { destination: jtUp(PHONE_OK) }, tag);
  await arrives(seen, jtUp(PHONE_OK), tag);
  await c.request('SUBSCRIBE', { id: 'ok', destination: 'fleet/dn/#' });
  await observer.publishAsync('fleet/dn/stomp', tag, { qos: 1 });
  const message = await c.next('MESSAGE');
  assert.equal(message.header('destination'), 'fleet/dn/stomp');
  for (const [command, headers] of [
    ['SEND', { destination: 'other/up/stomp' }],
    ['SEND', { destination: jtUp(PHONE_BAD) }],
    ['SUBSCRIBE', { id: 'no', destination: 'other/dn/#' }],
  ] as const) {
    const d = await login();
    d.send(stompFrame(command, headers, command === 'SEND' ? tag : ''));
    const error = await d.next('ERROR');
    assert.match(error.header('message') ?? '', /not authorized/, `${command} ${headers.destination}: ERROR, not authorized`);
    await d.closedWithin(2000);
  }
}

async function jt808Checks(t: TestContext, port: number, policy: Policy, mqttUrl: string, observer: MqttClient, seen: Seen[]): Promise<void> {
  const terminals = new Map<string, Terminal>();
  for (const phone of [PHONE_OK, PHONE_BAD]) {
    const code = policy.jt808(phone);
    const term = await Terminal.connect(port, phone);
    t.after(() => term.close());
    const sn = term.send(0x0102, { code: code ?? 'no-credentials' });
    const result = await term.response(0x0102, sn);
    if (code === null) {
      assert.equal(result, 1, `terminal ${phone}: this policy has no credentials a terminal can carry: refused`);
      continue;
    }
    assert.equal(result, 0, `terminal ${phone} authenticated`);
    terminals.set(phone, term);
    const loc = term.send(0x0200, sampleLocation());
    assert.equal(await term.response(0x0200, loc), phone === PHONE_OK ? 0 : 1, `terminal ${phone}: location answered ${phone === PHONE_OK ? 'ok' : 'failure (not authorized)'}`);
    const from = term.received.length;
    await observer.publishAsync(jtDown(phone), JSON.stringify({ header: { msg_id: 0x8201 }, body: {} }), { qos: 1 });
    if (phone === PHONE_OK) await term.expect('8201 from its downlink', (r) => r.header['msg_id'] === 0x8201, 3000, from);
    else {
      await sleep(300);
      assert.ok(!term.received.slice(from).some((r) => r.header['msg_id'] === 0x8201), 'no command through a downlink it may not subscribe to');
    }
  }
  if (terminals.size === 0) return;
  await takeoverRefused(mqttUrl, policy, PHONE_OK);
  assert.ok(
    seen.some((s) => s.topic === jtUp(PHONE_OK) && s.payload.includes('"latitude"')),
    "the allowed terminal's location was published",
  );
  // Point-to-point to a device is a command on its downlink: the sender needs that right too.
  const dev = await connect(t, mqttUrl, { ...policy.mqtt, protocolVersion: 5, clientId: clientId('p2p') });
  const ok = terminals.get(PHONE_OK)!;
  const from = ok.received.length;
  await dev.publishAsync(`app/p2p/${PHONE_OK}`, JSON.stringify({ header: { msg_id: 0x8201 }, body: {} }), { qos: 1 });
  await ok.expect('8201 sent point-to-point', (r) => r.header['msg_id'] === 0x8201, 3000, from);
  const bad = terminals.get(PHONE_BAD)!;
  const badFrom = bad.received.length;
  await assert.rejects(dev.publishAsync(`app/p2p/${PHONE_BAD}`, JSON.stringify({ header: { msg_id: 0x8201 }, body: {} }), { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87);
  await sleep(200);
  assert.ok(!bad.received.slice(badFrom).some((r) => r.header['msg_id'] === 0x8201), 'no point-to-point command without the right to its downlink');
}

async function gbtChecks(t: TestContext, port: number, policy: Policy, mqttUrl: string, observer: MqttClient, seen: Seen[]): Promise<void> {
  for (const vin of [VIN_OK, VIN_BAD]) {
    const vehicle = await Vehicle.connect(t, port);
    vehicle.send(gbtFrame(0x01, loginData(), vin));
    const answer = await vehicle.next(0x01);
    if (!policy.gbt32960) {
      assert.equal(answer.flag, 0x02, `vehicle ${vin}: a login carries no credentials of this policy: refused`);
      await vehicle.waitClosed();
      continue;
    }
    assert.equal(answer.flag, 0x01, `vehicle ${vin} logged in`);
    vehicle.send(gbtFrame(0x02, encodeReport(TIME, [SAMPLE_ITEMS['Vehicle']!]), vin));
    await observer.publishAsync(gbtDown(vin), JSON.stringify({ Action: 'Query', Total: 1, Ids: ['0x01'] }), { qos: 1 });
    if (vin === VIN_OK) {
      await waitFor(() => seen.some((s) => s.topic === gbtUp(vin)), 3000, `${gbtUp(vin)} at the observer`);
      assert.equal((await vehicle.next(0x80)).vin, vin, 'the Query from its downlink');
      await takeoverRefused(mqttUrl, policy, vin);
    } else {
      await sleep(300);
      assert.ok(!vehicle.frames.some((f) => f.command === 0x80), 'no command through a downlink it may not subscribe to');
    }
  }
}

for (const policy of POLICIES) {
  test(`${policy.name}: every protocol gets the same answer on the same topic`, async (t) => {
    const dir = tempDir(t);
    const args = ['--store', 'memory', '--ws-port', '0', '--stomp-port', '0', '--jt808-port', '0', '--gbt32960-port', '0', '--p2p-parent', 'app'];
    const broker = await brokerFor(t, { args: [...args, ...(await policy.args(t, dir))] });
    await waitFor(() => broker.logs.some((l) => l['msg'] === 'ready'), 5000, 'the ready line');
    const observer = await connect(t, broker.url, { ...policy.observer, protocolVersion: 5, clientId: clientId('observer') });
    assert.deepEqual(await subackCodes(observer, '#', 0), [0]);
    const seen: Seen[] = [];
    observer.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    const ws = portOf(broker, 'websocket', 'ws');

    await t.test('MQTT over TCP', (t) => mqttChecks(t, broker.url, policy, observer, seen));
    await t.test('MQTT over WebSocket', (t) => mqttChecks(t, `ws://127.0.0.1:${ws}/mqtt`, policy, observer, seen));
    await t.test('STOMP over TCP', (t) => stompChecks(t, () => RawStomp.open(t, portOf(broker, 'stomp')), policy, observer, seen, 'stomp-tcp'));
    await t.test('STOMP over WebSocket', (t) => stompChecks(t, () => RawStomp.openWs(t, `ws://127.0.0.1:${ws}/stomp`), policy, observer, seen, 'stomp-ws'));
    await t.test('JT/T 808', (t) => jt808Checks(t, portOf(broker, 'jt808'), policy, broker.url, observer, seen));
    await t.test('GB/T 32960', (t) => gbtChecks(t, portOf(broker, 'gbt32960'), policy, broker.url, observer, seen));
    await sleep(100);
    assert.deepEqual(
      seen.filter((s) => DENIED_TOPICS.includes(s.topic)),
      [],
      'nothing refused reached a subscriber',
    );
  });
}
