/** `junction ctl` against a broker process: tables, --json, kicks, bans, retained, publish, reload, and its errors. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { IDisconnectPacket } from 'mqtt';
import { junctionCli } from '../../bench/lib/repo.js';
import { collect, connect, freePort, run, type RunResult } from '../interop/harness.js';
import { adminBroker, type AdminBroker } from './admin-broker.js';

function ctl(a: AdminBroker, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, [junctionCli(), 'ctl', '--url', a.base, '--token-file', a.tokenFile, ...args], 10_000);
}

test('junction ctl lists, shows and kicks clients, as a table or JSON', async (t) => {
  const a = await adminBroker(t);
  const client = await connect(t, a.broker.url, { clientId: 'ctl-dev-1', username: 'u1', protocolVersion: 5 });
  const kicked = new Promise<IDisconnectPacket>((resolve) => client.once('disconnect', resolve));

  const list = await ctl(a, 'clients', 'list');
  assert.equal(list.code, 0, list.stderr);
  const [header, row] = list.stdout.trim().split('\n');
  assert.match(header!, /^clientId\s+username\s+protocol\s+protocolVersion\s+transport\s+address/);
  assert.match(row!, /^ctl-dev-1\s+u1\s+mqtt\s+5\s+tcp\s+127\.0\.0\.1/);
  const json = await ctl(a, '--json', 'clients', 'list', '--username', 'u1');
  assert.equal((JSON.parse(json.stdout) as { meta: { count: number } }).meta.count, 1);
  const none = await ctl(a, 'clients', 'list', '--protocol', 'stomp');
  assert.equal(none.stdout.trim(), '(none)');
  const show = await ctl(a, 'clients', 'show', 'ctl-dev-1');
  assert.match(show.stdout, /^protocolVersion\s+5$/m);
  const kick = await ctl(a, 'clients', 'kick', 'ctl-dev-1');
  assert.equal(kick.code, 0, kick.stderr);
  assert.equal(kick.stdout.trim(), 'kicked ctl-dev-1');
  assert.equal((await kicked).reasonCode, 0x98);
  const again = await ctl(a, 'clients', 'kick', 'ctl-dev-1');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^junction ctl: 404 NOT_FOUND: no client connected with client id ctl-dev-1/);
});

test('junction ctl publishes, browses and deletes retained messages, bans, lists sessions, stats and reloads', async (t) => {
  const a = await adminBroker(t);
  const sub = await connect(t, a.broker.url, { clientId: 'ctl-sub', protocolVersion: 5 });
  await new Promise<void>((resolve, reject) => sub.subscribe('cmd/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const got = collect(sub, 1);
  const pub = await ctl(a, 'publish', 'cmd/door', 'open', '--qos', '1', '--retain');
  assert.equal(pub.code, 0, pub.stderr);
  assert.equal(pub.stdout.trim(), 'published to cmd/door: 1 delivery(ies)');
  const [m] = await got;
  assert.equal(m!.payload.toString(), 'open');
  assert.equal(m!.packet.qos, 1);

  const retained = await ctl(a, 'retained', 'list', 'cmd/+');
  assert.match(retained.stdout, /^cmd\/door\s+1\s+4\s+open$/m);
  assert.match((await ctl(a, 'retained', 'show', 'cmd/door')).stdout, /^payload\s+open$/m);
  assert.equal((await ctl(a, 'retained', 'delete', 'cmd/door')).code, 0);
  assert.equal((await ctl(a, 'retained', 'list')).stdout.trim(), '(none)');
  const badFilter = await ctl(a, 'retained', 'list', 'a/#/b');
  assert.equal(badFilter.code, 1);
  assert.match(badFilter.stderr, /400 BAD_PARAMETER: topic: not a valid topic filter/);

  const ban = await ctl(a, 'bans', 'add', 'clientid', 'ctl-sub', '--seconds', '60', '--reason', 'maintenance');
  assert.equal(ban.stdout.trim(), 'banned clientid ctl-sub; 1 connected client(s) kicked');
  assert.match((await ctl(a, 'bans', 'list')).stdout, /^clientid\s+ctl-sub\s+maintenance\s+\S+Z\s+\S+Z$/m);
  assert.equal((await ctl(a, 'bans', 'remove', 'clientid', 'ctl-sub')).stdout.trim(), 'ban lifted');
  const badBan = await ctl(a, 'bans', 'add', 'ip', 'x');
  assert.match(badBan.stderr, /400 BAD_PARAMETER: as: must be one of clientid, username, address/);

  // The kicked client's session ended with its connection (it was not persistent).
  assert.equal((await ctl(a, 'sessions', 'list')).stdout.trim(), '(none)');
  const stats = await ctl(a, '--json', 'stats');
  assert.equal((JSON.parse(stats.stdout) as { retained: number }).retained, 0);
  assert.match((await ctl(a, 'nodes')).stdout, /^junction@\S+\s+0\.1\.0\s+running/m);
  const reload = await ctl(a, 'reload');
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stdout, /^reloaded\n/);
});

test('junction ctl says what is wrong: no token file, a wrong token, no broker, an unknown command', async (t) => {
  const a = await adminBroker(t);
  const wrong = path.join(a.dir, 'wrong.token');
  writeFileSync(wrong, 'not-the-token-at-all\n');
  const unauthorised = await run(process.execPath, [junctionCli(), 'ctl', '--url', a.base, '--token-file', wrong, 'stats'], 10_000);
  assert.equal(unauthorised.code, 1);
  assert.match(unauthorised.stderr, /401 UNAUTHORIZED/);
  const noFile = await run(process.execPath, [junctionCli(), 'ctl', '--url', a.base, '--token-file', path.join(a.dir, 'none'), 'stats'], 10_000);
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /cannot read --token-file .*none/);
  const port = await freePort();
  const nobody = await run(process.execPath, [junctionCli(), 'ctl', '--url', `http://127.0.0.1:${port}`, '--token-file', a.tokenFile, 'stats'], 10_000);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /cannot reach the admin API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  const unknown = await ctl(a, 'clients', 'explode');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "clients explode"/);
  const help = await run(process.execPath, [junctionCli(), 'ctl', '--help'], 10_000);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: junction ctl/);
});
