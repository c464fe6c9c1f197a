/** Flags of the cluster (docs/CLUSTER.md): the NATS servers that join the nodes, and its timings. */
import type { FlagDef } from '../config/flags.js';
import { ConfigError } from '../errors.js';

export interface ClusterOptions {
  /** comma-separated NATS server URLs; undefined = standalone */
  cluster: string | undefined;
  /** seconds to wait at start for NATS and the retained messages before serving anyway */
  clusterConnectTimeout: number;
  /** seconds between a node's heartbeats; a node silent for three is reported lost */
  clusterHeartbeat: number;
  /** longest wait in seconds between reconnection attempts to NATS */
  clusterReconnectMax: number;
  /** JetStream replicas of the retained-message stream (capped at 1 on a single NATS server) */
  clusterRetainedReplicas: number;
  /** seconds a node waits for another to hand over a client's session */
  clusterTakeoverTimeout: number;
  /** ms a new durable route's SUBACK waits for every live node to know it; 0 = no wait */
  clusterRouteWait: number;
  /** seconds a QoS 1/2 publisher's ack waits for NATS to confirm the message left for the other nodes */
  clusterAckTimeout: number;
  /** QoS 1/2 messages kept for the other nodes while NATS is away */
  clusterOutageBuffer: number;
  /** messages one NATS connection hands the node per turn of the event loop (0: no bound) */
  clusterIngestPerTurn: number;
  /** QoS 1/2 through the JetStream journal: persistent sessions survive the loss of their node */
  clusterDurableQos: boolean;
  /** seconds the journal keeps a message (for persistent sessions away that long) */
  clusterJournalMaxAge: number;
  /** MiB the journal holds at most per replica (the oldest dropped past it) */
  clusterJournalMaxMb: number;
  /** seconds before the journal hands an unacknowledged delivery out again (after its node died) */
  clusterRedelivery: number;
}

const GROUP = 'Cluster';

