/** MQTT.js helpers: connect with timeouts, collect or gather messages, subscribe with raw codes. */
import type net from 'node:net';
import mqtt, { type IConnackPacket, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { TestContext } from './harness.js';

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
      const seen = got
        .slice(0, 5)
        .map((m) => `${m.topic}=${m.payload.toString().slice(0, 30)}`)
        .join(', ');
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

export type { MqttClient };
