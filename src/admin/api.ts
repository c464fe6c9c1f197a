/**
 * The admin API's route table: clients, bans, sessions and subscriptions, retained messages,
 * publish, stats, nodes and reload under /api/v1; /metrics; the dashboard's files; and the
 * health checks, which need no token.
 */
import type { ClusterNodeView } from '../cluster/nodes.js';
import type { Broker } from '../core/broker.js';
import { brokerFigures } from '../core/sys-stats.js';
import type { GatewayContext } from '../gateway/context.js';
import { BAN_KINDS, normalAddress, type Ban, type BanKind, type BanList } from './bans.js';
import { clientDetail, listClients, listSessions, listSubscriptions, sessionSummary } from './clients.js';
import type { DashboardAssets } from './dashboard.js';
import { badParameter, json, jsonBody, notFound, type ApiReply, type ApiRequest, type ApiRoute } from './http.js';
import { deleteRetained, getRetained, listRetained, publish } from './messages.js';
import type { AdminMetrics } from './metrics.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';

/** What reload answers: whether every part applied, and what changed. */
export interface ReloadOutcome {
  readonly ok: boolean;
}

/** What the routes work on. */
export interface AdminServices {
  readonly kit: GatewayContext;
  readonly broker: Broker;
  readonly bans: BanList;
  readonly metrics: AdminMetrics;
  readonly assets: DashboardAssets;
  readonly nodeName: string;
  readonly version: string;
  /** ms since the epoch */
  readonly startedAt: number;
  /** What SIGHUP does. */
  reload(): Promise<ReloadOutcome>;
  /** False until every listener is bound, and again once stopping. */
  ready(): boolean;
  /** The cluster's nodes, this one first; null when standalone (or not joined yet). */
  clusterNodes(): ClusterNodeView[] | null;
}

/** Longest ban: ten years (longer is "for good": leave the expiry out). */
const MAX_BAN_SECONDS = 10 * 365 * 24 * 3600;

/** Every route of the admin listener. */
export function adminRoutes(s: AdminServices): ApiRoute[] {
  const v1 = '/api/v1';
  return [
    { method: 'GET', pattern: '/healthz', open: true, handler: () => json({ status: 'ok' }) },
    { method: 'GET', pattern: '/readyz', open: true, handler: () => (s.ready() ? json({ status: 'ready' }) : json({ status: 'not ready' }, 503)) },
    { method: 'GET', pattern: '/', open: true, handler: () => s.assets.reply('index.html') },
    { method: 'GET', pattern: '/metrics', handler: () => ({ status: 200, text: s.metrics.render(), contentType: PROMETHEUS_CONTENT_TYPE }) },
    { method: 'GET', pattern: '/:file', open: true, handler: (req) => s.assets.reply(req.params['file']!) },
    { method: 'GET', pattern: `${v1}/clients`, handler: (req) => json(listClients(s.kit, req.query)) },
    { method: 'GET', pattern: `${v1}/clients/:clientId`, handler: (req) => json(clientDetail(s.kit, onlineClient(s, req))) },
    {
      method: 'DELETE',
      pattern: `${v1}/clients/:clientId`,
      handler: (req) => {
        onlineClient(s, req).kick('kicked');
        return { status: 204, json: null };
      },
    },
    { method: 'GET', pattern: `${v1}/bans`, handler: () => json({ data: s.bans.list() }) },
    { method: 'POST', pattern: `${v1}/bans`, handler: (req) => addBan(s, req) },
    {
      method: 'DELETE',
      pattern: `${v1}/bans/:as/:who`,
      handler: (req) => {
        const as = banKind(req.params['as']!, 'as');
        if (!s.bans.remove(as, req.params['who']!)) throw notFound(`no ban on ${as} ${req.params['who']}`);
        return { status: 204, json: null };
      },
    },
    { method: 'GET', pattern: `${v1}/subscriptions`, handler: (req) => json(listSubscriptions(s.broker, req.query)) },
    { method: 'GET', pattern: `${v1}/sessions`, handler: (req) => json(listSessions(s.broker, req.query)) },
    {
      method: 'GET',
      pattern: `${v1}/sessions/:clientId`,
      handler: (req) => {
        const session = s.broker.sessions.get(req.params['clientId']!);
        if (session === undefined) throw notFound(`no session for client id ${req.params['clientId']}`);
        return json(sessionSummary(session));
      },
    },
    {
      method: 'DELETE',
      pattern: `${v1}/sessions/:clientId`,
      handler: (req) => {
        if (!s.broker.discardSession(req.params['clientId']!)) throw notFound(`no session for client id ${req.params['clientId']}`);
        return { status: 204, json: null };
      },
    },
    { method: 'GET', pattern: `${v1}/retained`, handler: (req) => json(listRetained(s.broker, req)) },
    { method: 'GET', pattern: `${v1}/retained/*topic`, handler: (req) => getRetained(s.broker, req.params['topic']!) },
    { method: 'DELETE', pattern: `${v1}/retained/*topic`, handler: (req) => deleteRetained(s.broker, req.params['topic']!) },
    { method: 'POST', pattern: `${v1}/publish`, handler: (req) => publish(s.broker, req) },
    { method: 'GET', pattern: `${v1}/stats`, handler: () => json(stats(s)) },
    { method: 'GET', pattern: `${v1}/nodes`, handler: () => json({ data: nodes(s) }) },
    {
      method: 'POST',
      pattern: `${v1}/reload`,
      handler: async () => json(await s.reload()),
    },
  ];
}

