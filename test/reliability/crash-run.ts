/**
 * The crash-safety run shared by the CI test (a few kills) and scripts/crash-soak.mjs (20 or
 * more): publishers send QoS 1 and QoS 2 to persistent subscribers while the broker is killed
 * with SIGKILL at random moments and restarted on the same data dir. Afterwards every
 * message whose PUBACK / PUBCOMP the publisher received must have arrived (QoS 1 at least
 * once, QoS 2 exactly once), retained messages must hold the last acknowledged value or a
 * later one, and sessions must come back present with their subscriptions.
 */
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { startBroker, sleep, type Broker } from '../interop/harness.js';

/** How a run goes. */
export interface CrashRunOptions {
  kills: number;
  /** Random pause between restarts and the next kill, ms. */
  minUpMs?: number;
  maxUpMs?: number;
  /** Publishers per QoS level. */
  publishers?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** What a run saw; `problems` is empty when nothing acknowledged was lost. */
export interface CrashRunResult {
  kills: number;
  acked: { qos1: number; qos2: number; retained: number };
  received: { qos1: number; qos2: number };
  duplicatesQos1: number;
  problems: string[];
}

const SUBSCRIBERS = [
  { id: 'crash-sub-q1', filter: 'crash/q1/#', qos: 1 as const },
  { id: 'crash-sub-q2', filter: 'crash/q2/#', qos: 2 as const },
];
const RETAINED_TOPICS = 4;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** A reconnecting MQTT.js client keeping its stores across reconnects (clean: false). */
function persistentClient(port: () => number, id: string, onConnack: (c: IConnackPacket) => void): MqttClient {
  const client = mqtt.connect({
    host: '127.0.0.1',
    port: port(),
    clientId: id,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 100,
    connectTimeout: 3000,
    // Subscriptions must come back from the broker's store, not from the client resubscribing.
    resubscribe: false,
  });
  client.on('connect', onConnack);
  client.on('error', () => {});
  return client;
}

/** Runs the kill loop; resolves with the accounting. */
export async function runCrashSoak(opts: CrashRunOptions): Promise<CrashRunResult> {
  const log = opts.log ?? (() => {});
  const random = rng(opts.seed ?? Date.now());
  const minUp = opts.minUpMs ?? 300;
  const maxUp = opts.maxUpMs ?? 1500;
  const publishers = opts.publishers ?? 2;
  const broker: Broker = await startBroker({ args: ['--max-queued-messages', '0'] });
  const problems: string[] = [];
  // Message key 'p<publisher>-<seq>' -> kill epoch when acknowledged.
  const acked = { qos1: new Map<string, number>(), qos2: new Map<string, number>() };
  const got = { qos1: new Map<string, number>(), qos2: new Map<string, number>() };
  const retainedAcked = new Map<string, number>();
  const sessionLost: string[] = [];
  const dupInfo = new Map<string, string>();
  let epoch = 0;
  let running = true;
  const clients: MqttClient[] = [];
  try {
    // Subscriptions first, over a clean first connection, so later sessions are present.
    for (const s of SUBSCRIBERS) {
      let first = true;
      const c = persistentClient(
        () => broker.port,
        s.id,
        (connack) => {
          if (!first && !connack.sessionPresent) sessionLost.push(`${s.id} after kill ${epoch}`);
          first = false;
        },
      );
      clients.push(c);
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      await c.subscribeAsync(s.filter, { qos: s.qos });
      const into = s.qos === 1 ? got.qos1 : got.qos2;
      c.on('message', (_topic, payload, packet) => {
        const key = payload.toString();
        const n = (into.get(key) ?? 0) + 1;
        into.set(key, n);
        if (n > 1) dupInfo.set(key, `again after kill ${epoch}${packet.dup ? ' with DUP' : ''}`);
      });
    }
    const loops: Promise<void>[] = [];
    for (let p = 0; p < publishers; p++) {
      for (const qos of [1, 2] as const) {
        const id = `crash-pub-q${qos}-${p}`;
        const c = persistentClient(
          () => broker.port,
          id,
          () => {},
        );
        clients.push(c);
        const map = qos === 1 ? acked.qos1 : acked.qos2;
        loops.push(
          (async () => {
            let seq = 0;
            while (running) {
              if (!c.connected) {
                await sleep(20);
                continue;
              }
              const batch: Promise<void>[] = [];
              // Keep a few in flight so kills land between PUBLISH and its acknowledgement.
              for (let k = 0; k < 5; k++) {
                const msgKey = `${id}-${++seq}`;
                batch.push(
                  c.publishAsync(`crash/q${qos}/${p}`, msgKey, { qos }).then(
                    () => void map.set(msgKey, epoch),
                    () => {},
                  ),
                );
              }
              // MQTT.js keeps unacknowledged messages and resends them after a reconnect; a
              // kill may leave some pending for long, so wait a bounded time only.
              await Promise.race([Promise.all(batch), sleep(2000)]);
            }
          })(),
        );
      }
    }
    const retainer = persistentClient(
      () => broker.port,
      'crash-retainer',
      () => {},
    );
    clients.push(retainer);
    loops.push(
      (async () => {
        let seq = 0;
        while (running) {
          if (!retainer.connected) {
            await sleep(20);
            continue;
          }
          const topic = `crash/retained/${seq % RETAINED_TOPICS}`;
          const value = ++seq;
          await Promise.race([
            retainer.publishAsync(topic, String(value), { qos: 1, retain: true }).then(
              () => void retainedAcked.set(topic, Math.max(retainedAcked.get(topic) ?? 0, value)),
              () => {},
            ),
            sleep(2000),
          ]);
          await sleep(5);
        }
      })(),
    );

    for (let k = 1; k <= opts.kills; k++) {
      await sleep(minUp + random() * (maxUp - minUp));
      await broker.kill9();
      epoch = k;
      log(`kill ${k}: acked so far q1=${acked.qos1.size} q2=${acked.qos2.size}`);
      await sleep(random() * 200);
      await broker.restart();
    }
    await sleep(minUp);
    running = false;
    await Promise.race([Promise.all(loops), sleep(5000)]);

    // Wait for every acknowledged message to arrive, or 15 s.
    const missing = (kind: 'qos1' | 'qos2'): string[] => [...acked[kind].keys()].filter((k) => !got[kind].has(k));
    const until = Date.now() + 15_000;
    while ((missing('qos1').length > 0 || missing('qos2').length > 0) && Date.now() < until) await sleep(100);

    for (const kind of ['qos1', 'qos2'] as const) {
      const lost = missing(kind);
      if (lost.length > 0) {
        const where = lost.slice(0, 10).map((k) => `${k} (acked after kill ${acked[kind].get(k)})`);
        problems.push(
          `${kind.toUpperCase()}: ${lost.length} of ${acked[kind].size} acknowledged messages never reached ${kind === 'qos1' ? SUBSCRIBERS[0]!.id : SUBSCRIBERS[1]!.id}: ${where.join(', ')}`,
        );
      }
    }
    const dup2 = [...got.qos2.entries()].filter(([, n]) => n > 1);
    if (dup2.length > 0) {
      problems.push(
        `QoS 2: ${dup2.length} messages delivered more than once to ${SUBSCRIBERS[1]!.id}: ${dup2
          .slice(0, 10)
          .map(([k, n]) => `${k} x${n} (${dupInfo.get(k) ?? ''})`)
          .join(', ')}`,
      );
    }
    if (sessionLost.length > 0) problems.push(`sessions not present after restart: ${sessionLost.join(', ')}`);

    // Retained: a fresh client must see, per topic, the last acknowledged value or a later one.
    const fresh = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, clientId: `crash-check-${process.pid}`, reconnectPeriod: 0 });
    const retained = new Map<string, number>();
    fresh.on('message', (topic, payload, packet) => {
      if (packet.retain) retained.set(topic, Number(payload.toString()));
    });
    await fresh.subscribeAsync('crash/retained/#', { qos: 1 });
    await sleep(500);
    await fresh.endAsync(true);
    for (const [topic, value] of retainedAcked) {
      const have = retained.get(topic);
      if (have === undefined) problems.push(`retained ${topic}: gone after the restarts (last acknowledged value ${value})`);
      else if (have < value) problems.push(`retained ${topic}: holds ${have}, older than the last acknowledged value ${value}`);
    }
    return {
      kills: opts.kills,
      acked: { qos1: acked.qos1.size, qos2: acked.qos2.size, retained: retainedAcked.size },
      received: { qos1: got.qos1.size, qos2: got.qos2.size },
      duplicatesQos1: [...got.qos1.values()].filter((n) => n > 1).length,
      problems,
    };
  } finally {
    running = false;
    for (const c of clients) c.end(true);
    await broker.dispose();
  }
}
