/**
 * The bench coordinator: starts the worker processes (each with its descriptor limit raised to
 * the hard limit), walks them through the phases (connect subscribers, then publishers, start,
 * warm up, measure, stop, drain, close), prints a progress line every second, samples the
 * broker from /proc, and builds the result.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { nowMs } from './client.js';
import { addEncoded, newHistogram } from './histogram.js';
import { addCounters, zeroCounters, type Command, type Counters, type CpuTime, type Report } from './ipc.js';
import type { BenchOptions } from './options.js';
import { planCounts, type ClientRole } from './plan.js';
import { commandOf, findListeningPid, sampleProcess, type ProcSample } from './proc-stats.js';
import { targetsOf } from './targets.js';
import { buildResult, type BenchResult, type Window } from './report.js';

/** Where progress lines go (stderr in the CLI; tests may collect them). */
export type ProgressSink = (line: string) => void;

type FinalReport = Extract<Report, { type: 'final' }>;
type MarkReport = Extract<Report, { type: 'mark' }>;

/**
 * A phase answer that never comes means a stuck worker: fail instead of hanging. The time counts
 * from the worker's last progress (its counters moved), so opening 100,000 connections at a few
 * hundred per second is not mistaken for a stuck worker.
 */
const PHASE_TIMEOUT_MS = 120_000;

class WorkerHandle {
  latest: Counters = zeroCounters();
  /** When the worker's counters last changed (or the last command was sent). */
  private progressAt = Date.now();
  private waiting: { type: Report['type']; resolve: (r: Report) => void } | null = null;
  private failure: string | null = null;
  private readonly child: ChildProcess;

