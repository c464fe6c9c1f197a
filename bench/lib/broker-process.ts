/**
 * A broker child process for scenario benches and the interop tests: spawns `junction start`
 * (dist/src/cli/main.js), keeps its JSON log lines, waits until it is ready and tells the port
 * each listener logged. Every wait has a timeout whose message shows the last output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { junctionCli, repoRoot } from './repo.js';

/** One line the broker logged (JSON), or { msg, raw: true } for a line that was not JSON. */
export type LogLine = Record<string, unknown>;

/** How to start a broker. */
export interface BrokerProcessOptions {
  /** Flags after `junction start --mqtt-port P --data-dir D`, e.g. ['--store', 'memory']. */
  args?: string[];
  /** Flags for node itself, before the script, e.g. ['--trace-gc-nvp'] (its lines arrive as raw log lines). */
  nodeArgs?: string[];
  /** Use this data dir instead of a fresh temp dir (then it is kept). */
  dataDir?: string;
  /** Keep the data dir on dispose(). */
  keepDataDir?: boolean;
}

const START_TIMEOUT_MS = 10_000;

/**
 * JUNCTION_TEST_TCP_TRANSPORT=node (or native, auto) runs every broker these helpers start over
 * that TCP transport, so one suite checks both (CI runs them once more with node).
 */
export function transportArgs(): string[] {
  const transport = process.env['JUNCTION_TEST_TCP_TRANSPORT'];
  return transport === undefined || transport === '' ? [] : ['--tcp-transport', transport];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running broker process and what it logged. */
export class BrokerProcess {
  host = '127.0.0.1';
  /** Its MQTT over TCP port, once started. */
  port = 0;
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  /** The process of the current run. */
  process!: ChildProcess;
  protected running = false;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly dataDir: string,
    protected readonly opts: BrokerProcessOptions,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Spawns `cmd` in the repository; stdout lines become log lines, and stderr lines too when `stderrIsLog` (mosquitto logs there). */
  protected spawnWith(cmd: string, args: string[], stderrIsLog = false): void {
    const child = spawn(cmd, args, { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    this.running = true;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.running = false;
        resolve(code);
      });
    });
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ msg: line, raw: true });
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr.push(chunk);
      if (stderrIsLog) for (const l of chunk.split('\n')) if (l.trim()) this.logs.push({ msg: l, raw: true });
    });
  }

  /** Starts `junction start` with MQTT on `port` (0 = any) and waits for "ready", which follows every listener's "listening" line. */
  async startJunction(port: number): Promise<void> {
    const from = this.logs.length;
    this.spawnWith(process.execPath, [...(this.opts.nodeArgs ?? []), junctionCli(), 'start', '--mqtt-port', String(port), '--data-dir', this.dataDir, ...transportArgs(), ...(this.opts.args ?? [])]);
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const fresh = this.logs.slice(from);
      const line = fresh.find((l) => l['msg'] === 'listening' && l['protocol'] === 'mqtt' && l['transport'] === 'tcp');
      if (line && fresh.some((l) => l['msg'] === 'ready')) {
        this.port = Number(line['port']);
        this.host = String(line['host'] ?? '127.0.0.1');
        return;
      }
      if (!this.running) throw new Error(`broker exited before listening; last output:\n${this.lastOutput()}`);
      if (Date.now() > until) {
        this.process.kill('SIGKILL');
        throw new Error(`broker did not log {"msg":"listening","protocol":"mqtt"} within 10 s; last output:\n${this.lastOutput()}`);
      }
      await sleep(20);
    }
  }

  /** The port the listener of `protocol` over `transport` logged (jt808/tcp, websocket/ws...); throws when it logged none. */
  listeningPort(protocol: string, transport = 'tcp'): number {
    const line = this.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === protocol && l['transport'] === transport);
    if (line === undefined) throw new Error(`the broker logged no ${protocol} listener over ${transport}; last output:\n${this.lastOutput()}`);
    return Number(line['port']);
  }

  /** The last log lines and stderr, for error messages. */
  lastOutput(): string {
    const out = this.logs.slice(-15).map((l) => JSON.stringify(l));
    if (this.stderr.length) out.push('stderr: ' + this.stderr.join('').slice(-1500));
    return out.join('\n');
  }

  /** Sends `signal` (SIGTERM by default), SIGKILL after 8 s, and resolves with the exit code (null if killed). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return this.exited;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 8000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** kill -9: no chance to flush anything. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGKILL');
    await this.exited;
  }

  /** Stops (if running) and removes the data dir unless it was given or keepDataDir. */
  async dispose(): Promise<void> {
    if (this.running) await this.stop('SIGKILL');
    if (!this.opts.keepDataDir && !this.opts.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A fresh temp data dir, unless `opts` names one. */
export function dataDirFor(opts: BrokerProcessOptions): string {
  return opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junction-broker-'));
}

/** Starts Junction on any free port, with a fresh temp data dir unless given. */
export async function startJunction(opts: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  const broker = new BrokerProcess(dataDirFor(opts), opts);
  await broker.startJunction(0);
  return broker;
}
