/**
 * Interop harness: starts a real broker process (Junction by default, mosquitto 2 when
 * JUNCTION_TEST_TARGET=mosquitto, to check the tests themselves), connects MQTT.js clients,
 * raw sockets and the mosquitto command-line clients. Every wait has a timeout and every
 * failure says what was expected and what arrived.
 *
 * Run: npx tsc -p tsconfig.json && npx tsc -p tsconfig.test.json && node --test build/test/interop/
 * Against mosquitto: JUNCTION_TEST_TARGET=mosquitto node --test build/test/interop/ (Junction-only
 * tests skip; JUNCTION_TEST_NO_SKIP=1 runs them too, to see what the reference broker does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { test } from 'node:test';
import mqtt, { type IConnackPacket, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { connectPacket, describe, parseConnack, splitPackets, type Connack, type ConnectOptions, type RawPacket, type Version, PACKET_NAMES } from './wire.js';

/** The context node:test passes to a test (not exported by the pinned @types/node). */
export type TestContext = Parameters<NonNullable<Parameters<typeof test>[0]>>[0];

/** Which broker the suite runs against. */
export const target: 'junction' | 'mosquitto' = process.env['JUNCTION_TEST_TARGET'] === 'mosquitto' ? 'mosquitto' : 'junction';

