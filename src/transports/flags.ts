/** Flags of the plain TCP transport, the WebSocket (uWebSockets.js) and secure WebSocket listeners, and the TLS certificates every TLS listener uses. */
import type { FlagDef } from '../config/flags.js';

/** What --tcp-transport accepts: the Rust module's sockets (native-tcp.ts), node:net (tcp.ts), or native when the module loads. */
export const TCP_TRANSPORTS = ['auto', 'native', 'node'] as const;
export type TcpTransport = (typeof TCP_TRANSPORTS)[number];

/** Plain TCP listeners, WebSocket and secure WebSocket listeners, and the certificates every TLS listener uses. */
export interface TransportOptions {
  /** Who owns plain TCP sockets (every protocol's TCP listener; TLS and WebSocket stay on node:tls and uWebSockets.js). */
  tcpTransport: TcpTransport;
  /** SO_REUSEPORT on native TCP listeners: several processes on one port. */
  tcpReusePort: boolean;
  /** -1 (PORT_OFF) = no listener */
  wsPort: number;
  wssPort: number;
  /** 0 = never; otherwise 8..960 (uWebSockets.js refuses anything else) */
  wsIdleTimeout: number;
  wsMaxBackpressure: number;
  /** comma-separated origins (scheme://host[:port]) or `*`; '' = requests without Origin and same-host pages only */
  wsAllowedOrigins: string;
  /** Plain ws behind a node:net front that closes on an unmasked client frame (wss always has its front). */
  wsCheckMasks: boolean;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsCa: string | undefined;
  tlsRequireClientCert: boolean;
}

const GROUP = 'WebSocket and TLS';

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const TRANSPORT_FLAGS: readonly FlagDef<keyof TransportOptions>[] = [
  {
    name: 'tcp-transport',
    key: 'tcpTransport',
    kind: 'enum',
    group: 'Network',
    default: 'auto',
    values: TCP_TRANSPORTS,
    help: 'who owns plain TCP sockets (MQTT, STOMP, JT/T 808, GB/T 32960): native = the Rust module (epoll in the Node loop, one read batch per readiness, less memory per connection); node = node:net; auto = native when the native module loads, else node',
  },
  {
    name: 'tcp-reuse-port',
    key: 'tcpReusePort',
    kind: 'bool',
    group: 'Network',
    default: false,
    help: 'SO_REUSEPORT on TCP listeners, so several broker processes accept on one port (the kernel spreads connections); needs the native transport (--tcp-transport native, or auto with the native module loaded)',
  },
  { name: 'ws-port', key: 'wsPort', kind: 'port', group: GROUP, default: -1, help: 'MQTT (and every gateway with a WebSocket path) over WebSocket (standard port 8083)' },
  {
    name: 'wss-port',
    key: 'wssPort',
    kind: 'port',
    group: GROUP,
    default: -1,
    help: 'the same over secure WebSocket (TLS by node:tls, like --mqtts-port); needs --tls-cert and --tls-key (standard port 8084)',
  },
  {
    name: 'ws-idle-timeout',
    key: 'wsIdleTimeout',
    kind: 'int',
    group: GROUP,
    default: 120,
    min: 0,
    max: 960,
    valueName: 'SECONDS',
    help: 'a WebSocket silent this long is pinged, then closed if still silent; 0 = never, else 8..960',
  },
  {
    name: 'ws-max-backpressure',
    key: 'wsMaxBackpressure',
    kind: 'size',
    group: GROUP,
    default: 16 * 1_048_576,
    min: 65_536,
    max: 1_073_741_824,
    help: 'bytes queued for one slow WebSocket client above which it is disconnected (QoS 0 is dropped earlier, at --max-socket-buffer)',
  },
  {
    name: 'ws-allowed-origins',
    key: 'wsAllowedOrigins',
    kind: 'string',
    group: GROUP,
    default: '',
    defaultText: 'none besides the same host',
    valueName: 'LIST',
    help: "web page origins (https://app.example.com, comma-separated, or *) whose browsers may open a WebSocket (403 otherwise); clients sending no Origin (MQTT.js, stomp.js, devices) and pages from the broker's own host name are always let in",
  },
  {
    name: 'ws-check-masks',
    key: 'wsCheckMasks',
    kind: 'bool',
    group: GROUP,
    default: true,
    help: 'close a plain WebSocket connection on an unmasked client frame (1002, RFC 6455 5.1); uWebSockets.js does not check, so --ws-port is served through a node:net front, which costs two more descriptors and a copy per connection: false serves it from uWebSockets.js directly (--wss-port always checks)',
  },
  {
    name: 'tls-cert',
    key: 'tlsCert',
    kind: 'path',
    group: GROUP,
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    help: 'PEM server certificate (chain) for every TLS listener (--mqtts-port, --wss-port, --stomps-port, ...); re-read on SIGHUP',
  },
  { name: 'tls-key', key: 'tlsKey', kind: 'path', group: GROUP, default: undefined, defaultText: 'none', valueName: 'FILE', help: 'PEM private key of --tls-cert (unencrypted); re-read on SIGHUP' },
  {
    name: 'tls-ca',
    key: 'tlsCa',
    kind: 'path',
    group: GROUP,
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    help: "PEM CA bundle that client certificates must chain to; a verified certificate's CN (or first SAN) is the client's identity",
  },
  {
    name: 'tls-require-client-cert',
    key: 'tlsRequireClientCert',
    kind: 'bool',
    group: GROUP,
    default: false,
    help: 'refuse TLS clients (every TLS and secure WebSocket listener) without a certificate signed by --tls-ca',
  },
];
