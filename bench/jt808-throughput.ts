/**
 * End-to-end JT/T 808 uplink throughput: a broker process, N simulated terminals over TCP that
 * register, authenticate and stream 0200 location reports (each terminal keeps at most WINDOW
 * reports unanswered by 8001), and a raw MQTT subscriber on jt808/+/+/up counting PUBLISH
 * packets. The figure is reports received by the subscriber per second.
 * Run: npx tsc -p tsconfig.json && npx tsc -p tsconfig.test.json &&
 *      node build/bench/jt808-throughput.js [terminals=50] [reportsPerTerminal=20000] [window=256]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FrameScanner } from '../src/protocols/jt808/codec/frame.js';
import { encodeMessage } from '../src/protocols/jt808/codec/message.js';
import { sampleLocation, Terminal, terminalHeader } from '../test/protocols/jt808/terminal.js';

const TERMINALS = Number(process.argv[2] ?? 50);
const PER_TERMINAL = Number(process.argv[3] ?? 20_000);
const WINDOW = Number(process.argv[4] ?? 256);
const TOTAL = TERMINALS * PER_TERMINAL;

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'jt808-bench-'));
const child = spawn(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', '0', '--jt808-port', '0', '--store', 'memory', '--data-dir', dataDir], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
const ports = new Map<string, number>();
await new Promise<void>((resolve, reject) => {
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (j['msg'] === 'listening') ports.set(String(j['protocol']), Number(j['port']));
      } catch {
        /* not JSON */
      }
      if (ports.has('mqtt') && ports.has('jt808')) resolve();
    }
  });
  child.once('exit', (code) => reject(new Error(`broker exited (${code}) before listening`)));
});

/** A raw MQTT 3.1.1 subscriber that counts PUBLISH packets without decoding them. */
function subscriber(port: number): Promise<{ count: () => number; socket: net.Socket }> {
  return new Promise((resolve) => {
    let count = 0;
    let pending: Buffer | null = null;
    const socket = net.connect(port, '127.0.0.1', () => {
      const id = Buffer.from('jt808-bench-sub');
      const connect = Buffer.concat([Buffer.from([0x10, 12 + id.length, 0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 60, 0, id.length]), id]);
      const filter = Buffer.from('jt808/+/+/up');
      const subscribe = Buffer.concat([Buffer.from([0x82, 5 + filter.length, 0, 1, 0, filter.length]), filter, Buffer.from([0])]);
      socket.write(Buffer.concat([connect, subscribe]));
    });
    socket.on('data', (chunk: Buffer) => {
      let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
      pending = null;
      let at = 0;
      for (;;) {
        if (at + 2 > buf.length) break;
        let len = 0;
        let mul = 1;
        let i = at + 1;
        let complete = false;
        for (; i < buf.length && i < at + 5; i++) {
          len += (buf[i]! & 0x7f) * mul;
          mul *= 128;
          if ((buf[i]! & 0x80) === 0) {
            complete = true;
            break;
          }
        }
        if (!complete || i + 1 + len > buf.length) break;
        const type = buf[at]! >> 4;
        if (type === 3) count++;
        else if (type === 9) resolve({ count: () => count, socket });
        at = i + 1 + len;
      }
      if (at < buf.length) pending = Buffer.from(buf.subarray(at));
      buf = Buffer.alloc(0);
    });
  });
}

const sub = await subscriber(ports.get('mqtt')!);
const jtPort = ports.get('jt808')!;

/** One terminal's sender: keeps WINDOW reports unanswered, counting 8001 frames. */
async function runTerminal(index: number): Promise<void> {
  const phone = String(13_000_000_000 + index).padStart(12, '0');
  const term = await Terminal.connect(jtPort, phone);
  await term.login();
  term.socket.removeAllListeners('data');
  const frames: Buffer[] = [];
  for (let i = 0; i < 64; i++) frames.push(encodeMessage(terminalHeader(phone, false, 0x0200, i), sampleLocation(i)));
  let answered = 0;
  let sent = 0;
  const scanner = new FrameScanner(4096);
  const counter = { onFrame: () => (answered++, true), onFrameFault: () => true };
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      const batch: Buffer[] = [];
      while (sent < PER_TERMINAL && sent - answered < WINDOW) batch.push(frames[sent++ % frames.length]!);
      if (batch.length > 0) term.socket.write(Buffer.concat(batch));
      if (answered >= PER_TERMINAL) resolve();
    };
    term.socket.on('data', (chunk: Buffer) => {
      scanner.push(chunk, counter);
      pump();
    });
    pump();
  });
  term.close();
}

const started = process.hrtime.bigint();
const senders = Promise.all(Array.from({ length: TERMINALS }, (_, i) => runTerminal(i)));
const deadline = Date.now() + 300_000;
while (sub.count() < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await senders;
const received = sub.count();
console.log(
  JSON.stringify({
    terminals: TERMINALS,
    reportsPerTerminal: PER_TERMINAL,
    window: WINDOW,
    sent: TOTAL,
    receivedBySubscriber: received,
    seconds: Number(seconds.toFixed(2)),
    reportsPerSecond: Math.round(received / seconds),
  }),
);
sub.socket.destroy();
child.kill('SIGTERM');
rmSync(dataDir, { recursive: true, force: true });
