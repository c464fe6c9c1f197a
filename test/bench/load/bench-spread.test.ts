/**
 * `junction bench` spreads its clients over several brokers (--ports, --hosts) and binds them to
 * several local addresses (--source-addresses), as a 100,000-connection run against the nodes of
 * a cluster needs: the kernel's view of the held connections (ss) must show the even spread the
 * JSON result reports.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brokerFor, run, waitFor } from '../../interop/harness.js';
import { parseBenchOptions } from '../../../bench/load/options.js';
import { placeClient, sourceAddressesOf, targetsOf } from '../../../bench/load/targets.js';
import type { BenchResult } from '../../../bench/load/report.js';

/**
 * Established connections to local port `port` from 127.0.0.2 and 127.0.0.3, counted per peer
 * address, and the peers' ports, as the kernel sees them. Other test files run beside this one,
 * and a client of theirs still reconnecting to a port this broker now has shows from 127.0.0.1:
 * not the bench's (the JSON result below says which sources it used).
 */
function peersOf(port: number): { peers: Map<string, number>; ports: number[] } {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const peers = new Map<string, number>();
  const ports: number[] = [];
  for (const line of out.split('\n')) {
    const peer = line.trim().split(/\s+/)[3];
    if (peer === undefined) continue;
    const address = peer.slice(0, peer.lastIndexOf(':'));
    if (address !== '127.0.0.2' && address !== '127.0.0.3') continue;
    peers.set(address, (peers.get(address) ?? 0) + 1);
    ports.push(Number(peer.slice(peer.lastIndexOf(':') + 1)));
  }
  return { peers, ports };
}

/** Local ports the test binds its clients to: below the ephemeral range, where test brokers listen. */
const PORT_BASE = 23_000;

test('300 connections over 2 ports and 2 source addresses land 75 per port and source pair from their own local ports, as the kernel and the JSON result both show', async (t) => {
  const a = await brokerFor(t, { args: ['--store', 'memory'] });
  const b = await brokerFor(t, { args: ['--store', 'memory'] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-bench-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'result.json');
  const args = ['dist/src/cli/main.js', 'bench', 'conn', '--ports', `${a.port},${b.port}`, '--source-addresses', '127.0.0.2,127.0.0.3'];
  args.push('--connections', '300', '--duration', '3', '--procs', '2', '--local-port-base', String(PORT_BASE), '--json', file);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  await waitFor(() => /conn holding:/.test(stderr), 30_000, `the bench holding its connections; stderr:\n${stderr}`);
  const held = [peersOf(a.port), peersOf(b.port)];
  for (const { peers, ports } of held) {
    assert.deepEqual(Object.fromEntries([...peers].sort()), { '127.0.0.2': 75, '127.0.0.3': 75 });
    // 150 clients per source address over 2 targets: ports base..base+149, each used once per source.
    assert.ok(
      ports.every((p) => p >= PORT_BASE && p < PORT_BASE + 150),
      `local ports outside ${PORT_BASE}..${PORT_BASE + 149}: ${ports.join(',')}`,
    );
  }
  const all = [...held[0]!.ports, ...held[1]!.ports];
  assert.equal(new Set(all).size, 150, 'each local port serves both source addresses, once each');
  assert.equal(await exited, 0, stderr);
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  assert.equal(result.connections.connected, 300);
  assert.deepEqual(result.connections.byTarget, { [`127.0.0.1:${a.port}`]: 150, [`127.0.0.1:${b.port}`]: 150 });
  assert.deepEqual(result.connections.bySource, { '127.0.0.2': 150, '127.0.0.3': 150 });
  // Memory per connection of the sampled broker (the first port's) divides by its 150, not by 300.
  const broker = result.broker!;
  assert.equal(broker.pid, a.process.pid);
  assert.equal(broker.bytesPerConnection, Math.round((broker.rssBytes! - broker.rssBeforeBytes!) / 150));
});

test('--subscribe-topic: every idle connection subscribes to one filter and a message published while they are held is counted once per connection', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-bench-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'result.json');
  const args = ['dist/src/cli/main.js', 'bench', 'conn', '--port', String(broker.port), '--subscribe-topic', 'demo/all', '--connections', '200', '--duration', '4', '--procs', '2'];
  const child = spawn(process.execPath, [...args, '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  await waitFor(() => /conn holding:/.test(stderr), 30_000, `the bench holding its connections; stderr:\n${stderr}`);
  const pub = await run('mosquitto_pub', ['-p', String(broker.port), '-t', 'demo/all', '-m', 'hi'], 10_000);
  assert.equal(pub.code, 0, pub.stderr);
  assert.equal(await exited, 0, stderr);
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  assert.equal(result.settings.subscribeTopic, 'demo/all');
  assert.equal(result.received.count, 200);
});

test('bad --ports, --hosts and --source-addresses are refused naming the flag; placement covers every target x source pair', () => {
  assert.throws(() => parseBenchOptions(['conn', '--ports', '1883,70000']), /--ports must list ports between 1 and 65535 \(got "70000"\)/);
  assert.throws(() => parseBenchOptions(['conn', '--hosts', 'a,,b']), /--hosts has an empty item/);
  assert.throws(() => parseBenchOptions(['conn', '--source-addresses', '127.0.0.9-127.0.0.2']), /range "127.0.0.9-127.0.0.2" ends before it starts/);
  assert.throws(() => parseBenchOptions(['conn', '--source-addresses', '127.0.0.x']), /"127.0.0.x" is not an IPv4 address/);
  assert.throws(() => parseBenchOptions(['fanin', '--subscribe-topic', 'a']), /--subscribe-topic applies to the conn scenario only/);
  assert.throws(() => parseBenchOptions(['conn', '--connections', '100000', '--source-addresses', '127.0.0.2,127.0.0.3', '--local-port-base', '20000']), /need local ports up to 70000, past 65535/);
  const o = parseBenchOptions(['conn', '--hosts', '127.0.0.1,127.0.0.1', '--ports', '1,2,3', '--source-addresses', '127.0.0.2-127.0.0.9']);
  const targets = targetsOf(o);
  const sources = sourceAddressesOf(o.sourceAddresses, targets);
  assert.equal(targets.length, 6);
  assert.deepEqual(sources, ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9']);
  // 6 targets x 8 sources share a divisor: still every pair gets used, equally.
  const pairs = new Map<string, number>();
  for (let i = 0; i < 6 * 8 * 10; i++) {
    const { target, source } = placeClient(i, i, targets, sources, 0);
    const key = `${source}>${targets.indexOf(target)}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
  }
  assert.equal(pairs.size, 48);
  assert.ok([...pairs.values()].every((n) => n === 10));
  // With a port base no two clients of one source address share a local port.
  const bound = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const { source, localPort } = placeClient(i % 7, i, targets, sources, 10_000);
    bound.add(`${source}:${localPort}`);
    assert.ok(localPort !== undefined && localPort >= 10_000 && localPort < 10_000 + Math.ceil(1000 / 48) * 6);
  }
  assert.equal(bound.size, 1000);
  // The old count form keeps its meaning: 127.0.0.1..N on loopback, the kernel's choice elsewhere.
  assert.deepEqual(sourceAddressesOf('3', [{ host: '127.0.0.1', port: 1883 }]), ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  assert.deepEqual(sourceAddressesOf('3', [{ host: '10.0.0.1', port: 1883 }]), []);
});
