/** Flags every protocol's connections obey: where to listen, how many, how fast, and shared limits. */
import type { FlagDef } from '../config/flags.js';

export interface GatewayOptions {
  host: string;
  maxConnections: number;
  /** 0 = unlimited */
  maxAcceptRate: number;
  listenBacklog: number;
  /** seconds a new connection has to log in (CONNECT, STOMP CONNECT) */
  connectTimeout: number;
  /** write-buffer bytes above which QoS 0 deliveries to a slow client are dropped and its reading pauses */
  maxSocketBuffer: number;
  maxTopicLevels: number;
  /** false: retained messages are off, and a client's retained publish or will is refused */
  retainAvailable: boolean;
  /** bytes of a connection's first frame (MQTT CONNECT, STOMP CONNECT, a JT/T 808 or GB/T 32960 login) */
  maxConnectSize: number;
  /** bytes kept over every connection not yet logged in (unfinished login frames, what waits behind one) */
  maxLoginBuffer: number;
  /** true: a client may take over a session another identity created (as in mosquitto) */
  allowIdentityTakeover: boolean;
  /** MQTT CONNECTs handled per event-loop phase before the rest wait for the next (0 = no limit) */
  maxLoginsPerTurn: number;
}

/** The smallest --max-connect-size: an MQTT 5 CONNECT with a short id, username, password and a small will fits. */
export const MIN_MAX_CONNECT_SIZE = 512;

/** Rows for --help, parsing and the config file. */
export const GATEWAY_FLAGS: readonly FlagDef<keyof GatewayOptions>[] = [
  { name: 'host', key: 'host', kind: 'string', group: 'Network', default: '127.0.0.1', valueName: 'ADDRESS', help: 'address to listen on (0.0.0.0 or :: for all interfaces)' },
  {
    name: 'max-connections',
    key: 'maxConnections',
    kind: 'int',
    group: 'Network',
    default: 1_000_000,
    min: 1,
    max: 10_000_000,
    help: 'connections accepted at once over every protocol and listener; more are refused',
  },
  {
    name: 'max-accept-rate',
    key: 'maxAcceptRate',
    kind: 'int',
    group: 'Network',
    default: 0,
    defaultText: '0 (unlimited)',
    min: 0,
    max: 1_000_000,
    help: 'connections each TCP/TLS listener accepts per second; above it the listener stops accepting for a moment and new connections wait in the backlog',
  },
  {
    name: 'listen-backlog',
    key: 'listenBacklog',
    kind: 'int',
    group: 'Network',
    default: 4096,
    min: 1,
    max: 65535,
    help: 'connections the kernel queues for each TCP/TLS listener before accepting (capped by net.core.somaxconn)',
  },
  { name: 'connect-timeout', key: 'connectTimeout', kind: 'int', group: 'Network', default: 10, min: 1, max: 3600, valueName: 'SECONDS', help: 'time a new connection has to send CONNECT' },
  {
    name: 'max-socket-buffer',
    key: 'maxSocketBuffer',
    kind: 'size',
    group: 'Limits',
    default: 4 * 1_048_576,
    min: 65_536,
    max: 1_073_741_824,
    help: 'bytes waiting to be written to one slow client above which QoS 0 messages to it are dropped (and counted) and its own input is not read until it catches up',
  },
  { name: 'max-topic-levels', key: 'maxTopicLevels', kind: 'int', group: 'Limits', default: 128, min: 1, max: 65535, help: 'most levels in a topic name or filter, whatever the protocol' },
  {
    name: 'retain-available',
    key: 'retainAvailable',
    kind: 'bool',
    group: 'Limits',
    default: true,
    help: 'keep retained messages; --no-retain-available refuses every retained publish and will, whatever the protocol (MQTT 5: Retain Available 0, DISCONNECT 0x9A; 3.1.1: the connection closes; STOMP: ERROR)',
  },
  {
    name: 'max-logins-per-turn',
    key: 'maxLoginsPerTurn',
    kind: 'int',
    group: 'Limits',
    default: 8,
    min: 0,
    max: 100_000,
    help: 'logins handled in one pass of the event loop, over every protocol (MQTT and STOMP CONNECT, JT/T 808 registration and authentication, GB/T 32960 vehicle login); more wait for the next pass, so that a reconnect storm cannot keep established clients waiting for milliseconds (each login costs tens of microseconds); 0 = no limit',
  },
  {
    name: 'max-connect-size',
    key: 'maxConnectSize',
    kind: 'size',
    group: 'Limits',
    default: 65_536,
    min: MIN_MAX_CONNECT_SIZE,
    max: 268_435_455,
    help: "largest first frame before a client is authenticated: MQTT CONNECT (will and authentication data included; MQTT 5 gets CONNACK 0x95, 3.1.1 is closed), STOMP CONNECT (ERROR), JT/T 808 and GB/T 32960 logins (closed); never above the protocol's own frame limit",
  },
  {
    name: 'max-login-buffer',
    key: 'maxLoginBuffer',
    kind: 'size',
    group: 'Limits',
    default: 64 * 1_048_576,
    min: 65_536,
    max: 68_719_476_736,
    help: 'bytes kept for every connection not logged in yet, together (unfinished login frames, bytes behind a login being authenticated); past it, or above --max-memory, such a connection is closed',
  },
  {
    name: 'allow-identity-takeover',
    key: 'allowIdentityTakeover',
    kind: 'bool',
    group: 'Security',
    default: false,
    help: 'let a client use a client id whose session another identity created (its queue, subscriptions; never its %c rights); off: MQTT 5 CONNACK 0x85, 3.1.1 return code 2, STOMP ERROR',
  },
];
