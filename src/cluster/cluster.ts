/**
 * A node of a cluster joined through NATS (--cluster; docs/CLUSTER.md). Loaded by the server
 * with a dynamic import only when --cluster is given, so a standalone node never loads NATS.
 * It plugs into the core through the hook seam: messages published here go to the other nodes
 * (remote-routes.ts), the retained messages are shared through JetStream (retained-sync.ts),
 * and the nodes see each other through heartbeats (nodes.ts), all over one NatsLink.
 */
import type { Broker } from '../core/broker.js';
import type { Message } from '../core/message.js';
import type { TopicMatcher } from '../core/router.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { ClusterOptions } from './flags.js';
import { AckGate, type AckGateCounters } from './ack-gate.js';
import type { RegistryCounters } from './client-record.js';
import { ClientRegistry } from './client-registry.js';
import { DurableRoutes, type DurableRouteCounters } from './durable-routes.js';
import { Journal, type JournalCounters } from './journal.js';
import { JournalFeed, type FeedCounters } from './journal-feed.js';
import { NatsLink } from './nats-link.js';
import { PointToPoint, type PointToPointCounters } from './point-to-point.js';
import { Qos2Receipts } from './qos2-receipts.js';
import { RouteWait } from './route-wait.js';
import { ClusterNodes, type ClusterNodeView } from './nodes.js';
import { RemoteRoutes, type RouteCounters } from './remote-routes.js';
import { RetainedSync, type RetainedCounters } from './retained-sync.js';

export interface ClusterSetup {
  readonly options: ClusterOptions;
  /** the NATS servers of --cluster */
  readonly servers: readonly string[];
  readonly nodeName: string;
  readonly version: string;
  readonly broker: Broker;
  /** --max-inflight: each journal consumer's max ack pending */
  readonly maxInflight: number;
  readonly kit: GatewayContext;
  /** An empty topic matcher without a match cache (the native trie when the module is loaded). */
  readonly newMatcher: () => TopicMatcher;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
}

/** What the server holds of the running cluster side. */
export interface RunningCluster {
  /** Every node known, this one first (GET /api/v1/nodes). */
  nodes(): ClusterNodeView[];
  /** What went between this node and the others. */
  counters(): {
    routes: RouteCounters;
    retained: RetainedCounters;
    clients: RegistryCounters;
    acks: AckGateCounters;
    pointToPoint: PointToPointCounters;
    journal: (JournalCounters & FeedCounters & DurableRouteCounters) | null;
  };
  /** Says goodbye, flushes and closes the NATS connection (before the broker stops). */
  stop(): Promise<void>;
}

/**
 * Joins the cluster: waits up to --cluster-connect-timeout for NATS and the retained messages,
 * then serves anyway (joining in the background when NATS answers).
 */
