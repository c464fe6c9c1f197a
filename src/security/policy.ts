/**
 * The SecurityPolicy of a server: admission before authentication (memory, connection rate per
 * address), a guard per admitted connection, point-to-point topics, and the topic and
 * subscription limits the protocols enforce.
 */
import type { Authorizer, ClientGuard, Pausable, SecurityPolicy, TopicGrants } from '../core/auth.js';
import type { SecurityOptions } from './flags.js';
import { ConnectionGuard, type PublishRate } from './client-guard.js';
import { ConnectionRateLimiter, MemoryGuard } from './rate-limits.js';
import { PublishPacer } from './publish-pacer.js';

/** 0x89 Server busy (3.1.1: return code 3). */
const SERVER_BUSY = 0x89;
/** 0x9F Connection rate exceeded (3.1.1: return code 3). */
const CONNECTION_RATE_EXCEEDED = 0x9f;

export class GatewayPolicy implements SecurityPolicy {
  readonly maxTopicLength: number;
  readonly maxSubscriptions: number;
  private readonly rate: PublishRate;
  private readonly cacheSize: number;
  private readonly connections: ConnectionRateLimiter;
  private readonly memory: MemoryGuard;
  private readonly openGuard: ClientGuard | null;
  private readonly pacer = new PublishPacer();

  constructor(
    options: SecurityOptions,
    private readonly authorizer: Authorizer,
    /** `+` = any parent, null = point-to-point off */
    private readonly p2pParent: string | null,
  ) {
    this.maxTopicLength = options.maxTopicLength;
    this.maxSubscriptions = options.maxSubscriptions;
    this.rate = { messages: options.maxPublishRate, bytes: options.maxPublishBytesRate, strikes: options.publishQuotaStrikes };
    this.cacheSize = options.aclCacheSize;
    this.connections = new ConnectionRateLimiter(options.maxConnectionRate);
    this.memory = new MemoryGuard(options.maxMemory);
    const unpaced = this.rate.messages <= 0 && this.rate.bytes <= 0;
    this.openGuard = unpaced && options.aclFile === undefined ? openGuard(authorizer) : null;
  }

  admission(link: { readonly remoteAddress: string }): number {
    const now = Date.now();
    if (this.memory.overLimit(now)) return SERVER_BUSY;
    // The address is read only when a rate is set: reading it costs per-connection memory.
    if (this.connections.limited && !this.connections.allow(link.remoteAddress, now)) {
      this.connections.noteRefusal(now);
      return CONNECTION_RATE_EXCEEDED;
    }
    return 0;
  }

  memoryBusy(): boolean {
    return this.memory.overLimit(Date.now());
  }

  acceptable(link: { readonly remoteAddress: string }): boolean {
    if (!this.connections.limited) return true;
    const now = Date.now();
    return !(this.connections.refusalsSpent(now) && this.connections.overRate(link.remoteAddress, now));
  }

  guard(clientId: string, username: string | null, grants: TopicGrants | null, link: Pausable): ClientGuard {
    // Nothing to cache or pace (no ACL file, no topic grants, no publish rate): one shared,
    // stateless guard instead of an object per idle connection.
    if (grants === null && this.openGuard !== null) return this.openGuard;
    return new ConnectionGuard(this.authorizer, clientId, username, grants, this.cacheSize, this.rate, link, this.pacer);
  }

  pointToPoint(topic: string): string | null {
    return p2pTarget(this.p2pParent, topic);
  }
}

/** The guard of every client when there is no ACL file and no publish rate (decisions need no client). */
function openGuard(authorizer: Authorizer): ClientGuard {
  return Object.freeze({
    grants: null,
    canPublish: (topic: string) => authorizer.canPublish('', null, topic, null),
    canSubscribe: (filter: string) => authorizer.canSubscribe('', null, filter, null),
    countPublish: () => true,
  });
}

/** The client id in `{parent}/p2p/{clientId}` (parent `+` = any first level), or null. */
export function p2pTarget(parent: string | null, topic: string): string | null {
  if (parent === null) return null;
  let rest: number;
  if (parent === '+') {
    const slash = topic.indexOf('/');
    if (slash === -1) return null;
    rest = slash + 1;
  } else {
    if (!topic.startsWith(parent) || topic.charCodeAt(parent.length) !== 0x2f) return null;
    rest = parent.length + 1;
  }
  if (!topic.startsWith('p2p/', rest)) return null;
  const clientId = topic.slice(rest + 4);
  return clientId === '' ? null : clientId;
}
