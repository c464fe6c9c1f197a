/**
 * Connected clients and sessions as the admin API shows them. The registry is the broker's
 * session table (each logged-in connection owns its session), so listing costs a walk at
 * request time and nothing per connection or message.
 */
import type { Broker } from '../core/broker.js';
import { type Session, bindingKey } from '../core/session.js';
import type { GatewayContext } from '../gateway/context.js';
import type { ConnectionShell } from '../gateway/shell.js';
import { normalAddress } from './bans.js';
import { PageCollector, type Page, badParameter, pageParams, timeParam } from './http.js';

/** One connected client in a list. */
export interface ClientSummary {
  readonly clientId: string;
  readonly username: string | null;
  readonly protocol: string;
  readonly protocolVersion: string;
  readonly transport: string;
  readonly address: string;
  readonly port: number;
  /** ISO 8601 */
  readonly connectedAt: string;
  readonly keepAlive: number | null;
  readonly subscriptions: number;
  readonly inflight: number;
  readonly queued: number;
}

/** One client in full. */
export interface ClientDetail extends ClientSummary {
  readonly cleanStart: boolean | null;
  /** Session Expiry Interval in seconds (0 = ends with the connection). */
  readonly sessionExpiry: number;
  /** Identity from a verified client certificate, or null. */
  readonly certificateIdentity: string | null;
  /** The topic lists of a token or JWT that limit it, or null (the ACL decides). */
  readonly grants: { readonly publish: readonly string[]; readonly subscribe: readonly string[] } | null;
  readonly subscriptionList: ReadonlyArray<{ readonly filter: string; readonly qos: number }>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
}

/** One session, online or not. */
export interface SessionSummary {
  readonly clientId: string;
  readonly protocol: string;
  readonly online: boolean;
  readonly persistent: boolean;
  /** seconds; 4294967295 = never */
  readonly expiryInterval: number;
  /** ISO 8601, or null while online */
  readonly disconnectedAt: string | null;
  readonly subscriptions: number;
  readonly inflight: number;
  readonly queued: number;
  /** Who it belongs to: "user:NAME" (an authenticated identity), "anonymous", or null (stored before sessions were bound). */
  readonly owner: string | null;
}

/** When a connection got online, in ms since the epoch. */
export function connectedAt(kit: GatewayContext, shell: ConnectionShell): number {
  return kit.epoch + shell.onlineSince * 1000;
}

/** A connected client in a list. */
export function clientSummary(kit: GatewayContext, shell: ConnectionShell): ClientSummary {
  const info = shell.clientInfo();
  const session = shell.client?.session ?? null;
  return {
    clientId: info.clientId,
    username: info.username,
    protocol: info.protocol,
    protocolVersion: info.protocolVersion,
    transport: info.transport,
    address: info.address,
    port: info.port,
    connectedAt: new Date(connectedAt(kit, shell)).toISOString(),
    keepAlive: info.keepAlive ?? null,
    subscriptions: session?.subscriptions.size ?? 0,
    inflight: session?.inflight.size ?? 0,
    queued: session?.queue.length ?? 0,
  };
}

/** A connected client in full. */
export function clientDetail(kit: GatewayContext, shell: ConnectionShell): ClientDetail {
  const session = shell.client?.session ?? null;
  const info = shell.clientInfo();
  const subscriptionList: Array<{ filter: string; qos: number }> = [];
  if (session !== null) for (const sub of session.subscriptions.values()) subscriptionList.push({ filter: sub.filter, qos: sub.qos });
  const grants = shell.client?.grants ?? null;
  return {
    ...clientSummary(kit, shell),
    cleanStart: info.cleanStart ?? null,
    sessionExpiry: session?.expiryInterval ?? 0,
    certificateIdentity: shell.link.peerIdentity ?? null,
    grants: grants === null ? null : { publish: grants.publish, subscribe: grants.subscribe },
    subscriptionList,
    bytesIn: shell.bytesIn,
    bytesOut: shell.bytesOut,
    messagesIn: shell.messagesIn,
    messagesOut: shell.messagesOut,
  };
}