export async function startCluster(setup: ClusterSetup): Promise<RunningCluster> {
  const { options, broker, kit, nodeName } = setup;
  const log = setup.log.child({ component: 'cluster' });
  const link = new NatsLink(setup.servers, nodeName, options.clusterReconnectMax * 1000, options.clusterIngestPerTurn, log);
  const routes = new RemoteRoutes(broker, link, nodeName, log, setup.logLimit);
  const retained = new RetainedSync(broker, link, nodeName, options.clusterRetainedReplicas, Math.min(1000, options.clusterReconnectMax * 1000), log, setup.logLimit);
  const nodes = new ClusterNodes(broker, kit, link, nodeName, setup.version, Date.now(), options.clusterHeartbeat * 1000, log, setup.logLimit, () => ({
    ...routes.counters,
    retainedWritten: retained.counters.written,
    retainedApplied: retained.counters.applied,
    retainedFailed: retained.counters.failed,
    sessionsMovedIn: registry.counters.movedIn,
    sessionsMovedOut: registry.counters.movedOut,
    sessionsAdopted: registry.counters.adopted,
    willsPublished: registry.counters.willsPublished,
    acksResent: gate.counters.resent,
    acksUnconfirmed: gate.counters.unconfirmed,
    outageSent: gate.counters.outageSent,
    outageDropped: gate.counters.outageDropped,
    p2pSent: p2p.counters.sent,
    p2pReceived: p2p.counters.received,
    p2pUnknown: p2p.counters.unknown,
    p2pRefused: p2p.counters.refused,
    p2pPassedOn: p2p.counters.passedOn,
    ingestPauses: link.ingest.pauses + link.sharedIngest.pauses,
    journalWritten: journal?.counters.written ?? 0,
    journalSkipped: durable?.counters.skipped ?? 0,
    durableFilters: durable?.size ?? 0,
    routesConfirmed: durable?.counters.confirmed ?? 0,
    routesUnconfirmed: durable?.counters.unconfirmed ?? 0,
  }));
  const registry = new ClientRegistry(broker, kit, link, nodeName, options.clusterRetainedReplicas, options.clusterTakeoverTimeout * 1000, log, setup.logLimit);
  nodes.onLost = (name) => registry.nodeLost(name);
  nodes.onLeft = (name) => registry.nodeLeft(name);
  // A point-to-point message goes to its client's node, not by topic (one delivered here has no route: nothing to send again).
  const resend = (msg: Message, afterOutage: boolean): Promise<void> | null => {
    if (msg.target !== null) return p2p.resend(msg);
    routes.forward(msg, afterOutage);
    return null;
  };
  const gate = new AckGate(broker, link, resend, options.clusterAckTimeout * 1000, options.clusterOutageBuffer, log, setup.logLimit);
  const p2p = new PointToPoint(broker, link, gate, routes.qos2Copies, (clientId) => registry.locate(clientId), nodeName, log, setup.logLimit);
  const offs = [routes.attach(), retained.attach(), registry.attach(), gate.attach(), p2p.attach()];
  let journal: Journal | null = null;
  let feed: JournalFeed | null = null;
  let durable: DurableRoutes | null = null;
  if (options.clusterDurableQos) {
    // A JetStream request unanswered this long is made again: one lost in a leader election (or in the NATS
    // cluster's start) must not hold the journal or a QoS 2 record for all of --cluster-ack-timeout.
    const timeoutMs = Math.min(5000, Math.max(1000, options.clusterAckTimeout * 1000));
    journal = new Journal(nodeName, { replicas: options.clusterRetainedReplicas, maxAgeSeconds: options.clusterJournalMaxAge, maxBytes: options.clusterJournalMaxMb * 1024 * 1024, timeoutMs }, log);
    const routesOfJournal = new DurableRoutes(nodeName, options.clusterRetainedReplicas, setup.newMatcher(), log, setup.logLimit);
    journal.wanted = (topic) => routesOfJournal.wants(topic);
    durable = routesOfJournal;
    const receipts = new Qos2Receipts(timeoutMs, log);
    journal.inboundIds = (msg) => {
      const origin = msg.origin;
      if (origin === null || !receipts.ready || broker.sessions.get(origin)?.persistent !== true) return null;
      return receipts.inboundMessageId(origin, msg.inboundId);
    };
    feed = new JournalFeed(
      broker,
      journal,
      durable,
      receipts,
      nodeName,
      new RouteWait(broker, routesOfJournal, () => nodes.running(), options.clusterRouteWait, log, setup.logLimit),
      { window: Math.max(1, Math.min(setup.maxInflight, 65_535)), redeliveryMs: options.clusterRedelivery * 1000, replicas: options.clusterRetainedReplicas, timeoutMs },
      log,
      setup.logLimit,
    );
    routes.journal = journal;
    gate.journal = journal;
    offs.push(feed.attach());
    link.listen(journal);
    link.listen(durable);
    link.listen(feed);
  }
  link.listen(routes);
  link.listen(retained);
  link.listen(nodes);
  link.listen(registry);
  link.listen(gate);
  link.listen(p2p);
  let timer: NodeJS.Timeout | null = null;
  const waited = await Promise.race([
    retained.loaded.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, options.clusterConnectTimeout * 1000, false);
    }),
  ]);
  if (timer !== null) clearTimeout(timer);
  if (!waited) log.warn('cluster not joined yet: serving local clients; joining when NATS answers', { servers: setup.servers, waitedSeconds: options.clusterConnectTimeout });
  log.info('cluster node started', { node: nodeName, servers: setup.servers, joined: waited, interests: routes.interests });
  return {
    nodes: () => nodes.views(),
    counters: () => ({
      routes: { ...routes.counters },
      retained: { ...retained.counters },
      clients: { ...registry.counters },
      acks: { ...gate.counters },
      pointToPoint: { ...p2p.counters },
      journal: journal === null || feed === null || durable === null ? null : { ...journal.counters, ...feed.counters, ...durable.counters },
    }),
    async stop() {
      for (const off of offs) off();
      feed?.close();
      journal?.close();
      durable?.close();
      nodes.close();
      registry.close();
      retained.close();
      routes.close();
      await link.close();
    },
  };
}
