/**
 * The admin API over real HTTP against a broker process, with real MQTT.js clients and a raw
 * STOMP client: every endpoint with the token, without it, and with bad parameters.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { IDisconnectPacket } from 'mqtt';
import { collect, connect, connectCollecting, gather, runBroker, sleep, waitFor } from '../interop/harness.js';
import { adminBroker, call, fields, stompLogin, TOKEN } from './admin-broker.js';

/** Every route that needs the token, with a request that would otherwise succeed or fail on its own merits. */
const GUARDED: ReadonlyArray<[string, string]> = [
  ['GET', '/metrics'],
  ['GET', '/api/v1/clients'],
  ['GET', '/api/v1/clients/x'],
  ['DELETE', '/api/v1/clients/x'],
  ['GET', '/api/v1/bans'],
  ['POST', '/api/v1/bans'],
  ['DELETE', '/api/v1/bans/clientid/x'],
  ['GET', '/api/v1/subscriptions'],
  ['GET', '/api/v1/sessions'],
  ['GET', '/api/v1/sessions/x'],
  ['DELETE', '/api/v1/sessions/x'],
  ['GET', '/api/v1/retained'],
  ['GET', '/api/v1/retained/a/b'],
  ['DELETE', '/api/v1/retained/a/b'],
  ['POST', '/api/v1/publish'],
  ['GET', '/api/v1/stats'],
  ['GET', '/api/v1/nodes'],
  ['POST', '/api/v1/reload'],
];

function assertBadParameter(answer: { status: number; body: unknown }, parameter: string): void {
  assert.equal(answer.status, 400, JSON.stringify(answer.body));
  const body = answer.body as Record<string, unknown>;
  assert.equal(body['code'], 'BAD_PARAMETER');
  assert.equal(body['parameter'], parameter, JSON.stringify(body));
  assert.match(String(body['message']), new RegExp(`^${parameter.replace('.', '\\.')}: `));
}

test('health checks need no token; every other route answers 401 without the right one', async (t) => {
  const a = await adminBroker(t);
  assert.deepEqual((await a.api('GET', '/healthz', undefined, null)).body, { status: 'ok' });
  assert.deepEqual((await a.api('GET', '/readyz', undefined, null)).body, { status: 'ready' });
  for (const [method, p] of GUARDED) {
    for (const token of [null, 'wrong-token-0123456789', `${TOKEN}x`]) {
      const answer = await a.api(method, p, method === 'POST' ? {} : undefined, token);
      assert.equal(answer.status, 401, `${method} ${p} with ${token ?? 'no token'}: ${answer.text}`);
      assert.equal(fields(answer)['code'], 'UNAUTHORIZED');
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="junction"');
    }
  }
  const refused = a.broker.logs.filter((l) => l['msg'] === 'admin request refused: missing or wrong bearer token');
  assert.ok(refused.length >= 1, 'refusals are logged');
  assert.ok(!JSON.stringify(a.broker.logs).includes(TOKEN), 'the token never reaches the log');
  assert.equal((await a.api('GET', '/api/v1/nope')).status, 404);
  const wrongMethod = await a.api('POST', '/api/v1/clients', {});
  assert.equal(wrongMethod.status, 405);
  assert.match(String(fields(wrongMethod)['message']), /allowed: GET/);
});

