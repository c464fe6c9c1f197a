/**
 * End-to-end JT/T 808 uplink throughput: a broker process, N simulated terminals over TCP that
 * register, authenticate and stream 0200 location reports (each terminal keeps at most --window
 * reports unanswered by 8001), and a raw MQTT subscriber on jt808/+/+/up counting PUBLISH
 * packets. The figure is reports received by the subscriber per second.
 */
import type { FlagDef } from '../../src/config/flags.js';
import { FrameScanner } from '../../src/protocols/jt808/codec/frame.js';
import { encodeMessage } from '../../src/protocols/jt808/codec/message.js';
import { startJunction } from '../lib/broker-process.js';
import { sampleLocation, Terminal, terminalHeader } from '../lib/jt808-terminal.js';
import { StreamClient } from '../lib/stream-client.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';

interface Jt808ThroughputOptions {
  terminals: number;
  reports: number;
  window: number;
}

const FLAGS: readonly FlagDef<keyof Jt808ThroughputOptions>[] = [
  { group: 'Load', name: 'terminals', key: 'terminals', kind: 'int', default: 50, min: 1, max: 100_000, help: 'simulated terminals, one TCP connection each' },
  { group: 'Load', name: 'reports', key: 'reports', kind: 'int', default: 20_000, min: 1, max: 100_000_000, help: '0200 location reports per terminal' },
  { group: 'Load', name: 'window', key: 'window', kind: 'int', default: 256, min: 1, max: 65_535, help: 'reports a terminal keeps unanswered by 8001' },
];

const SPEC: ToolSpec = {
  command: 'node dist/bench/scenarios/jt808-throughput.js',
  about: [
    'JT/T 808 uplink end to end: terminals stream location reports to a Junction broker (from dist/) and a subscriber on jt808/+/+/up counts the MQTT messages. Prints one JSON line with reports received per second.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/jt808-throughput.js --terminals 50 --reports 20000 --window 256'],
};

const o = parseToolArgs<Jt808ThroughputOptions>(SPEC).values;
const TERMINALS = o.terminals;
const PER_TERMINAL = o.reports;
const WINDOW = o.window;
const TOTAL = TERMINALS * PER_TERMINAL;

const broker = await startJunction({ args: ['--jt808-port', '0', '--store', 'memory'] });
const sub = await StreamClient.connect(broker.port, 'jt808-bench-sub');
await sub.subscribe('jt808/+/+/up', 0);
const jtPort = broker.listeningPort('jt808');

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
  const counter = {
    onFrame: () => {
      answered++;
      return true;
    },
    onFrameFault: () => true,
  };
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
while (sub.publishes < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await senders;
const received = sub.publishes;
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
sub.close();
await broker.dispose();
