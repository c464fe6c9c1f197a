/** Cluster tests: real nats-servers, real Junction nodes joined through them, and probes that wait for NATS interest. */
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { ServiceProcess } from '../../bench/lib/backend-services.js';
import { startBroker, waitFor, type Broker, type LogLine, type MqttClient } from '../interop/harness.js';

/** The --cluster value for these servers. */
export function natsUrls(servers: readonly ServiceProcess[]): string {
  return servers.map((s) => `nats://127.0.0.1:${s.port}`).join(',');
}

/** A Junction node named `name` joined to the cluster at `urls` (heartbeat every second), plus `args`. */
export async function clusterNode(name: string, urls: string, args: string[] = [], dataDir?: string): Promise<Broker> {
  const node = await startBroker({ args: ['--node-name', name, '--cluster', urls, '--cluster-heartbeat', '1', ...args], ...(dataDir === undefined ? {} : { dataDir }) });
  try {
    await waitForLog(node, (l) => l['msg'] === 'cluster node started', `node ${name} started in the cluster`);
  } catch (err) {
    await node.dispose();
    throw err;
  }
  return node;
}

/** Starts one node per name side by side; when one fails, the others are stopped before the error is thrown. */
export async function clusterNodes(names: readonly string[], urls: string, args: string[] = []): Promise<Broker[]> {
  const results = await Promise.allSettled(names.map((name) => clusterNode(name, urls, args)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed === undefined) return results.map((r) => (r as PromiseFulfilledResult<Broker>).value);
  await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.dispose() : undefined)));
  throw (failed as PromiseRejectedResult).reason;
}

/** Waits until JetStream answers on `urls` (a fresh NATS cluster elects its meta leader first). */
export async function jetStreamReady(urls: string, timeoutMs = 30_000): Promise<void> {
  const nc = await natsConnect({ servers: urls.split(',') });
  try {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > until) throw new Error(`JetStream not ready on ${urls} within ${timeoutMs} ms: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await nc.close();
  }
}

/** Waits until `node` logged a line satisfying `match` (from line `from`); the error shows its last lines. */
export async function waitForLog(node: Broker, match: (l: LogLine) => boolean, what: string, timeoutMs = 15_000, from = 0): Promise<LogLine> {
  const find = () => node.logs.slice(from).find(match);
  try {
    await waitFor(() => find() !== undefined, timeoutMs, what);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; last lines:\n${node.logs
        .slice(-8)
        .map((l) => JSON.stringify(l))
        .join('\n')}`,
    );
  }
  return find()!;
}

/**
 * Publishes `probe` on `topic` from `pub` every 100 ms until `sub` received it: NATS carries a
 * subscription's interest to the other nodes a few ms after the SUBACK.
 */
export async function awaitRoute(pub: MqttClient, sub: MqttClient, topic: string, timeoutMs = 10_000): Promise<void> {
  let seen = false;
  const probe = `probe-${Math.random().toString(36).slice(2)}`;
  const onMessage = (t: string, payload: Buffer): void => {
    if (t === topic && payload.toString() === probe) seen = true;
  };
  sub.on('message', onMessage);
  try {
    const until = Date.now() + timeoutMs;
    while (!seen) {
      if (Date.now() > until) throw new Error(`no probe on ${topic} crossed the cluster within ${timeoutMs} ms`);
      pub.publish(topic, probe, { qos: 0 });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    sub.off('message', onMessage);
  }
}

/** True for a probe message of awaitRoute. */
export function isProbe(payload: Buffer): boolean {
  return payload.toString().startsWith('probe-');
}

/** Publishes `n` numbered messages on `topic`, one at a time; resolves with the payloads acknowledged. */
export async function publishNumbered(pub: MqttClient, topic: string, prefix: string, n: number, qos: 1 | 2, pauseMs: number): Promise<string[]> {
  const acked: string[] = [];
  for (let i = 0; i < n; i++) {
    const payload = `${prefix}-${i}`;
    try {
      await pub.publishAsync(topic, payload, { qos });
      acked.push(payload);
    } catch {
      // Not acknowledged: not owed to anyone.
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return acked;
}

/** How many messages the durable journal holds (NATS at `urls`). */
export async function journalMessages(urls: string): Promise<number> {
  const nc = await natsConnect({ servers: urls.split(',') });
  try {
    return (await (await jetstreamManager(nc)).streams.info('JUNCTION_JOURNAL')).state.messages;
  } finally {
    await nc.close();
  }
}

/**
 * Publishes QoS 1 probes on `topic` from `pub` until one goes into the journal: the node of `pub`
 * knows a persistent session's durable route for it (from the SUBACK on, with --cluster-route-wait;
 * this checks it before a test relies on it).
 */
export async function awaitJournaled(urls: string, pub: MqttClient, topic: string, timeoutMs = 10_000): Promise<void> {
  const start = await journalMessages(urls);
  const until = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    await pub.publishAsync(topic, `probe-j${i}`, { qos: 1 });
    if ((await journalMessages(urls)) > start) return;
    if (Date.now() > until) throw new Error(`no message on ${topic} journaled within ${timeoutMs} ms: the publisher's node does not know the durable route`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