test('GET /clients lists every protocol with filters and pages; GET /clients/{id} shows one in full', async (t) => {
  const a = await adminBroker(t, ['--stomp-port', '0']);
  const url = a.broker.url;
  const alice = await connect(t, url, { clientId: 'dev/alice', username: 'alice', protocolVersion: 5, keepalive: 30 });
  await connect(t, url, { clientId: 'dev-bob', username: 'bob', protocolVersion: 4, keepalive: 45 });
  await stompLogin(t, a.broker.listeningPort('stomp'), 'carol');
  await new Promise<void>((resolve, reject) => alice.subscribe('alerts/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => alice.publish('alerts/x', 'hello', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  await collect(alice, 0, 10).catch(() => {});

  const all = fields(await a.api('GET', '/api/v1/clients'));
  const ids = (all['data'] as Array<Record<string, unknown>>).map((c) => c['clientId']).sort();
  assert.deepEqual(ids, ['carol', 'dev-bob', 'dev/alice']);
  assert.deepEqual(all['meta'], { page: 1, limit: 100, count: 3 });

  const only = async (query: string): Promise<unknown[]> => {
    const answer = await a.api('GET', `/api/v1/clients?${query}`);
    assert.equal(answer.status, 200, answer.text);
    return (fields(answer)['data'] as Array<Record<string, unknown>>).map((c) => c['clientId']).sort();
  };
  assert.deepEqual(await only('protocol=stomp'), ['carol']);
  assert.deepEqual(await only('protocol=mqtt'), ['dev-bob', 'dev/alice']);
  assert.deepEqual(await only('username=bob'), ['dev-bob']);
  assert.deepEqual(await only('clientIdPrefix=dev%2F'), ['dev/alice']);
  assert.deepEqual(await only('address=127.0.0.1'), ['carol', 'dev-bob', 'dev/alice']);
  assert.deepEqual(await only('address=10.9.9.9'), []);
  assert.deepEqual(await only(`connectedSince=${Date.now() + 60_000}`), []);
  assert.deepEqual(await only(`connectedSince=${new Date(Date.now() - 60_000).toISOString()}`), ['carol', 'dev-bob', 'dev/alice']);
  const page2 = fields(await a.api('GET', '/api/v1/clients?limit=2&page=2'));
  assert.equal((page2['data'] as unknown[]).length, 1);
  assert.deepEqual(page2['meta'], { page: 2, limit: 2, count: 3 });

  assertBadParameter(await a.api('GET', '/api/v1/clients?limit=0'), 'limit');
  assertBadParameter(await a.api('GET', '/api/v1/clients?limit=5000'), 'limit');
  assertBadParameter(await a.api('GET', '/api/v1/clients?page=first'), 'page');
  assertBadParameter(await a.api('GET', '/api/v1/clients?connectedSince=yesterday'), 'connectedSince');
  assertBadParameter(await a.api('GET', '/api/v1/clients?protocol=MQTT!'), 'protocol');

  const detail = await a.api('GET', `/api/v1/clients/${encodeURIComponent('dev/alice')}`);
  assert.equal(detail.status, 200, detail.text);
  const d = fields(detail);
  assert.equal(d['protocol'], 'mqtt');
  assert.equal(d['protocolVersion'], '5');
  assert.equal(d['username'], 'alice');
  assert.equal(d['address'], '127.0.0.1');
  assert.equal(d['keepAlive'], 30);
  assert.equal(d['transport'], 'tcp');
  assert.deepEqual(d['subscriptionList'], [{ filter: 'alerts/#', qos: 1 }]);
  assert.equal(d['messagesIn'], 1);
  assert.ok(Number(d['messagesOut']) >= 1, `messagesOut ${String(d['messagesOut'])}`);
  assert.ok(Number(d['bytesIn']) > 20 && Number(d['bytesOut']) > 10, `bytes ${String(d['bytesIn'])}/${String(d['bytesOut'])}`);
  assert.equal(d['inflight'], 0);
  assert.equal(d['queued'], 0);
  assert.ok(Math.abs(Date.parse(String(d['connectedAt'])) - Date.now()) < 60_000);
  const missing = await a.api('GET', '/api/v1/clients/nobody');
  assert.equal(missing.status, 404);
  assert.equal(fields(missing)['code'], 'NOT_FOUND');
});

test('DELETE /clients/{id} kicks: MQTT 5 gets DISCONNECT 0x98, STOMP is closed, the list no longer shows them', async (t) => {
  const a = await adminBroker(t, ['--stomp-port', '0']);
  const v5 = await connect(t, a.broker.url, { clientId: 'kick-me', protocolVersion: 5 });
  const disconnect = new Promise<IDisconnectPacket>((resolve) => v5.once('disconnect', resolve));
  const stomp = await stompLogin(t, a.broker.listeningPort('stomp'), 'kick-stomp');
  assert.equal((await a.api('DELETE', '/api/v1/clients/kick-me')).status, 204);
  assert.equal((await disconnect).reasonCode, 0x98);
  assert.equal((await a.api('DELETE', '/api/v1/clients/kick-stomp')).status, 204);
  await stomp.closed;
  const left = fields(await a.api('GET', '/api/v1/clients'));
  assert.deepEqual(left['data'], []);
  assert.equal((await a.api('DELETE', '/api/v1/clients/kick-me')).status, 404);
});

test('bans: POST kicks and refuses the client (CONNACK 0x8A), GET lists, DELETE lifts, an expiry ends it; bad bans name the parameter', async (t) => {
  const a = await adminBroker(t);
  const url = a.broker.url;
  const victim = await connect(t, url, { clientId: 'banned-one', protocolVersion: 5 });
  const kicked = new Promise<IDisconnectPacket>((resolve) => victim.once('disconnect', resolve));
  const added = await a.api('POST', '/api/v1/bans', { as: 'clientid', who: 'banned-one', reason: 'test' });
  assert.equal(added.status, 201, added.text);
  assert.equal(fields(added)['kicked'], 1);
  assert.equal((await kicked).reasonCode, 0x98);
  await assert.rejects(connect(null, url, { clientId: 'banned-one', protocolVersion: 5 }), /Banned|0x8a|138/i);
  await assert.rejects(connect(null, url, { clientId: 'banned-one', protocolVersion: 4 }), /unavailable|3/i);
  await waitFor(() => a.broker.logs.some((l) => l['msg'] === 'connection refused: banned' && String(l['detail']).includes('(test)')), 5000, 'the log line');

  assert.equal((await a.api('POST', '/api/v1/bans', { as: 'username', who: 'mallory', seconds: 1 })).status, 201);
  await assert.rejects(connect(null, url, { clientId: 'm1', username: 'mallory', protocolVersion: 5 }), /Banned|138/i);
  const listed = fields(await a.api('GET', '/api/v1/bans'))['data'] as Array<Record<string, unknown>>;
  assert.deepEqual(
    listed.map((b) => [b['as'], b['who']]),
    [
      ['clientid', 'banned-one'],
      ['username', 'mallory'],
    ],
  );
  assert.equal(listed[0]!['until'], 0);
  await sleep(1100);
  const back = await connect(t, url, { clientId: 'm2', username: 'mallory', protocolVersion: 5 });
  assert.ok(back.connected, 'the username ban expired');

  assert.equal((await a.api('DELETE', '/api/v1/bans/clientid/banned-one')).status, 204);
  await connect(t, url, { clientId: 'banned-one', protocolVersion: 5 });
  assert.equal((await a.api('DELETE', '/api/v1/bans/clientid/banned-one')).status, 404);
  assertBadParameter(await a.api('DELETE', '/api/v1/bans/ip/1.2.3.4'), 'as');

  assertBadParameter(await a.api('POST', '/api/v1/bans', { who: 'x' }), 'as');
  assertBadParameter(await a.api('POST', '/api/v1/bans', { as: 'ip', who: 'x' }), 'as');
  assertBadParameter(await a.api('POST', '/api/v1/bans', { as: 'clientid', who: '' }), 'who');
  assertBadParameter(await a.api('POST', '/api/v1/bans', { as: 'clientid', who: 'x', seconds: -5 }), 'seconds');
  assertBadParameter(await a.api('POST', '/api/v1/bans', { as: 'clientid', who: 'x', until: '2001-01-01' }), 'until');
  assertBadParameter(await a.api('POST', '/api/v1/bans', { as: 'clientid', who: 'x', seconds: 5, until: Date.now() + 5000 }), 'until');
  const notJson = await a.api('POST', '/api/v1/bans', '{"as":');
  assert.equal(notJson.status, 400);
  assert.equal(fields(notJson)['code'], 'BAD_REQUEST');

  // Address bans cover every client of that address and survive a restart (bans.json in the data dir).
  assert.equal((await a.api('POST', '/api/v1/bans', { as: 'address', who: '127.0.0.1' })).status, 201);
  await assert.rejects(connect(null, url, { clientId: 'anyone', protocolVersion: 5 }), /Banned|138/i);
  assert.ok(statSync(path.join(a.broker.dataDir, 'bans.json')).size > 0);
});

test('sessions and subscriptions: offline persistent sessions are listed, DELETE /sessions/{id} ends one', async (t) => {
  const a = await adminBroker(t);
  const keeper = await connect(null, a.broker.url, { clientId: 'keeper', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
  await new Promise<void>((resolve, reject) => keeper.subscribe(['k/1', 'k/2'], { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  await connect(t, a.broker.url, { clientId: 'live', protocolVersion: 4 });
  await new Promise<void>((resolve) => keeper.end(false, {}, () => resolve()));
  await sleep(100);

  const sessions = fields(await a.api('GET', '/api/v1/sessions'))['data'] as Array<Record<string, unknown>>;
  const byId = new Map(sessions.map((s) => [s['clientId'], s]));
  assert.equal(byId.get('keeper')?.['online'], false);
  assert.equal(byId.get('keeper')?.['persistent'], true);
  assert.equal(byId.get('keeper')?.['subscriptions'], 2);
  assert.equal(byId.get('live')?.['online'], true);
  assert.equal(byId.get('keeper')?.['owner'], 'anonymous', 'whose session it is');
  const offline = fields(await a.api('GET', '/api/v1/sessions?online=false'))['data'] as Array<Record<string, unknown>>;
  assert.deepEqual(
    offline.map((s) => s['clientId']),
    ['keeper'],
  );
  assertBadParameter(await a.api('GET', '/api/v1/sessions?online=maybe'), 'online');
  assertBadParameter(await a.api('GET', '/api/v1/sessions?page=0'), 'page');

  const subs = fields(await a.api('GET', '/api/v1/subscriptions?clientId=keeper'))['data'] as Array<Record<string, unknown>>;
  assert.deepEqual(
    subs.map((s) => [s['filter'], s['qos'], s['online']]),
    [
      ['k/1', 1, false],
      ['k/2', 1, false],
    ],
  );
  const byFilter = fields(await a.api('GET', '/api/v1/subscriptions?filter=k/2'))['data'] as unknown[];
  assert.equal(byFilter.length, 1);
  assertBadParameter(await a.api('GET', '/api/v1/subscriptions?limit=-1'), 'limit');

  assert.equal(fields(await a.api('GET', '/api/v1/sessions/keeper'))['queued'], 0);
  assert.equal((await a.api('DELETE', '/api/v1/sessions/keeper')).status, 204);
  assert.equal((await a.api('GET', '/api/v1/sessions/keeper')).status, 404);
  assert.equal((await a.api('DELETE', '/api/v1/sessions/keeper')).status, 404);
  const back = await connectCollecting(t, a.broker.url, { clientId: 'keeper', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } }, 0, 10);
  assert.equal(back.connack.sessionPresent, false, 'the session is gone');
});

test('retained: list by filter, read one topic with slashes, delete without telling subscribers', async (t) => {
  const a = await adminBroker(t);
  const pub = await connect(t, a.broker.url, { protocolVersion: 5 });
  for (const [topic, payload] of [
    ['site/1/temp', '21.5'],
    ['site/2/temp', '19'],
    ['other/x', Buffer.from([0xff, 0xfe, 0x00]).toString('latin1')],
  ] as const) {
    await new Promise<void>((resolve, reject) => pub.publish(topic, Buffer.from(payload, 'latin1'), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())));
  }
  const site = fields(await a.api('GET', '/api/v1/retained?topic=site/%2B/temp'));
  assert.deepEqual(
    (site['data'] as Array<Record<string, unknown>>).map((m) => [m['topic'], m['payload'], m['encoding']]),
    [
      ['site/1/temp', '21.5', 'utf8'],
      ['site/2/temp', '19', 'utf8'],
    ],
  );
  assert.equal((fields(await a.api('GET', '/api/v1/retained'))['meta'] as Record<string, unknown>)['count'], 3);
  const binary = fields(await a.api('GET', '/api/v1/retained/other/x'));
  assert.equal(binary['encoding'], 'base64');
  assert.equal(Buffer.from(String(binary['payload']), 'base64').toString('hex'), 'fffe00');
  assertBadParameter(await a.api('GET', '/api/v1/retained?topic=site/%23/x'), 'topic');
  assertBadParameter(await a.api('GET', '/api/v1/retained?topic=$share/g/site/%23'), 'topic');

  const watcher = await connect(t, a.broker.url, { protocolVersion: 5 });
  await new Promise<void>((resolve, reject) => watcher.subscribe('site/1/temp', { qos: 1, rh: 2 }, (err) => (err ? reject(err) : resolve())));
  const seen = gather(watcher, 400);
  assert.equal((await a.api('DELETE', '/api/v1/retained/site/1/temp')).status, 204);
  assert.deepEqual(await seen, [], 'deleting a retained message publishes nothing');
  assert.equal((await a.api('GET', '/api/v1/retained/site/1/temp')).status, 404);
  assert.equal((await a.api('DELETE', '/api/v1/retained/site/1/temp')).status, 404);
  const late = await connect(t, a.broker.url, { protocolVersion: 5 });
  const lateSeen = gather(late, 400);
  late.subscribe('site/+/temp');
  assert.deepEqual(
    (await lateSeen).map((m) => m.topic),
    ['site/2/temp'],
  );
});

test('POST /publish reaches subscribers with QoS, retain and properties, or one client point-to-point; bad bodies name the field', async (t) => {
  const a = await adminBroker(t, ['--admin-max-body', '1024']);
  const sub = await connect(t, a.broker.url, { clientId: 'sub-5', protocolVersion: 5 });
  await new Promise<void>((resolve, reject) => sub.subscribe('cmd/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const got = collect(sub, 1);
  const sent = await a.api('POST', '/api/v1/publish', {
    topic: 'cmd/dev-7',
    payload: 'cmVib290',
    encoding: 'base64',
    qos: 1,
    properties: { contentType: 'text/plain', userProperties: { origin: 'ops' }, messageExpiryInterval: 60 },
  });
  assert.equal(sent.status, 200, sent.text);
  assert.deepEqual(sent.body, { matched: 1, stored: false });
  const [m] = await got;
  assert.equal(m!.payload.toString(), 'reboot');
  assert.equal(m!.packet.qos, 1);
  assert.equal(m!.packet.properties?.contentType, 'text/plain');
  assert.deepEqual({ ...m!.packet.properties?.userProperties }, { origin: 'ops' });
  assert.ok((m!.packet.properties?.messageExpiryInterval ?? 0) > 50);

  const direct = await connect(t, a.broker.url, { clientId: 'device-9', protocolVersion: 5 });
  const p2p = collect(direct, 1);
  const toOne = await a.api('POST', '/api/v1/publish', { topic: 'anything/at/all', payload: 'just you', clientId: 'device-9' });
  assert.equal(toOne.status, 200, toOne.text);
  assert.equal((await p2p)[0]!.payload.toString(), 'just you');
  assert.equal((await a.api('POST', '/api/v1/publish', { topic: 'x', clientId: 'nobody-here' })).status, 404);

  const retained = await a.api('POST', '/api/v1/publish', { topic: 'state/r', payload: 'kept', retain: true, qos: 1 });
  assert.equal(fields(retained)['stored'], true);
  assert.equal(fields(await a.api('GET', '/api/v1/retained/state/r'))['payload'], 'kept');

  assertBadParameter(await a.api('POST', '/api/v1/publish', { payload: 'x' }), 'topic');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a/+' }), 'topic');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a', qos: 3 }), 'qos');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a', retain: 'yes' }), 'retain');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a', payload: '@@@', encoding: 'base64' }), 'payload');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a', encoding: 'hex' }), 'encoding');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a', properties: { colour: 'red' } }), 'properties.colour');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a', properties: { messageExpiryInterval: 0 } }), 'properties.messageExpiryInterval');
  assertBadParameter(await a.api('POST', '/api/v1/publish', { topic: 'a', clientId: 'x', retain: true }), 'retain');
  const empty = await a.api('POST', '/api/v1/publish');
  assert.equal(empty.status, 400);
  const tooBig = await a.api('POST', '/api/v1/publish', { topic: 'a', payload: 'x'.repeat(2000) });
  assert.equal(tooBig.status, 413);
  assert.match(String(fields(tooBig)['message']), /--admin-max-body/);
});

