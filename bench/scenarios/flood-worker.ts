/**
 * Load generator process for flood.ts: a connection storm (connect, CONNECT, await CONNACK,
 * reset, as fast as `concurrency` loops allow) or a publish flood (QoS 0 PUBLISH written as fast
 * as the socket takes them). A process of its own so the latency probes in flood.ts keep their
 * own event loop. Its flags: flood-job.ts.
 */
import net from 'node:net';
import { encodeConnect, encodePublish } from '../../src/protocols/mqtt/codec/encode.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { FLOOD_WORKER, type FloodJob, type FloodResult } from './flood-job.js';

// Forked by flood.ts at the lowest CPU priority, or run by hand: the job comes as flags.
const job = parseToolArgs<FloodJob>(FLOOD_WORKER).values;
const result: FloodResult = { attempts: 0, outcomes: {}, publishes: 0, disconnects: {} };
const until = Date.now() + job.seconds * 1000;
const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);
let idCounter = 0;

function connectPacketOf(clientId: string): Buffer {
  return encodeConnect({ protocolVersion: job.version, cleanStart: true, keepAlive: 60, clientId });
}

function connackCode(buf: Buffer): string {
  // CONNACK: 0x20, remaining length, flags, code.
  return buf.length >= 4 && buf[0] === 0x20 ? '0x' + buf[3]!.toString(16).padStart(2, '0') : `other 0x${(buf[0] ?? 0).toString(16)}`;
}

function stormOnce(): Promise<void> {
  return new Promise((resolve) => {
    result.attempts++;
    const s = net.connect(job.port, '127.0.0.1');
    let done = false;
    const finish = (outcome: string): void => {
      if (done) return;
      done = true;
      bump(result.outcomes, outcome);
      // A reset, as connstorm closes: after a FIN the client's TIME_WAIT state is made by the
      // broker's own close on loopback, and its expiry 60 s later runs on the broker's core (13 ms
      // stalls of inet_twsk_kill in a perf profile), work a real client's machine does.
      s.resetAndDestroy();
      resolve();
    };
    s.once('connect', () => s.write(connectPacketOf(`storm-${process.pid}-${++idCounter}`)));
    s.once('data', (d: Buffer) => finish(connackCode(d)));
    s.once('error', (e: NodeJS.ErrnoException) => finish(`error ${e.code ?? ''}`));
    s.once('close', () => finish('closed'));
    setTimeout(() => finish('timeout'), 5000).unref();
  });
}

async function publishLoop(): Promise<void> {
  let first = true;
  while (Date.now() < until) {
    // After a disconnect, wait as MQTT.js does (reconnectPeriod 1 s) before flooding again.
    if (!first) await new Promise((r) => setTimeout(r, Math.min(job.reconnectDelayMs, Math.max(0, until - Date.now()))));
    first = false;
    if (Date.now() >= until) break;
    const s = net.connect(job.port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      const packet = encodePublish(job.version, { topic: `flood/${idCounter % 8}`, payload: Buffer.alloc(job.payloadBytes, 0x61), qos: 0, retain: false, dup: false, packetId: 0 });
      const batch = Buffer.concat(Array.from({ length: 64 }, () => packet));
      let open = true;
      const stop = (): void => {
        open = false;
        s.destroy();
        resolve();
      };
      s.on('data', (d: Buffer) => {
        if (d[0] === 0xe0 && d.length >= 3) bump(result.disconnects, '0x' + d[2]!.toString(16));
      });
      s.once('error', stop);
      s.once('close', stop);
      // A socket blocked on 'drain' (the broker paused reading it) would outlive the phase.
      const deadline = setTimeout(stop, Math.max(0, until - Date.now()));
      s.once('close', () => clearTimeout(deadline));
      s.once('connect', () => {
        s.write(connectPacketOf(`flood-${process.pid}-${++idCounter}`));
        const pump = (): void => {
          while (open && Date.now() < until) {
            result.publishes += 64;
            if (!s.write(batch)) return void s.once('drain', pump);
          }
          if (open) stop();
        };
        pump();
      });
    });
  }
}

async function main(): Promise<void> {
  const loops = Array.from({ length: job.concurrency }, async () => {
    if (job.mode === 'publish') return publishLoop();
    while (Date.now() < until) await stormOnce();
  });
  await Promise.all(loops);
  // Forked by flood.ts: report to it; run by hand: print the result.
  if (process.send !== undefined) process.send(result, () => process.exit(0));
  else {
    console.log(JSON.stringify(result));
    process.exit(0);
  }
}

void main();
