/**
 * /metrics against a scrape after known traffic: MQTT and STOMP clients, QoS 0 and 1 messages,
 * a refused login, queue-full drops and retained messages, each figure checked as the change
 * between a scrape before and one after; and the text format itself.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { hashPassword } from '../../src/security/password-hash.js';
import { collect, connect, sleep, waitFor } from '../interop/harness.js';
import { adminBroker, type AdminBroker } from './admin-broker.js';

/** name{labels} -> value of every sample, checking the text format on the way. */
function parseScrape(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3]!, /^(counter|gauge|histogram)$/, line);
        typed.add(meta[2]!);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(sample !== null, `not a sample line: ${line}`);
    const family = sample[1]!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(sample[1]!) || typed.has(family), `sample before its TYPE line: ${line}`);
    samples.set(sample[1]! + (sample[2] ?? ''), Number(sample[3]));
  }
  return samples;
}

async function scrape(a: AdminBroker): Promise<Map<string, number>> {
  const answer = await a.api('GET', '/metrics');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseScrape(answer.text);
}

test('a scrape after known traffic counts connections, messages and bytes by protocol and QoS, drops, auth and latencies', async (t) => {
  const passwords = `alice:${await hashPassword('secret')}\n`;
  const a = await adminBroker(t, ['--store', 'lmdb', '--stomp-port', '0', '--password-file', '$DIR/passwd', '--allow-anonymous', '--max-queued-messages', '1'], { passwd: passwords });
  const url = a.broker.url;
  const before = await scrape(a);
  const delta = (key: string, after: Map<string, number>): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);

  const sub = await connect(t, url, { clientId: 'm-sub', username: 'alice', password: 'secret', protocolVersion: 5 });
  await new Promise<void>((resolve, reject) => sub.subscribe('m/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const pub = await connect(t, url, { clientId: 'm-pub', protocolVersion: 4 });
  await assert.rejects(connect(null, url, { clientId: 'm-bad', username: 'alice', password: 'wrong', protocolVersion: 5 }));
  // A persistent session that is offline: one queued message fits (--max-queued-messages 1), two are dropped.
  const sleeper = await connect(null, url, { clientId: 'm-sleeper', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 600 } });
  await new Promise<void>((resolve, reject) => sleeper.subscribe('q/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => sleeper.end(false, {}, () => resolve()));

  const got = collect(sub, 5);
  for (let i = 0; i < 3; i++) pub.publish('m/zero', Buffer.alloc(10, 0x61), { qos: 0 });
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve, reject) => pub.publish('m/one', Buffer.alloc(5, 0x62), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  await got;
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => pub.publish('q/x', Buffer.alloc(7, 0x63), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => pub.publish('r/kept', Buffer.from('v'), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())));

  const stomp = net.connect(a.broker.listeningPort('stomp'), '127.0.0.1');
  let frames = '';
  stomp.on('data', (d: Buffer) => {
    frames += d.toString('latin1');
  });
  stomp.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
  await waitFor(() => frames.includes('CONNECTED'), 3000, 'STOMP CONNECTED');
  stomp.write('SEND\ndestination:/topic/s/one\n\nstomp says hi\0');
  await sleep(200);

  const after = await scrape(a);
  assert.equal(after.get('junction_connections{protocol="mqtt",transport="tcp"}'), 2);
  assert.equal(after.get('junction_connections{protocol="stomp",transport="tcp"}'), 1);
  assert.equal(after.get('junction_connections_open'), 3);
  assert.equal(delta('junction_connects_total{protocol="mqtt"}', after), 3);
  assert.equal(delta('junction_connects_total{protocol="stomp"}', after), 1);
  assert.equal(delta('junction_disconnects_total{protocol="mqtt",reason="normal"}', after), 1);
  assert.equal(delta('junction_disconnects_total{protocol="mqtt",reason="auth-failure"}', after), 1);
  assert.equal(delta('junction_connections_refused_total', after), 1);
  assert.equal(delta('junction_auth_decisions_total{result="allow"}', after), 4);
  assert.equal(delta('junction_auth_decisions_total{result="deny"}', after), 1);
  assert.equal(delta('junction_auth_duration_seconds_count', after), 5);
  assert.ok(delta('junction_auth_duration_seconds_sum', after) > 0, 'a scrypt check takes time');

  // 3 QoS 0 on m/zero; QoS 1: 2 on m/one, 3 on q/x, the retained one, STOMP's SEND (STOMP sends at QoS 1).
  assert.equal(delta('junction_messages_received_total{qos="0"}', after), 3);
  assert.equal(delta('junction_messages_received_total{qos="1"}', after), 7);
  assert.equal(delta('junction_payload_received_bytes_total{qos="0"}', after), 30);
  assert.equal(delta('junction_payload_received_bytes_total{qos="1"}', after), 10 + 21 + 1 + 'stomp says hi'.length);
  assert.equal(delta('junction_messages_sent_total{qos="0"}', after), 3);
  assert.equal(delta('junction_messages_sent_total{qos="1"}', after), 2);
  assert.equal(delta('junction_payload_sent_bytes_total{qos="1"}', after), 10);
  assert.equal(delta('junction_client_messages_received_total{protocol="mqtt"}', after), 9);
  assert.equal(delta('junction_client_messages_received_total{protocol="stomp"}', after), 1);
  assert.equal(delta('junction_client_messages_sent_total{protocol="mqtt"}', after), 5);
  assert.ok(delta('junction_client_received_bytes_total{protocol="mqtt"}', after) > 30 + 10 + 21, 'wire bytes include headers');
  assert.ok(delta('junction_client_sent_bytes_total{protocol="stomp"}', after) > 0, 'CONNECTED was written');
  assert.equal(delta('junction_messages_dropped_total{reason="queue-full"}', after), 2);
  assert.equal(after.get('junction_queued_messages'), 1);
  assert.equal(after.get('junction_queued_bytes'), 7);
  assert.equal(after.get('junction_retained_messages'), 1);
  assert.equal(after.get('junction_sessions'), 4);
  assert.equal(after.get('junction_sessions_online'), 3);
  assert.equal(after.get('junction_subscriptions'), 2);
  assert.equal(after.get('junction_inflight_messages'), 0);
  // Persistent-session and retained writes waited for LMDB commits.
  assert.ok(delta('junction_store_commit_duration_seconds_count', after) >= 1, 'commits were timed');
  assert.equal(after.get('junction_store_commit_duration_seconds_bucket{le="+Inf"}'), after.get('junction_store_commit_duration_seconds_count'));
  assert.ok((after.get('process_resident_memory_bytes') ?? 0) > 10_000_000);
  assert.ok((after.get('nodejs_heap_used_bytes') ?? 0) > 0);
  assert.ok(after.has('junction_event_loop_lag_seconds{quantile="0.99"}'));
  assert.equal(after.get('junction_info{version="0.1.0",node="junction@' + (await import('node:os')).hostname() + '"}'), 1);

  // A connection that closes folds its traffic into its protocol's totals: the counters never go down.
  stomp.destroy();
  await sleep(200);
  const closed = await scrape(a);
  assert.equal(closed.get('junction_client_messages_received_total{protocol="stomp"}'), after.get('junction_client_messages_received_total{protocol="stomp"}'));
  assert.equal(closed.get('junction_client_sent_bytes_total{protocol="stomp"}'), after.get('junction_client_sent_bytes_total{protocol="stomp"}'));
  assert.equal(closed.get('junction_disconnects_total{protocol="stomp",reason="connection-lost"}'), 1);
  assert.equal(closed.has('junction_connections{protocol="stomp",transport="tcp"}'), false);
});
