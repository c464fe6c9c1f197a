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
import type { ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerProcess, dataDirFor, type BrokerProcessOptions, type LogLine } from '../../bench/lib/broker-process.js';
import { junctionCli } from '../../bench/lib/repo.js';
import { run, type RunResult } from './commands.js';
import type { RawClient } from './raw-client.js';
import { PacketType, describe, parseDisconnect, type Version } from './wire.js';

export * from './commands.js';
export * from './mqtt-clients.js';
export * from './raw-client.js';

/** The context node:test passes to a test (derived: @types/node 20 does not export it by name). */
export type TestContext = Parameters<NonNullable<Parameters<typeof test>[0]>>[0];

/** Which broker the suite runs against. */
export const target: 'junction' | 'mosquitto' = process.env['JUNCTION_TEST_TARGET'] === 'mosquitto' ? 'mosquitto' : 'junction';

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

/** How to start the broker under test; `args` are Junction flags, mapped to mosquitto config when possible. */
export interface BrokerOptions extends BrokerProcessOptions {
  /** mosquitto only: enable persistence (Junction always persists to its data dir). */
  persistence?: boolean;
}

export type { LogLine };

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

/** Boolean Junction flags the translation knows, given without a value, and their mosquitto.conf lines. */
const MOSQUITTO_SWITCHES: Readonly<Record<string, string>> = {
  '--allow-anonymous': 'allow_anonymous true',
  '--no-allow-anonymous': 'allow_anonymous false',
  '--no-retain-available': 'retain_available false',
};

/** Translates Junction flags into mosquitto.conf lines; throws for a flag it cannot express. */
function mosquittoConf(args: string[], port: number, dataDir: string, persistence: boolean): string {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (MOSQUITTO_SWITCHES[a] !== undefined) values.set(a, 'true');
    else values.set(a, args[++i] ?? '');
  }
  const host = values.get('--host') ?? '127.0.0.1';
  const lines = [`listener ${port} ${host}`];
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  // mosquitto 2 refuses anonymous clients unless told otherwise, which is the behaviour the
  // Junction default mirrors on non-loopback hosts.
  if (loopback && !values.has('--no-allow-anonymous') && !values.has('--allow-anonymous')) lines.push('allow_anonymous true');
  const direct: Record<string, string> = {
    '--max-keepalive': 'max_keepalive',
    '--max-packet-size': 'max_packet_size',
    '--receive-maximum': 'max_inflight_messages',
    '--max-queued-messages': 'max_queued_messages',
    '--topic-alias-maximum': 'max_topic_alias',
    '--max-connections': 'max_connections',
    // A listener option in mosquitto 2: it follows the listener line.
    '--maximum-qos': 'max_qos',
  };
  for (const [flag, value] of values) {
    const line = MOSQUITTO_SWITCHES[flag];
    if (line !== undefined) {
      lines.push(line);
      continue;
    }
    if (flag === '--host' || flag === '--log-level' || flag === '--store') continue;
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

/** The broker under test: Junction (bench/lib/broker-process.ts) or mosquitto with a translated config. */
class TestBroker extends BrokerProcess implements Broker {
  declare protected readonly opts: BrokerOptions;

  async start(port: number): Promise<void> {
    if (target === 'mosquitto') await this.startMosquitto(port);
    else await this.startJunction(port);
  }

  private async startMosquitto(port: number): Promise<void> {
    this.port = port === 0 ? await freePort() : port;
    const conf = path.join(this.dataDir, 'mosquitto.conf');
    // mosquitto started as root drops to the `mosquitto` user, which must be able to write here.
    chmodSync(this.dataDir, 0o777);
    writeFileSync(conf, mosquittoConf(this.opts.args ?? [], this.port, this.dataDir, this.opts.persistence ?? false));
    this.spawnWith('/usr/sbin/mosquitto', ['-c', conf], true);
    const until = Date.now() + 10_000;
    for (;;) {
      if (!this.running) throw new Error(`mosquitto exited before listening:\n${this.lastOutput()}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > until) throw new Error(`mosquitto not listening on ${this.port} within 10 s:\n${this.lastOutput()}`);
      await sleep(30);
    }
  }

  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.start(this.port);
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
  const broker = new TestBroker(dataDirFor(opts), opts);
  await broker.start(0);
  return broker;
}

/** Starts a broker for one test and disposes of it when the test ends. */
export async function brokerFor(t: TestContext, opts: BrokerOptions = {}): Promise<Broker> {
  const broker = await startBroker(opts);
  t.after(() => broker.dispose());
  return broker;
}

/** Waits for the broker to close `raw`; a 5.0 client must get a DISCONNECT with `reason` first. */
export async function closedWith(raw: RawClient, version: Version, reason: number): Promise<void> {
  const rest = await raw.expectClose();
  if (version !== 5) return;
  const d = rest.find((p) => p.type === PacketType.DISCONNECT);
  // mosquitto 2.0.11 closes some of these without a DISCONNECT; the reason is Junction's (section 4.13).
  if (d === undefined && target === 'mosquitto') return;
  assert.ok(d, `DISCONNECT before the close; got ${rest.map(describe).join(', ') || 'nothing'}`);
  const got = parseDisconnect(d).reason;
  assert.equal(got, reason, `DISCONNECT reason 0x${got.toString(16)}, expected 0x${reason.toString(16)}`);
}

/** Starts the broker with args expected to be refused; resolves with exit code and output. */
export function runBroker(args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return run(process.execPath, [junctionCli(), ...args], timeoutMs);
}