/** A session in a list. */
export function sessionSummary(session: Session): SessionSummary {
  return {
    clientId: session.clientId,
    protocol: session.protocol,
    online: session.online,
    persistent: session.persistent,
    expiryInterval: session.expiryInterval,
    disconnectedAt: session.online || session.disconnectedAt === 0 ? null : new Date(session.disconnectedAt).toISOString(),
    subscriptions: session.subscriptions.size,
    inflight: session.inflight.size,
    queued: session.queue.length,
    owner: session.identity === null ? null : bindingKey(session.identity),
  };
}

/** GET /clients: filters (protocol, username, clientIdPrefix, address, connectedSince) and paging. */
export function listClients(kit: GatewayContext, query: URLSearchParams): Page<ClientSummary> {
  const { page, limit } = pageParams(query);
  const protocol = query.get('protocol');
  if (protocol !== null && !/^[a-z0-9]+$/.test(protocol)) throw badParameter('protocol', `must be a protocol name such as mqtt, stomp, jt808 or gbt32960 (got "${protocol}")`);
  const username = query.get('username');
  const prefix = query.get('clientIdPrefix');
  const address = query.get('address');
  const wanted = address === null ? null : normalAddress(address);
  const since = timeParam(query, 'connectedSince');
  const out = new PageCollector<ClientSummary>(page, limit);
  for (const shell of kit.onlineConnections()) {
    if (protocol !== null && shell.protocolName !== protocol) continue;
    if (username !== null && (shell.client?.username ?? null) !== username) continue;
    if (prefix !== null && !shell.clientId.startsWith(prefix)) continue;
    if (wanted !== null && normalAddress(shell.link.remoteAddress) !== wanted) continue;
    if (since !== null && connectedAt(kit, shell) < since) continue;
    if (out.wants()) out.data.push(clientSummary(kit, shell));
  }
  return out.result();
}

/** GET /sessions: every session, online and offline persistent ones (?online=true|false, ?clientIdPrefix). */
export function listSessions(broker: Broker, query: URLSearchParams): Page<SessionSummary> {
  const { page, limit } = pageParams(query);
  const online = boolParam(query, 'online');
  const prefix = query.get('clientIdPrefix');
  const out = new PageCollector<SessionSummary>(page, limit);
  for (const session of broker.sessions.values()) {
    if (online !== null && session.online !== online) continue;
    if (prefix !== null && !session.clientId.startsWith(prefix)) continue;
    if (out.wants()) out.data.push(sessionSummary(session));
  }
  return out.result();
}

/** One subscription in GET /subscriptions. */
export interface SubscriptionSummary {
  readonly clientId: string;
  readonly filter: string;
  readonly qos: number;
  readonly online: boolean;
}

/** GET /subscriptions: every subscription of every session (?clientId, ?filter exact). */
export function listSubscriptions(broker: Broker, query: URLSearchParams): Page<SubscriptionSummary> {
  const { page, limit } = pageParams(query);
  const clientId = query.get('clientId');
  const filter = query.get('filter');
  const out = new PageCollector<SubscriptionSummary>(page, limit);
  const sessions = clientId === null ? broker.sessions.values() : [broker.sessions.get(clientId)].filter((s): s is Session => s !== undefined);
  for (const session of sessions) {
    for (const sub of session.subscriptions.values()) {
      if (filter !== null && sub.filter !== filter) continue;
      if (out.wants()) out.data.push({ clientId: session.clientId, filter: sub.filter, qos: sub.qos, online: session.online });
    }
  }
  return out.result();
}

/** A true/false query parameter, or null when absent. */
export function boolParam(query: URLSearchParams, name: string): boolean | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return null;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw badParameter(name, `must be true or false (got "${raw}")`);
}
