/**
 * Real backends for the bridge tests and benches, each a child process on a free loopback
 * port: librdkafka's mock Kafka cluster (tools/kafka-mock, built by `make test-tools`), Debian's
 * redis-server and nats-server (with JetStream). Every wait has a timeout whose message says
 * what to install or build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './repo.js';

/** A free TCP port on 127.0.0.1. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once host:port accepts a connection, or throws after `timeoutMs` naming `what`. */
export async function waitForPort(port: number, timeoutMs: number, what: string, child?: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (child !== undefined && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before listening`);
    if (Date.now() > until) throw new Error(`${what} not listening on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** librdkafka's mock Kafka cluster: one process, topics created on demand, brokers taken down and up. */
export class KafkaMock {
  private lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;

  private constructor(
    private readonly child: ChildProcess,
    /** host:port of the bootstrap broker(s), comma-separated */
    readonly bootstrap: string,
  ) {
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        const w = this.waiting;
        this.waiting = null;
        if (w !== null) w(line);
        else this.lines.push(line);
      }
    });
  }

  /** Starts the mock (tools/kafka-mock/kafka-mock) with `brokers` brokers. */
  static async start(brokers = 1): Promise<KafkaMock> {
    const bin = path.join(repoRoot(), 'tools', 'kafka-mock', 'kafka-mock');
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make test-tools\` (needs Debian's librdkafka-dev)`);
    const child = spawn(bin, [String(brokers)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('kafka-mock printed no bootstrap address within 5 s')), 5000);
      child.stdout!.once('data', (d: Buffer) => {
        clearTimeout(timer);
        resolve(String(d));
      });
      child.once('exit', (code) => reject(new Error(`kafka-mock exited with code ${code}`)));
    });
    const match = /^bootstrap (\S+)/.exec(first);
    if (match === null) throw new Error(`kafka-mock printed "${first.trim()}", not "bootstrap HOST:PORT"`);
    return new KafkaMock(child, match[1]!);
  }

  /** Creates a topic with `partitions` partitions. */
  createTopic(name: string, partitions = 1): Promise<void> {
    return this.command(`topic ${name} ${partitions}`);
  }

  /** Takes every broker down: connections are refused until up(). */
  down(): Promise<void> {
    return this.command('down');
  }

  up(): Promise<void> {
    return this.command('up');
  }

  private async command(line: string): Promise<void> {
    const answer = new Promise<string>((resolve) => {
      const queued = this.lines.shift();
      if (queued !== undefined) resolve(queued);
      else this.waiting = resolve;
    });
    this.child.stdin!.write(line + '\n');
    const text = await answer;
    if (text !== 'ok') throw new Error(`kafka-mock answered "${text}" to "${line}"`);
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
    await exited(this.child);
  }
}

/** A server process on a port of its own, with a data folder removed at stop. */
export class ServiceProcess {
  private child: ChildProcess;

  private constructor(
    child: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
    private readonly argv: readonly string[],
    private readonly what: string,
  ) {
    this.child = child;
  }

  /** redis-server on a free port (nothing saved to disk). */
  static async redis(): Promise<ServiceProcess> {
    const port = await freeLoopbackPort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-redis-'));
    return ServiceProcess.spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      port,
      dir,
      'redis-server (apt-get install redis-server)',
    );
  }

  /** nats-server with JetStream on a free port, storing under a temp folder (kept across restart()). */
  static async nats(): Promise<ServiceProcess> {
    const port = await freeLoopbackPort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-nats-'));
    return ServiceProcess.spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], port, dir, 'nats-server (apt-get install nats-server)');
  }

  /**
   * `servers` nats-servers with JetStream joined in one NATS cluster (routes between them), on
   * free ports; JetStream elects its meta leader a few seconds after they start.
   */
  static async natsCluster(servers = 3, extraArgs: readonly string[] = []): Promise<ServiceProcess[]> {
    const ports = await Promise.all(Array.from({ length: servers }, () => freeLoopbackPort()));
    const routePorts = await Promise.all(Array.from({ length: servers }, () => freeLoopbackPort()));
    const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    return Promise.all(
      ports.map((port, i) => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-nats-'));
        const argv = [
          '-js',
          '-a',
          '127.0.0.1',
          '-p',
          String(port),
          '-sd',
          dir,
          '-n',
          `nats-${i}`,
          '--cluster_name',
          'junction',
          '--cluster',
          `nats://127.0.0.1:${routePorts[i]}`,
          '--routes',
          routes,
          ...extraArgs,
        ];
        return ServiceProcess.spawn('nats-server', argv, port, dir, 'nats-server (apt-get install nats-server)');
      }),
    );
  }

  private static async spawn(cmd: string, argv: string[], port: number, dir: string, what: string): Promise<ServiceProcess> {
    const child = spawn(cmd, argv, { stdio: 'ignore' });
    child.once('error', () => undefined);
    await waitForPort(port, 10_000, what, child);
    return new ServiceProcess(child, port, dir, argv, what);
  }

  /** Stops the server (SIGTERM, or SIGKILL to crash it), keeping its data folder. */
  async halt(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.child.kill(signal);
    await exited(this.child);
  }

  /** Starts it again on the same port with the same data folder. */
  async restart(): Promise<void> {
    const cmd = this.what.split(' ')[0]!;
    this.child = spawn(cmd, [...this.argv], { stdio: 'ignore' });
    await waitForPort(this.port, 10_000, this.what, this.child);
  }

  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
