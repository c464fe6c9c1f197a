/** Flags of WebSocket (uWebSockets.js), TLS and secure WebSocket listeners: the TransportOptions part of StartOptions and its rows. */
import type { FlagDef } from '../options.js';

/** WebSocket, secure WebSocket and MQTT over TLS listeners, and the certificates they use. */
export interface TransportOptions {
  /** -1 (PORT_OFF) = no listener */
  wsPort: number;
  wssPort: number;
  mqttsPort: number;
  /** URL path of MQTT over WebSocket */
  wsPath: string;
  /** 0 = never; otherwise 8..960 (uWebSockets.js refuses anything else) */
  wsIdleTimeout: number;
  wsMaxBackpressure: number;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsCa: string | undefined;
  tlsRequireClientCert: boolean;
}

const GROUP = 'WebSocket and TLS';

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const TRANSPORT_FLAGS: readonly FlagDef[] = [
  { name: 'ws-port', key: 'wsPort', kind: 'port', group: GROUP, default: -1, help: 'MQTT (and every gateway with a WebSocket path) over WebSocket (standard port 8083)' },
  { name: 'wss-port', key: 'wssPort', kind: 'port', group: GROUP, default: -1, help: 'the same over secure WebSocket (TLS by node:tls, like --mqtts-port); needs --tls-cert and --tls-key (standard port 8084)' },
  { name: 'mqtts-port', key: 'mqttsPort', kind: 'port', group: GROUP, default: -1, help: 'MQTT over TLS; needs --tls-cert and --tls-key (standard port 8883)' },
  { name: 'ws-path', key: 'wsPath', kind: 'string', group: GROUP, default: '/mqtt', valueName: 'PATH', help: 'URL path of MQTT over WebSocket (subprotocols mqtt and mqttv3.1)' },
  { name: 'ws-idle-timeout', key: 'wsIdleTimeout', kind: 'int', group: GROUP, default: 120, min: 0, max: 960, valueName: 'SECONDS', help: 'a WebSocket silent this long is pinged, then closed if still silent; 0 = never, else 8..960' },
  { name: 'ws-max-backpressure', key: 'wsMaxBackpressure', kind: 'size', group: GROUP, default: 16 * 1_048_576, min: 65_536, max: 1_073_741_824, help: 'bytes queued for one slow WebSocket client above which it is disconnected (QoS 0 is dropped earlier, at --max-socket-buffer)' },
  { name: 'tls-cert', key: 'tlsCert', kind: 'path', group: GROUP, default: undefined, defaultText: 'none', valueName: 'FILE', help: 'PEM server certificate (chain) for --mqtts-port and --wss-port; re-read on SIGHUP' },
  { name: 'tls-key', key: 'tlsKey', kind: 'path', group: GROUP, default: undefined, defaultText: 'none', valueName: 'FILE', help: 'PEM private key of --tls-cert (unencrypted); re-read on SIGHUP' },
  { name: 'tls-ca', key: 'tlsCa', kind: 'path', group: GROUP, default: undefined, defaultText: 'none', valueName: 'FILE', help: 'PEM CA bundle that client certificates must chain to; a verified certificate\'s CN (or first SAN) is the client\'s identity' },
  { name: 'tls-require-client-cert', key: 'tlsRequireClientCert', kind: 'bool', group: GROUP, default: false, help: 'refuse TLS clients (--mqtts-port and --wss-port) without a certificate signed by --tls-ca' },
];
