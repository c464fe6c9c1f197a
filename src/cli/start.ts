/**
 * `junction start`: builds the broker from the options, opens the listeners, prints one line per
 * listener, and shuts down cleanly on SIGTERM/SIGINT (DISCONNECT 0x8B to MQTT 5 clients, store
 * flushed, exit 0 within 5 s).
 */
import type { Server } from 'node:net';
import type { StartOptions } from './options.js';
import { Logger, LogRateLimit } from '../log/logger.js';
import { Broker } from '../core/broker.js';
import { AnonymousPolicy, ALLOW_ALL, type Security } from '../core/auth.js';
import { TopicTrie } from '../core/topic-trie.js';
import { createStore } from '../store/index.js';
import { listenTcp } from '../transports/tcp.js';
import { mqttAcceptor } from '../protocols/mqtt/listener.js';
import type { MqttContext } from '../protocols/mqtt/context.js';
import { ConfigError } from '../errors.js';

const SHUTDOWN_DEADLINE_MS = 5000;

/** True for addresses only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Runs the broker until a signal stops it. */
export async function runStart(options: StartOptions, log: Logger): Promise<void> {
  const loopbackOnly = isLoopback(options.host);
  // mosquitto 2's rule: anonymous access only on loopback unless the operator says otherwise.
  const allowAnonymous = options.allowAnonymous || loopbackOnly;
  if (!allowAnonymous) {
    log.warn('no authentication is configured and --allow-anonymous is not set: every client will be refused', { host: options.host });
  }
  if (options.native === 'on') {
    throw new ConfigError('--native on: the native module is not available in this build yet; use --native auto or off');
  }
  log.info('topic matching and frame scanning use the TypeScript implementation', { native: options.native });

  const store = createStore(options.store, options.dataDir);
  const broker = new Broker(
    {
      maxInflight: options.maxInflight,
      maxQueuedMessages: options.maxQueuedMessages,
      maxSessionExpiry: options.maxSessionExpiry,
      maxRetainedMessages: options.maxRetainedMessages,
    },
    store,
    new TopicTrie(),
    log,
  );
  await broker.start();

  const security: Security = { authenticator: new AnonymousPolicy(allowAnonymous), authorizer: ALLOW_ALL, methods: new Map() };
  const ctx: MqttContext = {
    broker,
    limits: {
      maxPacketSize: options.maxPacketSize,
      receiveMaximum: options.receiveMaximum,
      topicAliasMaximum: options.topicAliasMaximum,
      maxKeepalive: options.maxKeepalive,
      connectTimeout: options.connectTimeout,
      maxTopicLevels: options.maxTopicLevels,
    },
    security,
    log,
    logLimit: new LogRateLimit(20),
    connections: 0,
  };

  const servers: Server[] = [];
  const mqtt = await listenTcp({ host: options.host, port: options.mqttPort, maxConnections: options.maxConnections }, mqttAcceptor(ctx, options.maxConnections));
  servers.push(mqtt);
  const address = mqtt.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.mqttPort;
  log.info('listening', { protocol: 'mqtt', transport: 'tcp', host: options.host, port });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal, connections: ctx.connections });
    const deadline = setTimeout(() => {
      log.error('shutdown took longer than 5 s; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    for (const server of servers) server.close();
    broker
      .stop(0x8b, 'server shutting down')
      .then(() => {
        log.info('stopped', { signal });
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error('shutdown failed', { error: err });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