  constructor(
    workerPath: string,
    readonly index: number,
  ) {
    // Through sh so `ulimit -n` can raise the soft descriptor limit to the hard one first.
    this.child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, workerPath], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (report: Report) => this.onReport(report));
    this.child.once('exit', (code, signal) => {
      if (this.waiting !== null && this.waiting.type !== 'closed') this.fail(`worker ${index} exited (${signal ?? `code ${code}`})`);
      else if (this.waiting !== null) this.waiting.resolve({ type: 'closed' });
    });
  }

  private onReport(report: Report): void {
    if (report.type === 'stats' || report.type === 'ready' || report.type === 'mark' || report.type === 'final') {
      if (JSON.stringify(report.counters) !== JSON.stringify(this.latest)) this.progressAt = Date.now();
      this.latest = report.counters;
    }
    if (report.type === 'fatal') {
      this.fail(`worker ${this.index}: ${report.message}`);
      return;
    }
    if (this.waiting !== null && this.waiting.type === report.type) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(report);
    }
  }

  private fail(message: string): void {
    this.failure = message;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve({ type: 'fatal', message });
  }

  send(command: Command): void {
    if (this.child.connected) this.child.send(command);
  }

  /** Sends `command` and resolves with the worker's next report of type `type`. */
  async ask<T extends Report['type']>(command: Command, type: T): Promise<Extract<Report, { type: T }>> {
    if (this.failure !== null) throw new Error(this.failure);
    const answer = new Promise<Report>((resolve) => {
      this.waiting = { type, resolve };
    });
    this.progressAt = Date.now();
    this.send(command);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Report>((resolve) => {
      timer = setInterval(() => {
        if (Date.now() - this.progressAt > PHASE_TIMEOUT_MS)
          resolve({ type: 'fatal', message: `worker ${this.index} did not answer "${command.type}" and made no progress for ${PHASE_TIMEOUT_MS / 1000} s` });
      }, 1000);
    });
    const report = await Promise.race([answer, timeout]);
    clearInterval(timer);
    if (report.type === 'fatal') throw new Error(report.message);
    return report as Extract<Report, { type: T }>;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Runs one benchmark as `o` describes; progress lines go to `progress`. */
export async function runBench(o: BenchOptions, progress: ProgressSink): Promise<BenchResult> {
  const counts = planCounts(o);
  const total = counts.publishers + counts.subscribers + counts.idle + (o.scenario === 'retained' ? 1 : 0);
  const procs = Math.max(1, Math.min(o.procs, total));
  const runId = randomBytes(3).toString('hex');
  const targets = targetsOf(o);
  const port = targets[0]!.port;
  const where = targets.map((t) => `${t.host}:${t.port}`).join(', ');
  const brokerPid = o.brokerPid !== 0 ? o.brokerPid : findListeningPid(port);
  const broker = (): ProcSample | undefined => (brokerPid !== 0 ? sampleProcess(brokerPid) : undefined);
  const workerPath = fileURLToPath(new URL('./worker.js', import.meta.url));
  const workers = Array.from({ length: procs }, (_, i) => new WorkerHandle(workerPath, i));
  const startedAt = new Date();
  let phase = 'connecting';
  let lastSum = zeroCounters();
  let lastAt = nowMs();
  const t0 = lastAt;
  let peakRss = 0;
  const ticker = setInterval(() => {
    const sum = workers.reduce((acc, w) => addCounters(acc, w.latest), zeroCounters());
    const now = nowMs();
    const seconds = (now - lastAt) / 1000;
    const sample = broker();
    if (sample !== undefined) peakRss = Math.max(peakRss, sample.rssBytes);
    if (o.progress) progress(progressLine(o, phase, (now - t0) / 1000, sum, lastSum, seconds, total, sample));
    lastSum = sum;
    lastAt = now;
  }, 1000);
  try {
    for (const [i, w] of workers.entries()) w.send({ type: 'setup', options: o, runId, proc: i, procs });
    if (o.brokerGc) {
      if (o.brokerSettle > 0) phase = 'letting the broker settle';
      await collectBrokerGarbage(brokerPid, o.brokerSettle);
      phase = 'connecting';
    }
    const rssBefore = broker();
    const cpuBefore = process.cpuUsage();
    const connectStart = nowMs();
    const connectPhase = async (roles: ClientRole[]): Promise<void> => {
      const readies = await Promise.all(workers.map((w) => w.ask({ type: 'connect', roles }, 'ready')));
      const failed = readies.reduce((n, r) => n + r.counters.connectFailed + r.counters.closed, 0);
      if (failed > 0 && o.scenario !== 'conn') {
        const samples = [...new Set(readies.flatMap((r) => r.errorSamples))].slice(0, 3);
        throw new Error(`${failed} client(s) could not connect to ${where} (${o.transport}): ${samples.join('; ')}`);
      }
    };
    if (o.scenario === 'retained') {
      await connectPhase(['seed']);
      phase = 'storing retained';
      await Promise.all(workers.map((w) => w.ask({ type: 'seed' }, 'ready')));
      phase = 'connecting';
    }
    await connectPhase(['sub']);
    await connectPhase(['pub']);
    await connectPhase(['idle']);
    const connectEnd = nowMs();

    let window: Window;
    if (o.scenario === 'conn') {
      phase = 'holding';
      const holdStart = nowMs();
      const cpuAt = await Promise.all(workers.map((w) => w.ask({ type: 'mark', reset: false, stop: false }, 'mark')));
      const brokerAt = broker();
      await sleep(o.duration * 1000);
      const cpuEnd = await Promise.all(workers.map((w) => w.ask({ type: 'mark', reset: false, stop: true }, 'mark')));
      window = makeWindow(holdStart, nowMs(), cpuAt, cpuEnd, brokerAt, broker());
    } else {
      phase = o.warmup > 0 ? 'warming up' : 'measuring';
      for (const w of workers) w.send({ type: 'start' });
      await sleep(o.warmup * 1000);
      phase = 'measuring';
      const begin = await Promise.all(workers.map((w) => w.ask({ type: 'mark', reset: true, stop: false }, 'mark')));
      const beginAt = nowMs();
      const brokerAt = broker();
      await sleep(o.duration * 1000);
      const end = await Promise.all(workers.map((w) => w.ask({ type: 'mark', reset: false, stop: true }, 'mark')));
      window = makeWindow(beginAt, nowMs(), begin, end, brokerAt, broker());
      phase = 'draining';
    }
    const finals: FinalReport[] = await Promise.all(workers.map((w) => w.ask({ type: 'drain' }, 'final')));
    if (o.brokerGc) {
      if (o.brokerSettle > 0) phase = 'letting the broker settle';
      await collectBrokerGarbage(brokerPid, o.brokerSettle);
    }
    const brokerAfter = broker();
    phase = 'closing';
    await Promise.all(workers.map((w) => w.ask({ type: 'close' }, 'closed').catch(() => undefined)));
    const latency = newHistogram();
    const connectLatency = newHistogram();
    for (const f of finals) {
      addEncoded(latency, f.latency);
      addEncoded(connectLatency, f.connectLatency);
    }
    const firstConnect = Math.min(...finals.map((f) => f.firstConnectMs).filter((t) => t > 0));
    const lastConnack = Math.max(...finals.map((f) => f.lastConnackMs));
    const own = process.cpuUsage(cpuBefore);
    return buildResult({
      o,
      counts,
      procs,
      port,
      startedAt,
      window,
      totals: finals.reduce((acc, f) => addCounters(acc, f.counters), zeroCounters()),
      spread: sumSpread(finals.map((f) => f.spread)),
      latency,
      connectLatency,
      connectSeconds: Number.isFinite(firstConnect) && lastConnack > firstConnect ? (lastConnack - firstConnect) / 1000 : (connectEnd - connectStart) / 1000,
      coordinatorCpu: own.user + own.system,
      errorSamples: [...new Set(finals.flatMap((f) => f.errorSamples))].slice(0, 5),
      broker: brokerPid === 0 ? null : { pid: brokerPid, command: commandOf(brokerPid), before: rssBefore, after: brokerAfter, peakRss },
    });
  } finally {
    clearInterval(ticker);
    for (const w of workers) w.kill();
  }
}

function makeWindow(startMs: number, endMs: number, begin: MarkReport[], end: MarkReport[], brokerBegin: ProcSample | undefined, brokerEnd: ProcSample | undefined): Window {
  const cpu = (marks: MarkReport[]): number => marks.reduce((n, m) => n + cpuOf(m.cpu), 0);
  return {
    seconds: (endMs - startMs) / 1000,
    begin: begin.reduce((acc, m) => addCounters(acc, m.counters), zeroCounters()),
    end: end.reduce((acc, m) => addCounters(acc, m.counters), zeroCounters()),
    generatorCpuMicros: cpu(end) - cpu(begin),
    brokerCpuMicros: brokerBegin !== undefined && brokerEnd !== undefined ? brokerEnd.cpuMicros - brokerBegin.cpuMicros : null,
    brokerRss: brokerEnd?.rssBytes ?? null,
  };
}

/** Adds the workers' per "source>host:port" connection counts. */
function sumSpread(spreads: readonly Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const spread of spreads) for (const [key, n] of Object.entries(spread)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}

function cpuOf(cpu: CpuTime): number {
  return cpu.user + cpu.system;
}

function progressLine(o: BenchOptions, phase: string, elapsed: number, sum: Counters, last: Counters, seconds: number, total: number, broker: ProcSample | undefined): string {
  const rate = (now: number, before: number): string => Math.round((now - before) / Math.max(seconds, 0.001)).toLocaleString('en-US');
  const open = sum.connected - sum.closed;
  const errors = sum.connectFailed + sum.closed + sum.errors;
  const parts = [`[${elapsed.toFixed(0).padStart(3)}s] ${o.scenario} ${phase}:`];
  if (o.scenario === 'conn' || phase === 'connecting') parts.push(`conns ${open.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (+${rate(sum.connected, last.connected)}/s)`);
  else parts.push(`sent ${rate(sum.sent, last.sent)}/s`, `recv ${rate(sum.received, last.received)}/s`, `conns ${open.toLocaleString('en-US')}`);
  parts.push(`errors ${errors}`);
  if (broker !== undefined) parts.push(`broker rss ${(broker.rssBytes / 1048576).toFixed(0)} MiB`);
  return parts.join('  ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asks a Node broker started with --expose-gc to collect garbage (SIGUSR2), then lets it settle. */
async function collectBrokerGarbage(pid: number, settleSeconds: number): Promise<void> {
  if (pid === 0) return;
  try {
    process.kill(pid, 'SIGUSR2');
    if (settleSeconds > 0) {
      await sleep(settleSeconds * 1000);
      process.kill(pid, 'SIGUSR2');
    }
  } catch {
    return;
  }
  await sleep(1000);
}