/** Repository root: tests compile to build/test/interop/*.js. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Skips the test when the target is not Junction; returns true when skipped (then `return`). */
export function junctionOnly(t: TestContext, why = 'Junction-specific behaviour'): boolean {
  // JUNCTION_TEST_NO_SKIP=1 runs them anyway, to see how the reference broker really behaves.
  if (target === 'junction' || process.env['JUNCTION_TEST_NO_SKIP'] === '1') return false;
  t.skip(`junction only: ${why}`);
  return true;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or fails after `timeoutMs` with `what`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A free TCP port on 127.0.0.1 (for mosquitto, which cannot report one it picked). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface BrokerOptions {
  /** Junction flags (e.g. ['--max-keepalive', '10']); mapped to mosquitto config when possible. */
  args?: string[];
  /** Use this data dir instead of a fresh temp dir. */
  dataDir?: string;
  /** Keep the data dir on dispose(). */
  keepDataDir?: boolean;
  /** mosquitto only: enable persistence (Junction always persists to its data dir). */
  persistence?: boolean;
}

export type LogLine = Record<string, unknown>;

/** A running broker process. */
export interface Broker {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  readonly logs: LogLine[];
  /** The process of the current run. */
  readonly process: ChildProcess;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code (null if killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** kill -9: no chance to flush anything. */
  kill9(): Promise<void>;
  /** Starts again with the same data dir and args, on the same port. */
  restart(): Promise<void>;
  /** Stops (if running) and removes the data dir unless keepDataDir. For after(). */
  dispose(): Promise<void>;
}

function lastLogs(logs: LogLine[], stderr: string[]): string {
  const out = logs.slice(-15).map((l) => JSON.stringify(l));
  if (stderr.length) out.push('stderr: ' + stderr.join('').slice(-1500));
  return out.join('\n');
}

/** Translates Junction flags into mosquitto.conf lines; throws for a flag it cannot express. */
function mosquittoConf(args: string[], port: number, dataDir: string, persistence: boolean): string {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--allow-anonymous') values.set(a, 'true');
    else values.set(a, args[++i] ?? '');
  }
  const host = values.get('--host') ?? '127.0.0.1';
  const lines = [`listener ${port} ${host}`];
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  // mosquitto 2 refuses anonymous clients unless told otherwise, which is the behaviour the
  // Junction default mirrors on non-loopback hosts.
  if (loopback || values.has('--allow-anonymous')) lines.push('allow_anonymous true');
  const direct: Record<string, string> = {
    '--max-keepalive': 'max_keepalive',
    '--max-packet-size': 'max_packet_size',
    '--receive-maximum': 'max_inflight_messages',
    '--max-queued-messages': 'max_queued_messages',
    '--topic-alias-maximum': 'max_topic_alias',
    '--max-connections': 'max_connections',
  };
  for (const [flag, value] of values) {
    if (flag === '--host' || flag === '--allow-anonymous' || flag === '--log-level' || flag === '--store') continue;
    const key = direct[flag];
    if (!key) throw new Error(`flag ${flag} has no mosquitto equivalent: mark the test junctionOnly`);
    lines.push(`${key} ${value}`);
  }
  if (persistence) {
    // Save on every change so kill -9 loses as little as mosquitto allows.
    lines.push('persistence true', `persistence_location ${dataDir}/`, 'autosave_on_changes true', 'autosave_interval 1');
  }
  return lines.join('\n') + '\n';
}

class BrokerProcess implements Broker {
  host = '127.0.0.1';
  port = 0;
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  process!: ChildProcess;
  private exited: Promise<number | null> = Promise.resolve(null);
  private running = false;

  constructor(readonly dataDir: string, private readonly opts: BrokerOptions) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(port: number): Promise<void> {
    if (target === 'mosquitto') await this.startMosquitto(port);
    else await this.startJunction(port);
  }

  private spawnWith(cmd: string, args: string[]): void {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (target === 'mosquitto') for (const l of chunk.split('\n')) if (l.trim()) this.logs.push({ msg: l, raw: true });
    });
  }

  private async startJunction(port: number): Promise<void> {
    const args = this.opts.args ?? [];
    const from = this.logs.length;
    this.spawnWith(process.execPath, ['dist/cli/main.js', 'start', '--mqtt-port', String(port), '--data-dir', this.dataDir, ...args]);
    const until = Date.now() + 10_000;
    for (;;) {
      const line = this.logs.slice(from).find((l) => l['msg'] === 'listening' && l['protocol'] === 'mqtt' && l['transport'] === 'tcp');
      if (line) {
        this.port = Number(line['port']);
        this.host = String(line['host'] ?? '127.0.0.1');
        return;
      }
      if (!this.running) throw new Error(`broker exited before listening; last output:\n${lastLogs(this.logs, this.stderr)}`);
      if (Date.now() > until) {
        this.process.kill('SIGKILL');
        throw new Error(`broker did not log {"msg":"listening","protocol":"mqtt"} within 10 s; last output:\n${lastLogs(this.logs, this.stderr)}`);
      }
      await sleep(20);
    }
  }

  private async startMosquitto(port: number): Promise<void> {
    this.port = port === 0 ? await freePort() : port;
    const conf = path.join(this.dataDir, 'mosquitto.conf');
    // mosquitto started as root drops to the `mosquitto` user, which must be able to write here.
    chmodSync(this.dataDir, 0o777);
    writeFileSync(conf, mosquittoConf(this.opts.args ?? [], this.port, this.dataDir, this.opts.persistence ?? false));
    this.spawnWith('/usr/sbin/mosquitto', ['-c', conf]);
    const until = Date.now() + 10_000;
    for (;;) {
      if (!this.running) throw new Error(`mosquitto exited before listening:\n${lastLogs(this.logs, this.stderr)}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > until) throw new Error(`mosquitto not listening on ${this.port} within 10 s:\n${lastLogs(this.logs, this.stderr)}`);
      await sleep(30);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return this.exited;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 8000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.start(this.port);
  }

  async dispose(): Promise<void> {
    if (this.running) await this.stop('SIGKILL');
    if (!this.opts.keepDataDir && !this.opts.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts a broker on a free port with a fresh temp data dir (unless given). */
export async function startBroker(opts: BrokerOptions = {}): Promise<Broker> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junction-interop-'));
  const broker = new BrokerProcess(dataDir, opts);
  await broker.start(0);
  return broker;
}

/** Starts a broker for one test and disposes of it when the test ends. */
export async function brokerFor(t: TestContext, opts: BrokerOptions = {}): Promise<Broker> {
  const broker = await startBroker(opts);
  t.after(() => broker.dispose());
  return broker;
}

/** Starts the broker with args expected to be refused; resolves with exit code and output. */
export function runBroker(args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return run(process.execPath, ['dist/cli/main.js', ...args], timeoutMs);
}

let clientCounter = 0;

/** A unique client id for this process. */
export function clientId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++clientCounter}-${Math.random().toString(36).slice(2, 7)}`;
}

function open(t: TestContext | null, url: string, opts: IClientOptions): { client: MqttClient; ready: Promise<IConnackPacket> } {
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: opts.clientId ?? clientId(),
    ...opts,
  });
  if (t) t.after(() => closeClient(client));
  const ready = new Promise<IConnackPacket>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`MQTT.js client ${opts.clientId ?? ''} did not connect to ${url} within 6 s`));
    }, 6000);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      client.end(true);
      reject(err);
    };
    client.once('connect', (connack: IConnackPacket) => {
      clearTimeout(timer);
      client.removeListener('error', onError);
      // Later errors surface through the assertions; an unhandled 'error' would crash the run.
      client.on('error', () => {});
      resolve(connack);
    });
    client.once('error', onError);
    client.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection to ${url} closed before CONNACK`));
    });
  });
  return { client, ready };
}

/**
 * An MQTT.js client, resolved once CONNACK says success; rejects on a refusal, a close or
 * after 6 s. With `t` the client is force-closed when the test ends.
 */
export async function connect(t: TestContext | null, url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const { client, ready } = open(t, url, opts);
  await ready;
  return client;
}

/**
 * Connects with a collector attached before CONNACK, so messages the broker sends right after
 * it (an offline queue, retained messages) cannot slip past; `n` = 0 gathers for `timeoutMs`.
 */
export async function connectCollecting(
  t: TestContext | null,
  url: string,
  opts: IClientOptions,
  n: number,
  timeoutMs = 3000,
): Promise<{ client: MqttClient; connack: IConnackPacket; received: Promise<Received[]> }> {
  const { client, ready } = open(t, url, opts);
  const received = n > 0 ? collect(client, n, timeoutMs) : gather(client, timeoutMs);
  received.catch(() => {});
  const connack = await ready;
  return { client, connack, received };
}

/** Ends an MQTT.js client without waiting for acks. */
export function closeClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected && !client.connected) {
      client.end(true, () => resolve());
      return;
    }
    client.end(true, () => resolve());
  });
}

/** Closes the client's socket without DISCONNECT, as a crash would (fires the will). */
export function dropSocket(client: MqttClient): void {
  const stream = (client as unknown as { stream: net.Socket }).stream;
  stream.destroy();
  client.end(true);
}

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

/**
 * Resolves with the next `n` messages the client receives; rejects after `timeoutMs` saying
 * how many arrived out of how many. Call it before publishing.
 */
export function collect(client: MqttClient, n: number, timeoutMs = 3000, what = 'messages'): Promise<Received[]> {
  return new Promise((resolve, reject) => {
    const got: Received[] = [];
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      got.push({ topic, payload, packet });
      if (got.length === n) {
        clearTimeout(timer);
        client.removeListener('message', onMessage);
        resolve(got);
      }
    };
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage);
      const seen = got.slice(0, 5).map((m) => `${m.topic}=${m.payload.toString().slice(0, 30)}`).join(', ');
      reject(new Error(`expected ${n} ${what}, ${got.length} arrived within ${timeoutMs} ms${seen ? ` (${seen}${got.length > 5 ? ', …' : ''})` : ''}`));
    }, timeoutMs);
    client.on('message', onMessage);
  });
}

/** Collects every message that arrives during `ms` (for asserting absence or counting). */
export function gather(client: MqttClient, ms: number): Promise<Received[]> {
  return new Promise((resolve) => {
    const got: Received[] = [];
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      got.push({ topic, payload, packet });
    };
    client.on('message', onMessage);
    setTimeout(() => {
      client.removeListener('message', onMessage);
      resolve(got);
    }, ms);
  });
}

/** Subscribes and returns the per-filter SUBACK codes (failures included, no throw). */
export function subscribeCodes(client: MqttClient, filter: string | string[], opts: mqtt.IClientSubscribeOptions = { qos: 0 }): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK for ${String(filter)} within 3 s`)), 3000);
    client.subscribe(filter, opts, (err, granted) => {
      clearTimeout(timer);
      if (granted) resolve(granted.map((g) => g.qos));
      else reject(err ?? new Error('SUBACK without grants'));
    });
  });
}