test('GET /stats and /nodes describe this node; POST /reload answers what it did', async (t) => {
  const a = await adminBroker(t, ['--node-name', 'n1']);
  await connect(t, a.broker.url, { protocolVersion: 5 });
  const stats = fields(await a.api('GET', '/api/v1/stats'));
  assert.equal(stats['node'], 'n1');
  assert.deepEqual(stats['connections'], { open: 1, online: 1, max: 1_000_000 });
  assert.equal(typeof (stats['memory'] as Record<string, unknown>)['rss'], 'number');
  const nodes = fields(await a.api('GET', '/api/v1/nodes'))['data'] as Array<Record<string, unknown>>;
  assert.equal(nodes.length, 1);
  assert.equal(nodes[0]!['name'], 'n1');
  assert.equal(nodes[0]!['status'], 'running');
  assert.equal(nodes[0]!['connections'], 1);
  const reload = fields(await a.api('POST', '/api/v1/reload'));
  assert.equal(reload['ok'], true);
  assert.equal(reload['trigger'], 'api');
  assert.deepEqual(reload['needsRestart'], []);
  await waitFor(() => a.broker.logs.some((l) => l['msg'] === 'reloaded' && l['trigger'] === 'api' && l['node'] === 'n1'), 5000, 'the log line');
});

test('without --admin-token-file: a token is generated into the data dir (0600), and a non-loopback --admin-host is refused', async (t) => {
  const refused = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--admin-port', '0', '--admin-host', '0.0.0.0']);
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /--admin-host 0\.0\.0\.0 is not a loopback address: give --admin-token-file/);
  const short = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--admin-port', '0', '--admin-token-file', '/etc/hostname']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /--admin-token-file \/etc\/hostname: the token \(its first line\) must be at least 16 characters/);

  const { startJunction } = await import('../../bench/lib/broker-process.js');
  const broker = await startJunction({ args: ['--store', 'memory', '--admin-port', '0'] });
  t.after(() => broker.dispose());
  const file = path.join(broker.dataDir, 'admin-token');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const { readFileSync } = await import('node:fs');
  const token = readFileSync(file, 'utf8').trim();
  const base = `http://127.0.0.1:${broker.listeningPort('admin', 'http')}`;
  assert.equal((await call(base, 'GET', '/api/v1/stats', undefined, token)).status, 200);
  assert.equal((await call(base, 'GET', '/api/v1/stats', undefined, null)).status, 401);
});
