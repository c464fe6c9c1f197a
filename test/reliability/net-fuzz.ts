/**
 * The network-level fuzzer: many connections send mutated streams to every protocol port a
 * live broker listens on (MQTT, and STOMP, JT/T 808 and GB/T 32960 when started with their
 * ports): half of them open with a valid CONNECT (MQTT, STOMP) so the handlers behind the
 * gate see the mutations. Meanwhile a well-behaved MQTT publisher and subscriber exchange
 * numbered QoS 1 messages. Used by the CI test (seconds) and, with a longer duration, for the
 * figures in docs/RELIABILITY.md.
 */
import net from 'node:net';
import { Mutator, Rng } from '../../bench/fuzz/mutate.js';
import type { FuzzTarget } from '../../bench/fuzz/target.js';
import { gbt32960Target } from '../../bench/fuzz/targets/gbt32960.js';
import { jt808Target } from '../../bench/fuzz/targets/jt808.js';
import { mqttTarget } from '../../bench/fuzz/targets/mqtt.js';
import { stompTarget } from '../../bench/fuzz/targets/stomp.js';
import { connect, sleep, type Broker } from '../interop/harness.js';
import { connectPacket } from '../interop/wire.js';

/** One protocol port under attack: where, what to mutate, and what opens a session. */
interface Front {
  protocol: string;
  port: number;
  seeds: Buffer[];
  /** Leading bytes of a seed that steer the decoder fuzz target, not sent on the wire. */
  control: number;
  opening: (rng: Rng) => Buffer | null;
}

const FRONTS: ReadonlyArray<{ protocol: string; target: FuzzTarget; control: number; opening: (rng: Rng) => Buffer | null }> = [
  { protocol: 'mqtt', target: mqttTarget, control: 1, opening: (rng) => connectPacket({ clientId: `netfuzz-${rng.below(50)}`, version: rng.below(2) === 0 ? 4 : 5 }) },
  { protocol: 'stomp', target: stompTarget, control: 1, opening: () => Buffer.from('CONNECT\naccept-version:1.0,1.1,1.2\nhost:junction\n\n\0', 'latin1') },
  { protocol: 'jt808', target: jt808Target, control: 1, opening: () => null },
  { protocol: 'gbt32960', target: gbt32960Target, control: 0, opening: () => null },
];

/** The fronts `broker` listens on over TCP (from its "listening" log lines). */
function frontsOf(broker: Broker): Front[] {
  const fronts: Front[] = [];
  for (const f of FRONTS) {
    const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === f.protocol && l['transport'] === 'tcp');
    if (line !== undefined) fronts.push({ protocol: f.protocol, port: Number(line['port']), seeds: f.target.seeds(), control: f.control, opening: f.opening });
  }
  return fronts;
}

/** What a network fuzz run saw. */
export interface NetFuzzResult {
  /** Mutated streams sent, in all and per protocol. */
  streams: number;
  perProtocol: Record<string, number>;
  bytes: number;
  goodSent: number;
  goodReceived: number;
  problems: string[];
}

function attack(port: number, payload: Buffer, holdMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, holdMs);
    s.on('error', done);
    s.on('close', done);
    s.on('data', () => {});
    s.once('connect', () => s.write(payload));
  });
}

/** Runs `attackers` mutating connections for `seconds` against `broker` beside good clients. */
export async function runNetFuzz(broker: Broker, opts: { seconds: number; attackers: number; seed: number }): Promise<NetFuzzResult> {
  const rng = new Rng(opts.seed);
  const mutator = new Mutator(rng, 4096);
  const fronts = frontsOf(broker);
  const perProtocol: Record<string, number> = Object.fromEntries(fronts.map((f) => [f.protocol, 0]));
  const problems: string[] = [];
  const sub = await connect(null, broker.url, { clientId: 'netfuzz-good-sub', clean: true });
  const pub = await connect(null, broker.url, { clientId: 'netfuzz-good-pub' });
  const received: number[] = [];
  sub.on('message', (_t, payload) => received.push(Number(payload.toString())));
  await sub.subscribeAsync('netfuzz/good', { qos: 1 });
  const until = Date.now() + opts.seconds * 1000;
  let streams = 0;
  let bytes = 0;
  let goodSent = 0;
  const good = (async () => {
    while (Date.now() < until) {
      await pub.publishAsync('netfuzz/good', String(++goodSent), { qos: 1 });
      await sleep(2);
    }
  })();
  const attackers = Array.from({ length: opts.attackers }, async () => {
    while (Date.now() < until) {
      const front = fronts[rng.below(fronts.length)]!;
      const seeds = front.seeds;
      const mutated = mutator.mutate(seeds[rng.below(seeds.length)]!, seeds[rng.below(seeds.length)]!).subarray(front.control);
      // Half the streams get past the CONNECT gate first, so the handlers see the mutations.
      const opening = rng.below(2) === 0 ? front.opening(rng) : null;
      const payload = opening !== null ? Buffer.concat([opening, mutated]) : mutated;
      streams++;
      perProtocol[front.protocol]!++;
      bytes += payload.length;
      await attack(front.port, payload, 20 + rng.below(100));
    }
  });
  await Promise.all([good, ...attackers]);
  const deadline = Date.now() + 5000;
  while (received.length < goodSent && Date.now() < deadline) await sleep(20);
  if (broker.process.exitCode !== null || broker.process.signalCode !== null) {
    problems.push(`the broker exited (code ${broker.process.exitCode}, signal ${broker.process.signalCode}) during the network fuzz`);
  }
  const got = new Set(received);
  const lost = [];
  for (let i = 1; i <= goodSent; i++) if (!got.has(i)) lost.push(i);
  if (lost.length > 0) problems.push(`the well-behaved subscriber lost ${lost.length} of ${goodSent} acknowledged QoS 1 messages on netfuzz/good: ${lost.slice(0, 20).join(', ')}`);
  const outOfOrder = received.findIndex((n, i) => i > 0 && n < received[i - 1]!);
  if (outOfOrder > 0) problems.push(`messages out of order on netfuzz/good at position ${outOfOrder}: ${received[outOfOrder - 1]} then ${received[outOfOrder]}`);
  const errors = broker.logs.filter((l) => l['level'] === 'error' || l['level'] === 'fatal');
  for (const e of errors.slice(0, 5)) problems.push(`broker logged an error: ${JSON.stringify(e).slice(0, 400)}`);
  sub.end(true);
  pub.end(true);
  return { streams, perProtocol, bytes, goodSent, goodReceived: got.size, problems };
}
