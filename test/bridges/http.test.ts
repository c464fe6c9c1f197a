/**
 * The HTTP bridge against a local receiver: batches as JSON with an HMAC-SHA256 signature,
 * 503 answers and timeouts retried with backoff (nothing lost, order kept), a 413 refuses one
 * record for good and sends it to the dead-letter target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, waitFor } from '../interop/harness.js';
import { bridgedBroker, bridgeStats, forwardCount } from './helpers.js';

interface Posted {
  signatureOk: boolean;
  records: Array<{ to: string; key: string | null; headers: Record<string, string>; value: string }>;
}

/** A receiver answering each POST with `answer(body)`'s status (or never, for null). */
async function receiver(
  t: Parameters<typeof bridgedBroker>[0],
  secret: string,
  answer: (posted: Posted, n: number) => number | null,
): Promise<{ url: string; accepted: Posted[]; requests: () => number }> {
  const accepted: Posted[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const sig = String(req.headers['x-junction-signature'] ?? '');
      const m = /^t=(\d+),sha256=([0-9a-f]{64})$/.exec(sig);
      const expected = m === null ? '' : createHmac('sha256', secret).update(`${m[1]}.${body}`).digest('hex');
      const posted: Posted = { signatureOk: m !== null && m[2] === expected, ...(JSON.parse(body) as { records: Posted['records'] }) };
      const status = answer(posted, requests++);
      if (status === null) return; // never answers: the bridge's timeout must fire
      if (status === 200) accepted.push(posted);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.after(() => server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, accepted, requests: () => requests };
}

test('HTTP: batches signed with HMAC-SHA256; 503 and timeouts retried in order until accepted', async (t) => {
  const secret = 's3cret-key';
  const rx = await receiver(t, secret, (_p, n) => (n === 0 ? 503 : n === 1 ? null : 200));
  const broker = await bridgedBroker(t, [{ name: 'hook', type: 'http', url: rx.url, secret, timeout: 300, forward: [{ from: 'alarms/#', to: '${topic}', key: '${clientid}' }] }]);
  const pub = await connect(t, broker.url, { clientId: 'panel', protocolVersion: 5 });
  for (let i = 0; i < 20; i++) await pub.publishAsync(`alarms/${i}`, `alarm ${i}`, { qos: 1, properties: { userProperties: { zone: 'z1' } } });
  await waitFor(() => rx.accepted.reduce((n, p) => n + p.records.length, 0) >= 20, 15_000, '20 records accepted by the receiver');
  assert.ok(rx.requests() >= 3, 'a 503 and a timeout came before the first accepted POST');
  assert.ok(
    rx.accepted.every((p) => p.signatureOk),
    'every POST carries a valid signature',
  );
  assert.ok(rx.accepted.length < 20, `records travel in batches (${rx.accepted.length} POSTs for 20 records)`);
  const records = rx.accepted.flatMap((p) => p.records);
  assert.deepEqual(
    records.map((r) => Buffer.from(r.value, 'base64').toString()),
    Array.from({ length: 20 }, (_, i) => `alarm ${i}`),
  );
  assert.deepEqual([records[0]!.to, records[0]!.key, records[0]!.headers], ['alarms/0', 'panel', { zone: 'z1' }]);
  assert.ok(!broker.logs.some((l) => JSON.stringify(l).includes(secret)), 'the secret never reaches the log');
  await bridgeStats(broker, 'hook', (l) => forwardCount(l, 0, 'forwarded') === 20 && forwardCount(l, 0, 'buffered') === 0);
});

test('HTTP: a record the receiver refuses (413) is counted and dead-lettered; the others go through', async (t) => {
  const rx = await receiver(t, 'k', (p) => (p.records.some((r) => r.to === 'big') ? 413 : 200));
  const broker = await bridgedBroker(t, [{ name: 'hook', type: 'http', url: rx.url, secret: 'k', forward: [{ from: 'up/#', to: '${topic[1]}', deadLetter: 'dead-letters' }] }]);
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await Promise.all(['small', 'big', 'tiny'].map((level) => pub.publishAsync(`up/${level}`, level, { qos: 1 })));
  const stats = await bridgeStats(broker, 'hook', (l) => forwardCount(l, 0, 'deadLettered') === 1);
  assert.equal(forwardCount(stats, 0, 'failed'), 1);
  assert.equal(forwardCount(stats, 0, 'forwarded'), 2);
  const records = rx.accepted.flatMap((p) => p.records);
  // The dead letter takes the refused record's place in the order.
  assert.deepEqual(
    records.map((r) => r.to),
    ['small', 'dead-letters', 'tiny'],
  );
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'bridge backend refused a record' && String(l['reason']).startsWith('HTTP 413')), 5000, 'the log line');
});