function onlineClient(s: AdminServices, req: ApiRequest) {
  const id = req.params['clientId']!;
  const shell = s.kit.connection(id);
  if (shell === null) throw notFound(`no client connected with client id ${id}`);
  return shell;
}

function banKind(value: unknown, parameter: string): BanKind {
  if (typeof value !== 'string' || !(BAN_KINDS as readonly string[]).includes(value)) throw badParameter(parameter, `must be one of ${BAN_KINDS.join(', ')} (got ${JSON.stringify(value)})`);
  return value as BanKind;
}

/** POST /bans {as, who, reason?, seconds? | until?}: bans, then kicks whoever it names that is connected. */
function addBan(s: AdminServices, req: ApiRequest): ApiReply {
  const body = jsonBody(req);
  const as = banKind(body['as'], 'as');
  const who = body['who'];
  if (typeof who !== 'string' || who === '' || who.length > 65_535) throw badParameter('who', 'must be a non-empty string (a client id, username or address)');
  const reason = body['reason'] ?? '';
  if (typeof reason !== 'string' || reason.length > 1024) throw badParameter('reason', 'must be a string of at most 1024 characters');
  const now = Date.now();
  let until = 0;
  if (body['seconds'] !== undefined && body['until'] !== undefined) throw badParameter('until', 'give either seconds or until, not both');
  if (body['seconds'] !== undefined) {
    const seconds = body['seconds'];
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_BAN_SECONDS) {
      throw badParameter('seconds', `must be whole seconds from 1 to ${MAX_BAN_SECONDS}; leave it out for a ban without end`);
    }
    until = now + seconds * 1000;
  } else if (body['until'] !== undefined) {
    const raw = body['until'];
    until = typeof raw === 'number' ? raw : typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
    if (!Number.isFinite(until) || until <= now) throw badParameter('until', 'must be a time in the future, as ms since the epoch or an ISO 8601 date');
  }
  const ban: Ban = { as, who: as === 'address' ? normalAddress(who) : who, reason, at: now, until };
  s.bans.add(ban);
  let kicked = 0;
  for (const shell of [...s.kit.onlineConnections()]) {
    const hit = as === 'clientid' ? shell.clientId === ban.who : as === 'username' ? (shell.client?.username ?? null) === ban.who : normalAddress(shell.link.remoteAddress) === ban.who;
    if (!hit) continue;
    shell.kick('kicked');
    kicked++;
  }
  return json({ ban, kicked }, 201);
}

function stats(s: AdminServices): Record<string, unknown> {
  return {
    node: s.nodeName,
    version: s.version,
    uptimeSeconds: Math.floor((Date.now() - s.startedAt) / 1000),
    connections: { open: s.kit.connections, online: s.broker.onlineCount, max: s.kit.options.maxConnections },
    ...brokerFigures(s.broker),
  };
}

/** This node, then the other nodes of the cluster with their state (running, lost: no heartbeat, left). */
function nodes(s: AdminServices): Array<Record<string, unknown>> {
  const cluster = s.clusterNodes();
  if (cluster === null) return [nodeView(s)];
  const self = cluster.find((n) => n.self);
  const out: Array<Record<string, unknown>> = [{ ...nodeView(s), subscriptions: self?.subscriptions, nats: self?.nats, traffic: self?.traffic }];
  for (const n of cluster) if (!n.self) out.push({ ...n });
  return out;
}

function nodeView(s: AdminServices): Record<string, unknown> {
  return {
    name: s.nodeName,
    version: s.version,
    status: s.ready() ? 'running' : 'starting or stopping',
    self: true,
    uptimeSeconds: Math.floor((Date.now() - s.startedAt) / 1000),
    connections: s.broker.onlineCount,
    rss: process.memoryUsage().rss,
  };
}
