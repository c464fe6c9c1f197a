/** A gateway context over an in-memory broker and store, and an in-memory Link: for driving a protocol's connection without sockets. */
import type { Link } from '../../src/transports/link.js';
import { Broker } from '../../src/core/broker.js';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { Logger, LogRateLimit } from '../../src/log/logger.js';
import { ALLOW_ALL, AnonymousPolicy, type Security } from '../../src/core/auth.js';
import { GatewayContext } from '../../src/gateway/context.js';
import { WsRoutes } from '../../src/transports/ws-routes.js';

/** A Link that records what is written. */
export class MemoryLink implements Link {
  readonly transport = 'tcp' as const;
  readonly remoteAddress = '10.0.0.1';
  readonly remotePort = 40000;
  readonly out: Buffer[] = [];
  closed = false;
  paused = false;
  write(data: Buffer): boolean {
    this.out.push(Buffer.from(data));
    return true;
  }
  cork(): void {}
  uncork(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.closed = true;
  }
  destroy(): void {
    this.closed = true;
  }
  get bufferedAmount(): number {
    return 0;
  }
}

/** A started broker (its wheel stopped: tests drive time) behind a gateway context; anonymous clients, everything allowed unless `security` says otherwise. */
export async function memoryKit(security: Partial<Security> = {}): Promise<{ kit: GatewayContext; broker: Broker }> {
  const log = new Logger({ level: 'silent' });
  const broker = new Broker({ maxInflight: 16, maxQueuedMessages: 100, maxQueuedBytes: 0, maxSessionExpiry: 3600, maxRetainedMessages: 100 }, new MemoryStore(), new TopicTrie(), log);
  await broker.start();
  broker.wheel.stop();
  const kit = new GatewayContext({
    broker,
    security: { authenticator: new AnonymousPolicy(true), authorizer: ALLOW_ALL, methods: new Map(), admitsAnonymous: true, providers: [], ...security },
    options: {
      host: '127.0.0.1',
      maxConnections: 1000,
      maxAcceptRate: 0,
      listenBacklog: 128,
      connectTimeout: 5,
      maxSocketBuffer: 1 << 22,
      maxTopicLevels: 16,
      retainAvailable: true,
      maxConnectSize: 65_536,
      maxLoginBuffer: 64 << 20,
      allowIdentityTakeover: false,
      // Handlers here run synchronously, many logins in one go: no budget (turns.test.ts and the
      // connstorm test cover it).
      maxLoginsPerTurn: 0,
    },
    nodeName: 'test',
    log,
    logLimit: new LogRateLimit(10),
    tls: null,
    wsRoutes: new WsRoutes(),
    pacing: { ratePerSecond: 0, backlog: 128, descriptors: null, log },
    native: null,
  });
  return { kit, broker };
}