/** Rows for --help, parsing and the config file. */
export const CLUSTER_FLAGS: readonly FlagDef<keyof ClusterOptions>[] = [
  {
    name: 'cluster',
    key: 'cluster',
    kind: 'string',
    group: GROUP,
    default: undefined,
    defaultText: 'standalone',
    valueName: 'URL[,URL...]',
    help: 'NATS servers that join this node to the others (nats://host:4222,...); --node-name must be unique in the cluster (docs/CLUSTER.md)',
  },
  {
    name: 'cluster-connect-timeout',
    key: 'clusterConnectTimeout',
    kind: 'int',
    group: GROUP,
    default: 10,
    min: 0,
    max: 3600,
    valueName: 'SECONDS',
    help: 'how long the start waits for NATS and the cluster retained messages before serving local clients anyway (and joining when NATS answers)',
  },
  {
    name: 'cluster-heartbeat',
    key: 'clusterHeartbeat',
    kind: 'int',
    group: GROUP,
    default: 2,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'seconds between the heartbeats a node publishes (name, connections, NATS state); a node silent for three is reported lost',
  },
  {
    name: 'cluster-reconnect-max',
    key: 'clusterReconnectMax',
    kind: 'int',
    group: GROUP,
    default: 10,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'longest wait between attempts to reach NATS again (the wait doubles from 250 ms up to this)',
  },
  {
    name: 'cluster-retained-replicas',
    key: 'clusterRetainedReplicas',
    kind: 'int',
    group: GROUP,
    default: 3,
    min: 1,
    max: 5,
    help: 'JetStream replicas of the stream holding the retained messages (1 on a NATS server that is not clustered)',
  },
  {
    name: 'cluster-takeover-timeout',
    key: 'clusterTakeoverTimeout',
    kind: 'int',
    group: GROUP,
    default: 3,
    min: 1,
    max: 60,
    valueName: 'SECONDS',
    help: 'how long a node waits for the node holding a client id to hand its session over before rebuilding it from the cluster record (subscriptions only)',
  },
  {
    name: 'cluster-ack-timeout',
    key: 'clusterAckTimeout',
    kind: 'int',
    group: GROUP,
    default: 20,
    min: 0,
    max: 600,
    valueName: 'SECONDS',
    help: 'longest a QoS 1/2 publisher waits for its ack while NATS confirms the message reached it (sent again after a NATS server dies); past it the ack goes and a warning is logged; 0 = acks do not wait for NATS (a NATS server that dies may lose what it had not passed on)',
  },
  {
    name: 'cluster-outage-buffer',
    key: 'clusterOutageBuffer',
    kind: 'int',
    group: GROUP,
    default: 10_000,
    min: 0,
    max: 10_000_000,
    valueName: 'MESSAGES',
    help: 'QoS 1/2 messages published while NATS is away kept and sent to the other nodes when it is back (the oldest dropped past it, with a warning); 0 keeps none',
  },
  {
    name: 'cluster-ingest-per-turn',
    key: 'clusterIngestPerTurn',
    kind: 'int',
    group: GROUP,
    default: 2000,
    min: 0,
    max: 1_000_000,
    valueName: 'MESSAGES',
    help: "messages from other nodes taken per turn of the event loop on each NATS connection, each also counting the local deliveries it made; the rest waits in the socket (and in NATS) for the next turn, so a flood cannot stall the MQTT clients' acknowledgements; 0 = no bound",
  },
  {
    name: 'cluster-durable-qos',
    key: 'clusterDurableQos',
    kind: 'bool',
    group: GROUP,
    default: true,
    help: "persistent sessions' QoS 1/2 subscriptions read from a JetStream journal, so what a lost node held for its clients, and what is published while a session lives on no node, is delivered once they are back (a JetStream write per QoS 1/2 message some persistent session subscribes to, a consumer per such subscription; --no-cluster-durable-qos keeps them in the node's own store, lost with the node; all nodes must agree; docs/CLUSTER.md)",
  },
  {
    name: 'cluster-journal-max-age',
    key: 'clusterJournalMaxAge',
    kind: 'int',
    group: GROUP,
    default: 86_400,
    min: 60,
    max: 365 * 86_400,
    valueName: 'SECONDS',
    help: 'durable QoS: how long the journal keeps a message for persistent sessions that have not taken it',
  },
  {
    name: 'cluster-journal-max-mb',
    key: 'clusterJournalMaxMb',
    kind: 'int',
    group: GROUP,
    default: 1024,
    min: 1,
    max: 1_048_576,
    valueName: 'MIB',
    help: 'durable QoS: the most the journal holds per replica; past it the oldest messages go (those persistent sessions had not taken are lost, as with --max-queued-messages)',
  },
  {
    name: 'cluster-route-wait',
    key: 'clusterRouteWait',
    kind: 'int',
    group: GROUP,
    default: 2000,
    min: 0,
    max: 60_000,
    valueName: 'MS',
    help: "durable QoS: how long the acknowledgement of a persistent session's new QoS 1/2 subscription (SUBACK) waits for every live node to confirm it knows the subscription's durable route, so that what any node publishes after it is journaled; past it the acknowledgement goes anyway (counted, logged); 0 = do not wait",
  },
  {
    name: 'cluster-redelivery',
    key: 'clusterRedelivery',
    kind: 'int',
    group: GROUP,
    default: 10,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: "durable QoS: how long a delivery may stay unacknowledged by its node before the journal hands it out again (the delay before a lost node's inflight messages reach their clients elsewhere)",
  },
];

/** The NATS server URLs of --cluster, or null when standalone; throws ConfigError naming the flag. */
export function clusterServers(options: ClusterOptions): string[] | null {
  if (options.cluster === undefined) return null;
  const servers = options.cluster
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new ConfigError('--cluster needs at least one NATS server URL (nats://host:4222)');
  for (const s of servers) {
    if (!/^(nats|tls):\/\/[^\s/]+$|^[^\s:/]+:\d+$/.test(s)) throw new ConfigError(`--cluster: ${JSON.stringify(s)} is not a NATS server URL (nats://host:port or host:port)`);
  }
  return servers;
}