/** A client over a plain socket for byte-level tests. */
export class RawClient {
  readonly socket: net.Socket;
  /** Packets received and not yet taken by next(). */
  readonly queue: RawPacket[] = [];
  /** Every packet ever received, for failure messages. */
  readonly history: RawPacket[] = [];
  closed = false;
  private pending: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  constructor(socket: net.Socket, readonly version: Version) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const { packets, rest } = splitPackets(Buffer.concat([this.pending, chunk]));
      this.pending = Buffer.from(rest);
      this.queue.push(...packets);
      this.history.push(...packets);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private waitEvent(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Writes raw bytes (a Buffer or a hex string). */
  send(data: Buffer | string): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data.replace(/\s+/g, ''), 'hex') : data);
  }

  /** The next packet, optionally required to be of `type`; fails naming what came instead. */
  async next(type?: number, timeoutMs = 3000): Promise<RawPacket> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const p = this.queue.shift();
      if (p) {
        if (type !== undefined && p.type !== type) throw new Error(`expected ${PACKET_NAMES[type]}, got ${describe(p)}`);
        return p;
      }
      if (this.closed) throw new Error(`expected ${type !== undefined ? PACKET_NAMES[type] : 'a packet'}, the connection closed (received: ${this.received()})`);
      const left = until - Date.now();
      if (left <= 0 || !(await this.waitEvent(left))) {
        if (this.queue.length === 0 && !this.closed) {
          throw new Error(`expected ${type !== undefined ? PACKET_NAMES[type] : 'a packet'} within ${timeoutMs} ms, nothing came (received: ${this.received()})`);
        }
      }
    }
  }

  /** The next packet of `type`, skipping (and returning) others such as PUBLISH in between. */
  async nextOf(type: number, timeoutMs = 3000): Promise<RawPacket> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const idx = this.queue.findIndex((p) => p.type === type);
      if (idx >= 0) return this.queue.splice(idx, 1)[0]!;
      if (this.closed) throw new Error(`expected ${PACKET_NAMES[type]}, the connection closed (received: ${this.received()})`);
      const left = until - Date.now();
      if (left <= 0 || !(await this.waitEvent(left))) {
        if (!this.queue.some((p) => p.type === type)) {
          throw new Error(`expected ${PACKET_NAMES[type]} within ${timeoutMs} ms (received: ${this.received()})`);
        }
      }
    }
  }

  /** Resolves when the broker closes the connection; fails if it stays open for `timeoutMs`. */
  async expectClose(timeoutMs = 3000): Promise<RawPacket[]> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`expected the broker to close the connection within ${timeoutMs} ms, it stayed open (received: ${this.received()})`);
      await this.waitEvent(left);
    }
    return this.queue.splice(0);
  }

  /** Waits `ms` and returns every packet that arrived meanwhile (for counting, or absence). */
  async drain(ms: number): Promise<RawPacket[]> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.closed) await this.waitEvent(until - Date.now());
    return this.queue.splice(0);
  }

  /** Sends CONNECT and requires a successful CONNACK, returned decoded. */
  async handshake(opts: ConnectOptions = {}): Promise<Connack> {
    this.send(connectPacket({ version: this.version, clientId: opts.clientId ?? clientId('raw'), ...opts }));
    const connack = parseConnack(await this.next(2), this.version);
    if (connack.code !== 0) throw new Error(`expected CONNACK 0, got 0x${connack.code.toString(16)}`);
    return connack;
  }

  private received(): string {
    return this.history.length ? this.history.slice(-6).map(describe).join(', ') : 'nothing';
  }

  /** Closes the socket. */
  close(): void {
    this.socket.destroy();
  }
}

/** A raw socket connected to the broker; closed when the test ends. */
export function rawClient(t: TestContext | null, port: number, version: Version = 4): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const timer = setTimeout(() => reject(new Error(`raw connect to port ${port} timed out`)), 3000);
    s.once('connect', () => {
      clearTimeout(timer);
      const c = new RawClient(s, version);
      if (t) t.after(() => c.close());
      resolve(c);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command (mosquitto_pub/sub, the CLI) with a timeout; never rejects on exit code. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Spawns a long-running command (mosquitto_sub) and returns it with its live stdout. */
export function spawnCommand(t: TestContext, cmd: string, args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out, exited };
}

export type { MqttClient };
