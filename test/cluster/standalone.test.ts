/**
 * A standalone node never loads the NATS client: following every static import from what
 * `junction start` loads (`import type` is erased; the cluster and the bridge backends are
 * loaded with dynamic imports only when --cluster or --bridge-config asks for them) reaches no
 * @nats-io package. And --cluster names the flag when a URL is not one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../bench/lib/repo.js';
import { clusterServers } from '../../src/cluster/flags.js';
import { ConfigError } from '../../src/errors.js';

/** The packages reached from `entry` through static value imports and re-exports, with one path to each. */
function staticPackages(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const walk = (file: string, trail: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const statements = /^(?:import|export)\s+(?!type\b)(?:[^;'"]*?\s+from\s+)?'([^']+)';/gm;
    for (const m of source.matchAll(statements)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')), [...trail, path.relative(repoRoot(), file)]);
      else if (!packages.has(spec)) packages.set(spec, [...trail, path.relative(repoRoot(), file)]);
    }
  };
  walk(entry, []);
  return packages;
}

test('nothing a standalone node imports statically loads NATS', () => {
  // What `junction start` loads (src/cli/main.ts imports it when the command is start).
  const packages = staticPackages(path.join(repoRoot(), 'src', 'cli', 'start.ts'));
  assert.ok(packages.has('node:net'), 'the walk follows the imports (it reaches node:net)');
  const nats = [...packages].filter(([spec]) => spec.startsWith('@nats-io/'));
  assert.deepEqual(
    nats.map(([spec, trail]) => `${spec} via ${trail.join(' > ')}`),
    [],
  );
});

test('--cluster takes NATS URLs and names itself when one is not', () => {
  const options = {
    clusterConnectTimeout: 10,
    clusterHeartbeat: 2,
    clusterReconnectMax: 10,
    clusterRetainedReplicas: 3,
    clusterTakeoverTimeout: 3,
    clusterAckTimeout: 5,
    clusterOutageBuffer: 10_000,
    clusterIngestPerTurn: 2000,
    clusterDurableQos: false,
    clusterJournalMaxAge: 86_400,
    clusterJournalMaxMb: 1024,
    clusterRedelivery: 10,
    clusterRouteWait: 2000,
  };
  assert.equal(clusterServers({ ...options, cluster: undefined }), null);
  assert.deepEqual(clusterServers({ ...options, cluster: 'nats://a:4222, b:4223,tls://c:4443' }), ['nats://a:4222', 'b:4223', 'tls://c:4443']);
  assert.throws(
    () => clusterServers({ ...options, cluster: 'http://a:4222' }),
    (err: Error) => err instanceof ConfigError && err.message.startsWith('--cluster: "http://a:4222"'),
  );
  assert.throws(() => clusterServers({ ...options, cluster: ' , ' }), /--cluster needs at least one NATS server URL/);
});
