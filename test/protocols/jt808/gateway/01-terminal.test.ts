/**
 * A simulated terminal over TCP against a real broker process, with an MQTT.js backend:
 * registration, authentication, heartbeats, locations up, an 8300 text down and its answer,
 * online/offline events, 0003, and the gate before authentication.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, connect, gather, subscribeCodes } from '../../../interop/harness.js';
import { jt808Broker, onlineTerminal, testPhone } from '../helpers.js';
import { sampleLocation, Terminal } from '../../../../bench/lib/jt808-terminal.js';

const phone = (): string => testPhone(138);

test('2013 terminal registers, authenticates, heartbeats and reports locations; the backend gets EMQX JSON on the up topic', async (t) => {
  const { broker, port } = await jt808Broker(t);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `jt808/${p}/${p}/up`, { qos: 1 });
  const term = await onlineTerminal(t, port, p);

  const hb = term.send(0x0002);
  assert.equal(await term.response(0x0002, hb), 0, 'heartbeat answered with 8001 result 0');

  const got = collect(backend, 2, 3000, 'location reports');
  const sn1 = term.send(0x0200, sampleLocation(1));
  const sn2 = term.send(0x0200, sampleLocation(2));
  assert.equal(await term.response(0x0200, sn1), 0);
  assert.equal(await term.response(0x0200, sn2), 0);
  const msgs = await got;
  const first = JSON.parse(msgs[0]!.payload.toString()) as { header: Record<string, unknown>; body: Record<string, unknown> };
  assert.equal(msgs[0]!.topic, `jt808/${p}/${p}/up`);
  assert.equal(msgs[0]!.packet.qos, 1);
  assert.deepEqual(first.header, { msg_id: 0x0200, encrypt: 0, len: 28 + 6 + 4 + 3 + 3, phone: p, msg_sn: sn1 });
  assert.deepEqual(first.body, sampleLocation(1));
});

test('2019 terminal: proto_ver in the header, the 8300 text published by a backend on dn reaches the terminal, whose 0001 goes up', async (t) => {
  const { broker, port } = await jt808Broker(t);
  const backend = await connect(t, broker.url);
  const p = '0' + phone().padStart(19, '0');
  await subscribeCodes(backend, `jt808/${p}/${p}/up`, { qos: 1 });
  const term = await Terminal.connect(port, p, true);
  t.after(() => term.close());
  await term.login();

  const up = collect(backend, 1, 3000, 'location report');
  term.send(0x0200, sampleLocation());
  const loc = JSON.parse((await up)[0]!.payload.toString()) as { header: Record<string, unknown> };
  assert.equal(loc.header['proto_ver'], 1);
  assert.equal(loc.header['phone'], p);

  backend.publish(`jt808/${p}/${p}/dn`, JSON.stringify({ header: { msg_id: 0x8300 }, body: { flag: 1, text_type: 1, text: '前方拥堵 slow down' } }), { qos: 1 });
  const text = await term.expect('8300', (r) => r.header['msg_id'] === 0x8300);
  assert.deepEqual(text.body, { flag: 1, text_type: 1, text: '前方拥堵 slow down' });
  assert.equal(text.header['proto_ver'], 1, "commands go out in the terminal's edition");
  assert.equal(text.header['phone'], p);

  const answer = collect(backend, 1, 3000, 'terminal response');
  term.send(0x0001, { seq: text.header['msg_sn'] as number, id: 0x8300, result: 0 });
  const resp = JSON.parse((await answer)[0]!.payload.toString()) as { body: Record<string, unknown> };
  assert.deepEqual(resp.body, { seq: text.header['msg_sn'], id: 0x8300, result: 0 });
});

test('online and offline events on $SYS with protocol jt808; 0003 closes the connection', async (t) => {
  const { broker, port } = await jt808Broker(t);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `$SYS/brokers/+/clients/${p}/+`);
  const events = collect(backend, 2, 6000, 'lifecycle events');
  const term = await onlineTerminal(t, port, p);
  const sn = term.send(0x0003);
  assert.equal(await term.response(0x0003, sn), 0);
  await term.waitClosed();
  const [on, off] = (await events).map((m) => ({ topic: m.topic, body: JSON.parse(m.payload.toString()) as Record<string, unknown> }));
  assert.match(on!.topic, /\/connected$/);
  assert.equal(on!.body['protocol'], 'jt808');
  assert.equal(on!.body['proto_ver'], '2013');
  assert.equal(on!.body['clientid'], p);
  assert.match(off!.topic, /\/disconnected$/);
  assert.equal(off!.body['reason'], 'normal');
});

test('before authentication only 0100/0102 are accepted: a location gets 8001 result 1 and is not published', async (t) => {
  const { broker, port } = await jt808Broker(t);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `jt808/${p}/+/up`);
  const term = await Terminal.connect(port, p);
  t.after(() => term.close());
  const sn = term.send(0x0200, sampleLocation());
  assert.equal(await term.response(0x0200, sn), 1);
  assert.equal((await gather(backend, 300)).length, 0, 'nothing published for an unauthenticated terminal');
  await term.login();
  const sn2 = term.send(0x0200, sampleLocation());
  assert.equal(await term.response(0x0200, sn2), 0, 'accepted once authenticated');
});

test('a second connection with the same phone takes over; the first is closed', async (t) => {
  const { port } = await jt808Broker(t);
  const p = phone();
  const a = await onlineTerminal(t, port, p);
  const b = await onlineTerminal(t, port, p);
  await a.waitClosed();
  const sn = b.send(0x0002);
  assert.equal(await b.response(0x0002, sn), 0);
});
