/**
 * The JavaScript of one MQTT login and its close, without sockets: the CONNECT framed and
 * decoded, the client admitted (anonymous), its session made, the CONNACK encoded, then the
 * close, over the test suite's in-memory link with 64 connections alive at a time, as in a
 * connect storm. This is what a connect costs the event loop beside the kernel's accept, read and
 * write (scripts/compare-connect-rate measures the whole, with the kernel's share, against
 * mosquitto); it is the part of the connect rate that is Junction's own code, and it is measured
 * in CPU time, which a shared machine's other tenants disturb less than a rate. Also the bytes
 * allocated per login (what the scavenges must sweep), which the machine moves far less than a time.
 */
import { performance } from 'node:perf_hooks';
import { encodeConnect } from '../../src/protocols/mqtt/codec/index.js';
import { scanFrames } from '../../src/protocols/mqtt/codec/scanner.js';
import { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import type { MqttConfig } from '../../src/protocols/mqtt/protocol.js';
import { Logger } from '../../src/log/logger.js';
import { createSecurity } from '../../src/security/index.js';
import { parseStartOptions } from '../../src/server/options.js';
import { MemoryLink, memoryKit } from '../../test/gateway/memory-kit.js';
import { countAllocation } from '../lib/allocation.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

const o = parseToolArgs<{ seconds: number; warmup: number; protocol: number }>(
  microSpec(
    'login',
    [
      { group: 'Run', name: 'seconds', key: 'seconds', kind: 'int', default: 3, min: 1, max: 600, valueName: 'SECONDS', help: 'how long logins are measured' },
      { group: 'Run', name: 'warmup', key: 'warmup', kind: 'int', default: 1, min: 0, max: 600, valueName: 'SECONDS', help: 'logins before, not measured (the JIT compiles the path)' },
      { group: 'Run', name: 'protocol', key: 'protocol', kind: 'int', default: 4, min: 4, max: 5, valueName: '4|5', help: 'MQTT 3.1.1 (4) or 5' },
    ],
    ['node dist/bench/micro/login.bench.js --seconds 5'],
  ),
).values;

/** Takes the CONNACK without keeping it: a socket's write, not the test link's record of it. */
class SinkLink extends MemoryLink {
  override write(): boolean {
    return true;
  }
}

const CONFIG: MqttConfig = { maxPacketSize: 1 << 20, receiveMaximum: 32, topicAliasMaximum: 0, maxKeepalive: 65_535, maximumQos: 2, connectTimeoutMs: 10_000, scan: scanFrames };
const LIVE = 64;
/** CONNECTs encoded beforehand (the client's work, not the broker's); an id comes back long after its session ended. */
const PACKETS = Array.from({ length: 4096 }, (_, i) => encodeConnect({ protocolVersion: o.protocol as 4 | 5, cleanStart: true, keepAlive: 0, clientId: `storm-${i}` }));
// The security a broker started with its defaults and --allow-anonymous has (its policy's shared
// guard per client), not the test kit's open one.
const security = await createSecurity(parseStartOptions(['--allow-anonymous']), new Logger({ level: 'silent' }));
const { kit, broker } = await memoryKit(security);
const live: MqttConnection[] = [];
let made = 0;

/** One pass of the storm: 64 logins, each closing the oldest connection; the next pass comes after the event loop's turn. */
function pass(): void {
  for (let i = 0; i < LIVE; i++) {
    const conn = new MqttConnection(new SinkLink(), kit, CONFIG);
    conn.onData(PACKETS[made++ & 4095]!);
    live.push(conn);
    if (live.length > LIVE) live.shift()!.onClose();
  }
}

async function run(seconds: number): Promise<{ logins: number; cpuMicros: number; wallMs: number; allocated: number }> {
  const first = made;
  const allocated = countAllocation();
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    pass();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(cpu);
  return { logins: made - first, cpuMicros: used.user + used.system, wallMs: performance.now() - start, allocated: allocated() };
}

if (o.warmup > 0) await run(o.warmup);
const r = await run(o.seconds);
if (broker.onlineCount !== LIVE) throw new Error(`expected ${LIVE} clients online after the storm, found ${broker.onlineCount}: a login or a close failed`);
const perLogin = r.cpuMicros / r.logins;
console.table([
  {
    'MQTT version': o.protocol === 5 ? '5.0' : '3.1.1',
    'logins and closes': r.logins,
    'CPU per login and close (µs)': Number(perLogin.toFixed(2)),
    'logins per CPU-second': Math.round(1e6 / perLogin),
    'wall time per login (µs)': Number(((r.wallMs * 1000) / r.logins).toFixed(2)),
    'bytes allocated per login': Math.round(r.allocated / r.logins),
  },
]);
for (const c of live) c.onClose();
