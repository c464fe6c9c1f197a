/**
 * Floods against a live broker: a connection storm and a publish flood, each beside 4 established
 * publisher/subscriber pairs whose QoS 0 round-trip latency is measured (p50/p99) and compared
 * with a quiet baseline. Reports connects/s and how they were answered (0x00, 0x9F rate
 * limited, 0x89 busy...), publishes/s and the DISCONNECT reasons floods got. Flags: FLOOD below
 * (node dist/bench/scenarios/flood.js --help).
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import type { FlagDef } from '../../src/config/flags.js';
import { rssOf, stealMs } from '../load/proc-stats.js';
import { startJunction, type BrokerProcess, type LogLine } from '../lib/broker-process.js';
import { repoRoot } from '../lib/repo.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';
import { jobArgs, type FloodJob, type FloodResult } from './flood-job.js';

interface FloodOptions {
  seconds: number;
  rounds: number;
  limits: boolean;
  acceptRate: number;
  pin: boolean;
  control: boolean;
  stormConcurrency: number;
  reconnectDelayMs: number;
  idle: number;
}

const FLAGS: readonly FlagDef<keyof FloodOptions>[] = [
  { group: 'Run', name: 'seconds', key: 'seconds', kind: 'int', default: 5, min: 1, max: 3600, valueName: 'SECONDS', help: 'length of each phase' },
  { group: 'Run', name: 'rounds', key: 'rounds', kind: 'int', default: 3, min: 1, max: 100, help: 'rounds of quiet, storm and flood phases; the pooled p99 of each phase is the figure' },
  {
    group: 'Broker',
    name: 'limits',
    key: 'limits',
    kind: 'bool',
    default: false,
    help: 'start the broker with --max-connection-rate 200 --max-publish-rate 2000 --publish-quota-strikes 3 --max-accept-rate (--accept-rate)',
  },
  { group: 'Broker', name: 'accept-rate', key: 'acceptRate', kind: 'int', default: 1000, min: 1, max: 1_000_000, valueName: 'CONN/S', help: "the broker's --max-accept-rate with --limits" },
  {
    group: 'Broker',
    name: 'pin',
    key: 'pin',
    kind: 'bool',
    default: false,
    help: 'put the broker(s) on core 0 and this process on the others; the brokers start with --single-threaded-gc on, as a broker started on one core does by itself',
  },
  {
    group: 'Broker',
    name: 'control',
    key: 'control',
    kind: 'bool',
    default: false,
    help: "add a storm and a flood against a second broker on the same core (the machine's share of the probes' latency)",
  },
  {
    group: 'Load',
    name: 'idle',
    key: 'idle',
    kind: 'int',
    default: 0,
    min: 0,
    max: 1_000_000,
    help: 'connections held open through every phase (tools/connstorm; make test-tools builds it), so storms meet a broker that holds a fleet',
  },
  { group: 'Load', name: 'storm-concurrency', key: 'stormConcurrency', kind: 'int', default: 64, min: 1, max: 10_000, help: 'connections the storm keeps in flight' },
  {
    group: 'Load',
    name: 'reconnect-delay',
    key: 'reconnectDelayMs',
    kind: 'int',
    default: 1000,
    min: 0,
    max: 60_000,
    valueName: 'MS',
    help: 'flooding publishers wait this long after a disconnect (as MQTT.js)',
  },
];

const FLOOD: ToolSpec = {
  command: 'node dist/bench/scenarios/flood.js',
  about: [
    'Floods a Junction broker (started from dist/) with a connection storm and a publish flood, each beside 4 publisher/subscriber pairs whose QoS 0 round-trip latency is compared with a quiet baseline. Rounds alternate quiet, storm and flood phases.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/flood.js --limits --pin --control'],
};

const o = parseToolArgs<FloodOptions>(FLOOD).values;
const { seconds, rounds, control } = o;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Probe {
  latencies: number[];
  stop: () => Promise<void>;
}

/** 4 publisher/subscriber pairs sending a timestamp every 5 ms; latencies in ms. */
async function startProbes(broker: BrokerProcess): Promise<Probe> {
  const latencies: number[] = [];
  let running = true;
  const loops: Promise<void>[] = [];
  const clients: MqttClient[] = [];
  for (let i = 0; i < 4; i++) {
    const sub = await mqtt.connectAsync(broker.url, { clientId: `probe-sub-${i}`, reconnectPeriod: 0 });
    const pub = await mqtt.connectAsync(broker.url, { clientId: `probe-pub-${i}`, reconnectPeriod: 0 });
    clients.push(sub, pub);
    // A probe that loses its connection shows up as missing samples, not as a crash.
    for (const client of [sub, pub]) client.on('error', () => {});
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

/** What the probes measured during one phase: latencies and this process's own loop lag. */
interface PhaseSample {
  latencies: number[];
  probeLagP99: number;
  probeLagMax: number;
  /** Milliseconds per second the hypervisor took from the broker's core (--pin), NaN unpinned. */
  brokerSteal: number;
  extra: FloodResult | null;
}

/** Runs `fn` while the probes measure; also samples this process's event-loop lag (the probes' side). */
async function measure(probe: Probe, fn: () => Promise<FloodResult | null>, brokerCore: number | null): Promise<PhaseSample> {
  probe.latencies.length = 0;
  const lag = monitorEventLoopDelay({ resolution: 1 });
  const [steal0, t0] = [brokerCore === null ? NaN : stealMs(brokerCore), performance.now()];
  lag.enable();
  const extra = await fn();
  lag.disable();
  const brokerSteal = brokerCore === null ? NaN : ((stealMs(brokerCore) - steal0) * 1000) / (performance.now() - t0);
  return { latencies: [...probe.latencies], probeLagP99: lag.percentile(99) / 1e6, probeLagMax: lag.max / 1e6, brokerSteal, extra };
}

/** Steal (ms/s) under which a phase counts as calm: a 5 ms descheduling per second is already a p99 sample. */
const CALM_STEAL_MS = 5;

/**
 * The pooled ratios again over the rounds in which the hypervisor took under CALM_STEAL_MS per
 * second from the broker's core in every phase: on a shared virtual machine a busy core is
 * descheduled for tens of ms at a time, which is the machine's latency, not the broker's. Both
 * figures are printed; this one is not a substitute for the other.
 */
function calmRounds(samples: Map<Phase, PhaseSample[]>, rounds: number): void {
  const calm: number[] = [];
  for (let r = 0; r < rounds; r++) if (PHASES.every((p) => samples.get(p)![r]!.brokerSteal < CALM_STEAL_MS)) calm.push(r + 1);
  if (calm.length === 0) {
    console.log(`no round had under ${CALM_STEAL_MS} ms/s of steal on the broker's core in every phase`);
    return;
  }
  const pooled = (p: Phase): number => summary(calm.flatMap((r) => samples.get(p)![r - 1]!.latencies)).p99;
  const quiet = pooled('quiet');
  const ratios = PHASES.filter((p) => p !== 'quiet').map((p) => `${p} p99 ${pooled(p).toFixed(2)} ms (${(pooled(p) / quiet).toFixed(2)}x)`);
  console.log(`rounds with under ${CALM_STEAL_MS} ms/s of steal on the broker's core in every phase (${calm.join(', ')} of ${rounds}): quiet p99 ${quiet.toFixed(2)} ms, ${ratios.join(', ')}`);
}

function summary(latencies: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

/**
 * Runs the load in child processes at the lowest CPU priority: on a machine with few cores the
 * load generator must not starve the latency probes, or the probes measure the generator.
 */
function runWorkers(job: FloodJob, threads: number): Promise<FloodResult> {
  const all = Array.from(
    { length: threads },
    () =>
      new Promise<FloodResult>((resolve, reject) => {
        const child = fork(fileURLToPath(new URL('./flood-worker.js', import.meta.url)), jobArgs(job));
        try {
          setPriority(child.pid!, 19);
          // SCHED_IDLE: runs only on a core nothing else wants (Linux; chrt from util-linux).
          execFileSync('chrt', ['--idle', '-p', '0', String(child.pid)], { stdio: 'ignore' });
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
    for (const r of rs) mergeResult(sum, r);
    return sum;
  });
}

/** Adds `r`'s counts into `sum`. */
function mergeResult(sum: FloodResult, r: FloodResult): void {
  sum.attempts += r.attempts;
  sum.publishes += r.publishes;
  for (const [k, v] of Object.entries(r.outcomes)) sum.outcomes[k] = (sum.outcomes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(r.disconnects)) sum.disconnects[k] = (sum.disconnects[k] ?? 0) + v;
}

/**
 * --pin: the brokers on core 0 and this process (probes and load) on the other cores, as
 * compare-peers does, so the load generator does not take the broker's core.
 */
function pinCores(brokerPids: number[]): void {
  const cores = availableParallelism();
  if (cores < 2) return;
  for (const pid of brokerPids) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
  execFileSync('taskset', ['-a', '-p', '-c', `1-${cores - 1}`, String(process.pid)], { stdio: 'ignore' });
}

/** The broker's SIGUSR2 report (the "memory" log line), or undefined when none came within 1 s. */
async function memoryReport(broker: BrokerProcess, pid: number): Promise<LogLine | undefined> {
  const before = broker.logs.length;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 50 && broker.logs.length === before; i++) await sleep(20);
  return broker.logs.slice(before).find((l) => l['msg'] === 'memory');
}

/** The broker's own event-loop lag p99 (ms) since the previous call, from its SIGUSR2 report. */
async function brokerLoopDelay(broker: BrokerProcess, pid: number): Promise<string> {
  const line = (await memoryReport(broker, pid)) as { eventLoopLagMs?: { p99: number; max: number } } | undefined;
  const lag = line?.eventLoopLagMs;
  return lag !== undefined ? `${lag.p99.toFixed(1)} (max ${lag.max.toFixed(0)})` : '?';
}

/** The broker's online count from its SIGUSR2 report. */
async function brokerOnline(broker: BrokerProcess, pid: number): Promise<number> {
  const online = (await memoryReport(broker, pid))?.['online'];
  return typeof online === 'number' ? online : -1;
}

/** --idle: connstorm opens `count` connections and holds them; resolves once the broker has them online. */
async function holdIdle(broker: BrokerProcess, pid: number, count: number): Promise<ChildProcess> {
  const bin = `${repoRoot()}/tools/connstorm/connstorm`;
  if (!existsSync(bin)) throw new Error(`--idle needs ${bin}: build it with "make test-tools"`);
  // From other loopback addresses: the storm's clients on 127.0.0.1 keep its ephemeral ports
  // (with most of them held, the kernel's port search for each connect slowed the storm 7x).
  const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].join(',');
  const args = ['--port', String(broker.port), '--connections', String(count), '--hold', '86400', '--concurrency', '64', '--source-addresses', sources];
  const child = spawn(bin, args, { stdio: 'ignore' });
  const until = Date.now() + 120_000;
  for (;;) {
    const online = await brokerOnline(broker, pid);
    if (online >= count) return child;
    if (child.exitCode !== null || Date.now() > until) {
      child.kill();
      throw new Error(`--idle ${count}: the broker has ${online} connections online; connstorm ${child.exitCode !== null ? `exited (${child.exitCode})` : 'timed out'}`);
    }
    process.stdout.write(`holding ${count} idle connections: ${online} online\r`);
    await sleep(500);
  }
}

const ALL_PHASES = ['quiet', 'connect storm', 'publish flood', 'storm elsewhere', 'flood elsewhere'] as const;
type Phase = (typeof ALL_PHASES)[number];
/**
 * --control adds the same storm and flood aimed at a second broker process on the same core,
 * so the probes' broker is untouched: what the probes lose then is the machine's share (the
 * generator and the other process on two shared cores), not the broker's.
 */
const PHASES: readonly Phase[] = control ? ALL_PHASES : ALL_PHASES.slice(0, 3);

async function runPhase(phase: Phase, broker: BrokerProcess, other: BrokerProcess | null, phaseSeconds = seconds): Promise<FloodResult | null> {
  if (phase === 'quiet') {
    await sleep(phaseSeconds * 1000);
    return null;
  }
  const elsewhere = phase === 'storm elsewhere' || phase === 'flood elsewhere';
  const port = elsewhere ? other!.port : broker.port;
  if (phase === 'connect storm' || phase === 'storm elsewhere')
    return runWorkers({ mode: 'storm', port, seconds: phaseSeconds, concurrency: o.stormConcurrency, version: 5, payloadBytes: 0, reconnectDelayMs: 0 }, 1);
  return runWorkers({ mode: 'publish', port, seconds: phaseSeconds, concurrency: 8, version: 5, payloadBytes: 64, reconnectDelayMs: o.reconnectDelayMs }, 1);
}

async function main(): Promise<void> {
  const brokerArgs = o.limits ? ['--max-connection-rate', '200', '--max-publish-rate', '2000', '--publish-quota-strikes', '3', '--max-accept-rate', String(o.acceptRate)] : [];
  // Pinned after it starts, a broker would not see its one core (--single-threaded-gc auto): as if started on it.
  if (o.pin) brokerArgs.push('--single-threaded-gc', 'on');
  const broker = await startJunction({ args: brokerArgs });
  const pid = broker.process.pid!;
  const other = control ? await startJunction({ args: brokerArgs }) : null;
  if (o.pin) pinCores(other === null ? [pid] : [pid, other.process.pid!]);
  let idle: ChildProcess | null = null;
  let probe: Probe;
  try {
    idle = o.idle > 0 ? await holdIdle(broker, pid, o.idle) : null;
    if (idle !== null) console.log(`holding ${o.idle} idle connections through every phase`);
    probe = await startProbes(broker);
  } catch (err) {
    // The brokers are child processes: without this they would outlive a failed start.
    idle?.kill();
    await broker.dispose();
    await other?.dispose();
    throw err;
  }
  const samples = new Map<Phase, PhaseSample[]>(PHASES.map((p) => [p, []]));
  const brokerLag = new Map<Phase, string[]>(PHASES.map((p) => [p, []]));
  const rss = new Map<Phase, number>();
  console.log(`flood bench: ${rounds} rounds of ${PHASES.join(', ')}, ${seconds} s each; broker ${o.limits ? 'with' : 'without'} rate limits ${brokerArgs.join(' ')}`);
  try {
    // Warm-up, not measured: the broker's storm and flood paths get compiled before round 1.
    await runPhase('connect storm', broker, other, 2);
    await runPhase('publish flood', broker, other, 2);
    await sleep(500);
    await brokerLoopDelay(broker, pid); // resets the broker's histogram
    for (let round = 1; round <= rounds; round++) {
      // Quiet, storm and flood alternate so the machine's drift (other tenants) hits all alike.
      const line: string[] = [];
      let quietP99 = NaN;
      for (const phase of PHASES) {
        const sample = await measure(probe, () => runPhase(phase, broker, other), o.pin ? 0 : null);
        samples.get(phase)!.push(sample);
        rss.set(phase, rssOf(pid));
        brokerLag.get(phase)!.push(await brokerLoopDelay(broker, pid));
        const p99 = summary(sample.latencies).p99;
        if (phase === 'quiet') quietP99 = p99;
        const steal = Number.isNaN(sample.brokerSteal) ? '' : `, steal ${sample.brokerSteal.toFixed(0)} ms/s`;
        line.push(`${phase} p99 ${p99.toFixed(2)} ms${phase === 'quiet' ? '' : ` (${(p99 / quietP99).toFixed(2)}x`}${steal}${phase === 'quiet' ? '' : ')'}`);
      }
      console.log(`round ${round}/${rounds}: ${line.join(', ')}`);
    }
    const alive = broker.process.exitCode === null && broker.process.signalCode === null;
    const quiet = summary(samples.get('quiet')!.flatMap((s) => s.latencies));
    console.log(`all rounds pooled (p99 of every sample of the phase; ratio to quiet's):`);
    for (const phase of PHASES) {
      const m = summary(samples.get(phase)!.flatMap((s) => s.latencies));
      const probeLag = Math.max(...samples.get(phase)!.map((s) => s.probeLagP99));
      const probeMax = Math.max(...samples.get(phase)!.map((s) => s.probeLagMax));
      const steal = samples.get(phase)!.map((s) => s.brokerSteal);
      const stolen = steal.some(Number.isNaN) ? '' : `; hypervisor steal on the broker's core ${steal.map((x) => x.toFixed(0)).join('/')} ms/s`;
      console.log(
        `  ${phase.padEnd(15)} p50 ${m.p50.toFixed(2).padStart(6)} ms  p99 ${m.p99.toFixed(2).padStart(6)} ms  ${(m.p99 / quiet.p99).toFixed(2)}x quiet  (${m.n} samples; broker loop lag p99 ${brokerLag.get(phase)!.join('/')} ms; probe process lag p99 <= ${probeLag.toFixed(1)} ms, max ${probeMax.toFixed(0)} ms${stolen})`,
      );
    }
    if (o.pin) calmRounds(samples, rounds);
    const total = (phase: Phase): FloodResult => {
      const sum: FloodResult = { attempts: 0, outcomes: {}, publishes: 0, disconnects: {} };
      for (const s of samples.get(phase)!) if (s.extra !== null) mergeResult(sum, s.extra);
      return sum;
    };
    const s = total('connect storm');
    const f = total('publish flood');
    const phaseSeconds = seconds * rounds;
    console.log(`connect storm: ${s.attempts} attempts, ${Math.round(s.attempts / phaseSeconds)}/s; answers: ${JSON.stringify(s.outcomes)}`);
    console.log(`publish flood: ${f.publishes} PUBLISH written by 8 connections, ${Math.round(f.publishes / phaseSeconds)}/s; DISCONNECT reasons: ${JSON.stringify(f.disconnects)}`);
    const mib = (p: Phase): string => (rss.get(p)! / 1048576).toFixed(0);
    console.log(`broker RSS after the last quiet ${mib('quiet')} MiB, storm ${mib('connect storm')} MiB, flood ${mib('publish flood')} MiB; still running: ${alive}`);
  } finally {
    await probe.stop();
    idle?.kill();
    await broker.dispose();
    await other?.dispose();
  }
}

await main();
