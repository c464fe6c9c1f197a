/** Creating the cluster's JetStream streams, the same way for each. */
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log/logger.js';

/** What a stream needs said; the rest keeps JetStream's defaults. */
export type StreamSpec = Partial<StreamConfig> & { name: string; subjects: string[] };

/**
 * Creates a stream with `replicas` replicas (one on a NATS server that is not clustered), or
 * finds it there already: made before, or by another node whose create crossed this one
 * (JetStream then answers "subjects overlap"). A NATS cluster with fewer servers than asked gets
 * one replica, with a warning.
 */
export async function ensureStream(jsm: JetStreamManager, nc: NatsConnection, spec: StreamSpec, replicas: number, log: Logger): Promise<void> {
  const config = { ...spec, num_replicas: nc.info?.cluster !== undefined ? replicas : 1 };
  try {
    await jsm.streams.add(config);
  } catch (err) {
    const text = (err as Error).message;
    if (/already in use/i.test(text)) return;
    if (/subjects overlap/i.test(text)) {
      // Made by another node a moment ago if its name answers; a stream of another name on these subjects is a real conflict.
      const found = await jsm.streams.info(spec.name).then(
        () => true,
        () => false,
      );
      if (found) return;
      throw err;
    }
    if (config.num_replicas > 1 && /insufficient|replicas|no suitable peers/i.test(text)) {
      log.warn('cluster stream created with one replica: the NATS cluster has fewer servers than the replicas asked', { stream: spec.name, replicas, error: text });
      await jsm.streams.add({ ...config, num_replicas: 1 });
      return;
    }
    throw err;
  }
}

/**
 * Runs `attempt` (creating a stream and what hangs on it) until it succeeds or `closed()` says
 * to stop, waiting 250 ms after the first failure and doubling up to 5 s; each failure is logged
 * with what failed (`what`) and what to check.
 */
export async function openWithRetry(what: string, attempt: () => Promise<void>, closed: () => boolean, log: Logger): Promise<void> {
  let delay = 250;
  while (!closed()) {
    try {
      await attempt();
      return;
    } catch (err) {
      log.error(`${what} not created; retrying (nats-server needs JetStream: -js)`, { error: (err as Error).message, retryMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      delay = Math.min(delay * 2, 5000);
    }
  }
}
