/**
 * Floods against a live broker: a connection storm and a publish flood, each beside 4 established
 * publisher/subscriber pairs whose QoS 0 round-trip latency is measured (p50/p99) and compared
 * with a quiet baseline. Reports connects/s and how they were answered (0x00, 0x9F rate
 * limited, 0x89 busy...), publishes/s and the DISCONNECT reasons floods got.
 *
 * Run: npx tsc -p tsconfig.test.json && node build/bench/flood.js [--seconds 5] [--limits]
 * --limits starts the broker with --max-connection-rate 200 --max-publish-rate 2000.
 */
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { availableParallelism, setPriority } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, sleep, startBroker, type Broker, type MqttClient } from '../test/interop/harness.js';
import { pidOf, rssOf } from '../test/reliability/helpers.js';
import type { FloodJob, FloodResult } from './flood-worker.js';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 5) || 5;
const limits = args.includes('--limits');
const pin = process.argv.includes('--pin');

interface Probe {
  latencies: number[];
  stop: () => Promise<void>;
}

/** 4 publisher/subscriber pairs sending a timestamp every 5 ms; latencies in ms. */
async function startProbes(broker: Broker): Promise<Probe> {
  const latencies: number[] = [];
  let running = true;
  const loops: Promise<void>[] = [];
  const clients: MqttClient[] = [];
  for (let i = 0; i < 4; i++) {
    const sub = await connect(null, broker.url, { clientId: `probe-sub-${i}` });
    const pub = await connect(null, broker.url, { clientId: `probe-pub-${i}` });
    clients.push(sub, pub);
    await sub.subscribeAsync(`probe/${i}`, { qos: 0 });
    sub.on('message', (_t, payload) => latencies.push(performance.now() - payload.readDoubleLE(0)));
    loops.push(
      (async () => {
        const b = Buffer.alloc(8);
        while (running) {
          b.writeDoubleLE(performance.now(), 0);
          pub.publish(`probe/${i}`, Buffer.from(b), { qos: 0 });
          await sleep(5);
        }
      })(),
    );
  }
  return {
    latencies,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      for (const c of clients) c.end(true);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Latency percentiles of what the probes measured during `fn`. */
async function measure(probe: Probe, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number; n: number; extra: unknown }> {
  probe.latencies.length = 0;
  const extra = await fn();
  const sorted = [...probe.latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length, extra };
}

/**
 * Runs the load in child processes at the lowest CPU priority: on a machine with few cores the
 * load generator must not starve the latency probes, or the probes measure the generator.
 */
function runWorkers(job: FloodJob, threads: number): Promise<FloodResult> {
  const all = Array.from({ length: threads }, () =>
    new Promise<FloodResult>((resolve, reject) => {
      const child = fork(fileURLToPath(new URL('./flood-worker.js', import.meta.url)), [JSON.stringify(job)]);
      try {
        setPriority(child.pid!, 19);
      } catch {
        /* not permitted: run at normal priority */
      }
      child.once('message', (m) => resolve(m as FloodResult));
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`flood worker exited with ${code}`));
      });
    }),
  );
  return Promise.all(all).then((rs) => {
    const sum: FloodResult = { attempts: 0, outcomes: {}, publishes: 0, disconnects: {} };
    for (const r of rs) {
      sum.attempts += r.attempts;
      sum.publishes += r.publishes;
      for (const [k, v] of Object.entries(r.outcomes)) sum.outcomes[k] = (sum.outcomes[k] ?? 0) + v;
      for (const [k, v] of Object.entries(r.disconnects)) sum.disconnects[k] = (sum.disconnects[k] ?? 0) + v;
    }
    return sum;
  });
}

/**
 * --pin: the broker on core 0 and this process (probes and load) on the other cores, as
 * compare-peers does, so the load generator does not take the broker's core.
 */
function pinCores(brokerPid: number): void {
  const cores = availableParallelism();
  if (cores < 2) return;
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(brokerPid)], { stdio: 'ignore' });
  execFileSync('taskset', ['-a', '-p', '-c', `1-${cores - 1}`, String(process.pid)], { stdio: 'ignore' });
}

/** The broker's own event-loop lag p99 (ms) since the previous call, from its SIGUSR2 report. */
async function brokerLoopDelay(broker: Broker, pid: number): Promise<string> {
  const before = broker.logs.length;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 50 && broker.logs.length === before; i++) await sleep(20);
  const line = broker.logs.slice(before).find((l) => l['msg'] === 'memory') as { eventLoopLagMs?: { p99: number } } | undefined;
  return line?.eventLoopLagMs !== undefined ? line.eventLoopLagMs.p99.toFixed(1) : '?';
}

async function main(): Promise<void> {
  const brokerArgs = limits ? ['--max-connection-rate', '200', '--max-publish-rate', '2000'] : [];
  const broker = await startBroker({ args: brokerArgs });
  const pid = pidOf(broker);
  if (pin) pinCores(pid);
  const probe = await startProbes(broker);
  try {
    await sleep(500);
    await brokerLoopDelay(broker, pid); // resets the broker's histogram
    const quiet = await measure(probe, () => sleep(seconds * 1000));
    const rssQuiet = rssOf(pid);
    const loopQuiet = await brokerLoopDelay(broker, pid);
    const storm = await measure(probe, () => runWorkers({ mode: 'storm', port: broker.port, seconds, concurrency: 64, version: 5, payloadBytes: 0 }, 1));
    const rssStorm = rssOf(pid);
    const loopStorm = await brokerLoopDelay(broker, pid);
    const flood = await measure(probe, () => runWorkers({ mode: 'publish', port: broker.port, seconds, concurrency: 8, version: 5, payloadBytes: 64 }, 1));
    const rssFlood = rssOf(pid);
    const loopFlood = await brokerLoopDelay(broker, pid);
    const alive = broker.process.exitCode === null && broker.process.signalCode === null;
    const s = storm.extra as FloodResult;
    const f = flood.extra as FloodResult;
    const row = (name: string, m: { p50: number; p99: number; n: number }): string =>
      `${name.padEnd(16)} p50 ${m.p50.toFixed(2).padStart(7)} ms  p99 ${m.p99.toFixed(2).padStart(7)} ms  (${m.n} samples, p99 ${(m.p99 / quiet.p99).toFixed(2)}x quiet)`;
    console.log(`flood bench: ${seconds} s per phase, broker ${limits ? 'with' : 'without'} rate limits ${brokerArgs.join(' ')}`);
    console.log(row('quiet', quiet));
    console.log(row('connect storm', storm));
    console.log(`  ${s.attempts} attempts, ${Math.round(s.attempts / seconds)}/s; answers: ${JSON.stringify(s.outcomes)}`);
    console.log(row('publish flood', flood));
    console.log(`  ${f.publishes} PUBLISH written by 8 connections, ${Math.round(f.publishes / seconds)}/s; DISCONNECT reasons: ${JSON.stringify(f.disconnects)}`);
    console.log(`broker event-loop lag p99 (its own view, SIGUSR2 report): quiet ${loopQuiet} ms, storm ${loopStorm} ms, flood ${loopFlood} ms`);
    console.log(`broker RSS: quiet ${(rssQuiet / 1048576).toFixed(0)} MiB, after storm ${(rssStorm / 1048576).toFixed(0)} MiB, after flood ${(rssFlood / 1048576).toFixed(0)} MiB; still running: ${alive}`);
  } finally {
    await probe.stop();
    await broker.dispose();
  }
}

await main();
