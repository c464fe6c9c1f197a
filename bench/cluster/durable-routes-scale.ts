/**
 * What the durable routes (src/cluster/durable-routes.ts) cost a node at fleet scale: every node
 * holds every persistent session's QoS 1/2 filter, so N devices with one such subscription each
 * are N routes on each node. Writes N route records into a JetStream on a fresh nats-server (one
 * per device, `devices/<i>/cmd/#`, as a subscribing node would), then starts a DurableRoutes as a
 * node does and reports how long its first load took, its heap and resident memory per route
 * after a GC, and the cost of one publish's question (wants) on a topic it has not been asked about.
 *
 *   node --expose-gc dist/bench/cluster/durable-routes-scale.js --routes 1000000
 */
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { DURABLE_PREFIX, DurableRoutes } from '../../src/cluster/durable-routes.js';
import type { TopicMatcher } from '../../src/core/router.js';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { Logger, LogRateLimit } from '../../src/log/logger.js';
import { loadNative } from '../../src/native/binding.js';
import { NativeTopicTrie } from '../../src/native/topic-trie.js';
import { ServiceProcess } from '../lib/backend-services.js';
import { parseToolArgs } from '../lib/tool-cli.js';

const SPEC = {
  command: 'node --expose-gc dist/bench/cluster/durable-routes-scale.js',
  about: [
    'Durable routes at fleet scale: N route records in JetStream (one persistent QoS 1 subscription per device), then one node loading them.',
    'Prints one JSON line: write rate, load time, heap per route after a GC, and the time of an uncached wants() (one per QoS 1/2 publish on a new topic).',
  ],
  flags: [
    { group: 'Flags', name: 'routes', key: 'routes', kind: 'int' as const, default: 1_000_000, min: 1, valueName: 'N', help: 'route records to write and load' },
    { group: 'Flags', name: 'matcher', key: 'matcher', kind: 'enum' as const, values: ['native', 'ts'], default: 'native', help: "the routes' trie (a node uses the native one)" },
    { group: 'Flags', name: 'in-flight', key: 'inFlight', kind: 'int' as const, default: 2000, min: 1, valueName: 'N', help: 'JetStream publishes awaiting their ack while writing' },
  ],
};

const { routes: n, inFlight, matcher } = parseToolArgs<{ routes: number; inFlight: number; matcher: string }>(SPEC).values;
const newMatcher = (): TopicMatcher => (matcher === 'ts' ? new TopicTrie({ cacheSize: 0 }) : new NativeTopicTrie(loadNative('on')!, { cacheSize: 0 }));
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('durable-routes-scale: run with node --expose-gc (heap per route is read after a GC)');
  process.exit(2);
}
const progress = (what: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} durable-routes-scale: ${what}\n`);

const nats = await ServiceProcess.nats();
const nc = await connect({ servers: `127.0.0.1:${nats.port}` });
try {
  const log = new Logger({ level: 'warn' });
  // The stream is made by a first node (no routes yet), as in a running cluster.
  const first = new DurableRoutes('bench', 1, newMatcher(), log, new LogRateLimit(1));
  first.up(nc, true);
  while (!first.ready) await new Promise((resolve) => setTimeout(resolve, 50));
  first.close();

  const js = jetstream(nc);
  const name = (i: number): string => `jq_${i.toString(36).padStart(32, '0')}`;
  let t0 = performance.now();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    // A failed write rejects the race (or the final all) below: the run stops with its error.
    const p: Promise<unknown> = js.publish(DURABLE_PREFIX + name(i), Buffer.from(`devices/${i}/cmd/#`)).then(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= inFlight) await Promise.race(pending);
    if ((i + 1) % 100_000 === 0) progress(`${i + 1} of ${n} routes written`);
  }
  await Promise.all(pending);
  const writeSeconds = (performance.now() - t0) / 1000;

  gc();
  const before = process.memoryUsage();
  const node = new DurableRoutes('bench', 1, newMatcher(), log, new LogRateLimit(1));
  t0 = performance.now();
  node.up(nc, true);
  while (!node.ready) await new Promise((resolve) => setTimeout(resolve, 20));
  const loadSeconds = (performance.now() - t0) / 1000;
  if (node.size !== n) throw new Error(`loaded ${node.size} filters, expected ${n}`);
  gc();
  const after = process.memoryUsage();
  const heapPerRoute = (after.heapUsed - before.heapUsed) / n;
  // The native trie lives outside V8's heap: the process's resident growth counts it.
  const rssPerRoute = (after.rss - before.rss) / n;

  // Topics none of the 10,000-entry answer cache holds: each a trie walk.
  const asks = 200_000;
  let yes = 0;
  t0 = performance.now();
  for (let i = 0; i < asks; i++) if (node.wants(`devices/${(i * 7919) % n}/cmd/reboot`)) yes++;
  const wantsMicros = ((performance.now() - t0) * 1000) / asks;
  if (yes !== asks) throw new Error(`${asks - yes} topics of a route not wanted`);
  node.close();
  console.log(
    JSON.stringify({
      routes: n,
      writesPerSecond: Math.round(n / writeSeconds),
      loadSeconds: Number(loadSeconds.toFixed(2)),
      loadPerSecond: Math.round(n / loadSeconds),
      matcher,
      heapBytesPerRoute: Math.round(heapPerRoute),
      rssBytesPerRoute: Math.round(rssPerRoute),
      wantsMicrosUncached: Number(wantsMicros.toFixed(2)),
    }),
  );
} finally {
  await nc.close();
  await nats.stop();
}
