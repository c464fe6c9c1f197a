/**
 * --presence: a retained online/offline status per client, so a subscriber that comes later
 * learns who is online; a refused login with a connected client's id does not mark it offline;
 * statuses a killed broker left online are set offline at the next start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hashPassword } from '../../src/security/password-hash.js';
import { brokerFor, connect, gather, sleep, type Broker, type TestContext } from '../interop/harness.js';

let watchers = 0;

/** The retained presence statuses a fresh subscriber gets, by client id (the subscriber's own left out). */
async function statuses(t: TestContext, broker: Broker): Promise<Map<string, Record<string, unknown>>> {
  const self = `watcher-${++watchers}`;
  const late = await connect(t, broker.url, { clientId: self, protocolVersion: 5 });
  const got = gather(late, 500);
  late.subscribe('$SYS/brokers/p1/presence/+');
  const out = new Map<string, Record<string, unknown>>();
  for (const m of await got) {
    assert.equal(m.packet.retain, true, 'a status is retained');
    const body = JSON.parse(m.payload.toString()) as Record<string, unknown>;
    if (body['clientId'] !== self) out.set(String(body['clientId']), body);
  }
  return out;
}

test('--presence: a late subscriber learns who is online and who left; a refused login with the same id changes nothing', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-presence-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'passwd'), `alice:${await hashPassword('secret')}\n`);
  const broker = await brokerFor(t, { args: ['--presence', '--node-name', 'p1', '--password-file', path.join(dir, 'passwd'), '--allow-anonymous'] });
  await connect(t, broker.url, { clientId: 'dev/1', protocolVersion: 5 });
  const leaving = await connect(null, broker.url, { clientId: 'dev-2', protocolVersion: 4 });
  await new Promise<void>((resolve) => leaving.end(false, {}, () => resolve()));
  await assert.rejects(connect(null, broker.url, { clientId: 'dev/1', username: 'alice', password: 'wrong', protocolVersion: 5 }));
  await sleep(100);

  const now = await statuses(t, broker);
  assert.equal(now.get('dev/1')?.['online'], true, JSON.stringify([...now]));
  assert.equal(now.get('dev/1')?.['protocol'], 'mqtt');
  assert.equal(now.get('dev-2')?.['online'], false);
  assert.equal(now.get('dev-2')?.['reason'], 'normal');
  assert.equal(now.size, 2);
});

test('--presence: statuses a killed broker left online read offline after the restart', async (t) => {
  const broker = await brokerFor(t, { args: ['--presence', '--node-name', 'p1'] });
  await connect(null, broker.url, { clientId: 'crash-1', protocolVersion: 5 });
  await sleep(300); // the status is written on the next tick and committed to the store
  await broker.kill9();
  await broker.restart();
  const after = await statuses(t, broker);
  assert.equal(after.get('crash-1')?.['online'], false, JSON.stringify([...after]));
  assert.equal(after.get('crash-1')?.['reason'], 'restart');
});
