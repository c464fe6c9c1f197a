/** Flags of the STOMP gateway: the StompOptions part of StartOptions and its rows. */
import type { FlagDef } from '../../config/flags.js';

export interface StompOptions {
  /** STOMP over TCP; -1 (PORT_OFF) = no listener */
  stompPort: number;
  /** STOMP over TLS; -1 = no listener */
  stompsPort: number;
  /** Prefix every STOMP destination gets in the MQTT topic space ('' = none) */
  stompMount: string;
  stompMaxHeaders: number;
  stompMaxHeaderLength: number;
  stompMaxBody: number;
  stompMaxSubscriptions: number;
  stompMaxTransactions: number;
  stompMaxTransactionFrames: number;
  stompMaxTransactionBytes: number;
  /** ms between the beats we offer to send (0 = none) */
  stompHeartbeatOut: number;
  /** ms between the beats we want to receive (0 = none) */
  stompHeartbeatIn: number;
  stompRedeliveryLimit: number;
  /** seconds */
  stompRedeliveryTtl: number;
}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const STOMP_FLAGS: readonly FlagDef<keyof StompOptions>[] = [
  { name: 'stomp-port', key: 'stompPort', kind: 'port', group: 'STOMP', default: -1, help: 'STOMP over TCP (standard port 61613)' },
  { name: 'stomps-port', key: 'stompsPort', kind: 'port', group: 'STOMP', default: -1, help: 'STOMP over TLS (standard port 61614); needs --tls-cert and --tls-key' },
  {
    name: 'stomp-mount',
    key: 'stompMount',
    kind: 'string',
    group: 'STOMP',
    default: '',
    defaultText: 'none',
    valueName: 'PREFIX',
    help: 'MQTT topic prefix STOMP destinations live under, e.g. stomp/ (destination a/b = topic stomp/a/b)',
  },
  { name: 'stomp-max-headers', key: 'stompMaxHeaders', kind: 'int', group: 'STOMP', default: 64, min: 1, max: 100_000, help: 'headers accepted in one frame' },
  {
    name: 'stomp-max-header-length',
    key: 'stompMaxHeaderLength',
    kind: 'size',
    group: 'STOMP',
    default: 8192,
    min: 64,
    max: 16_777_216,
    help: 'bytes in one header line (name, colon and value) or command line',
  },
  { name: 'stomp-max-body', key: 'stompMaxBody', kind: 'size', group: 'STOMP', default: 1_048_576, min: 0, max: 268_435_455, help: 'bytes in one frame body, in bytes or as 512KiB, 1MiB' },
  { name: 'stomp-max-subscriptions', key: 'stompMaxSubscriptions', kind: 'int', group: 'STOMP', default: 1000, min: 1, max: 1_000_000, help: 'subscriptions open at once on one connection' },
  { name: 'stomp-max-transactions', key: 'stompMaxTransactions', kind: 'int', group: 'STOMP', default: 16, min: 1, max: 10_000, help: 'transactions open at once on one connection' },
  {
    name: 'stomp-max-transaction-frames',
    key: 'stompMaxTransactionFrames',
    kind: 'int',
    group: 'STOMP',
    default: 1000,
    min: 1,
    max: 1_000_000,
    help: 'SEND/ACK/NACK frames one transaction may hold before COMMIT',
  },
  {
    name: 'stomp-max-transaction-bytes',
    key: 'stompMaxTransactionBytes',
    kind: 'size',
    group: 'STOMP',
    default: 16_777_216,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'SEND body bytes the open transactions of one connection may hold',
  },
  {
    name: 'stomp-heartbeat-out',
    key: 'stompHeartbeatOut',
    kind: 'int',
    group: 'STOMP',
    default: 10_000,
    min: 0,
    max: 3_600_000,
    valueName: 'MS',
    help: 'heart-beat interval the server offers to send (heart-beat sx); 0 = never',
  },
  {
    name: 'stomp-heartbeat-in',
    key: 'stompHeartbeatIn',
    kind: 'int',
    group: 'STOMP',
    default: 10_000,
    min: 0,
    max: 3_600_000,
    valueName: 'MS',
    help: 'heart-beat interval the server asks for (heart-beat sy); a peer silent for 1.5x that is closed; 0 = never',
  },
  {
    name: 'stomp-redelivery-limit',
    key: 'stompRedeliveryLimit',
    kind: 'int',
    group: 'STOMP',
    default: 10_000,
    min: 0,
    max: 10_000_000,
    help: 'unacknowledged messages of dropped connections held for redelivery; the oldest go first',
  },
  {
    name: 'stomp-redelivery-ttl',
    key: 'stompRedeliveryTtl',
    kind: 'int',
    group: 'STOMP',
    default: 300,
    min: 1,
    max: 86_400,
    valueName: 'SECONDS',
    help: "how long a dropped connection's unacknowledged message waits for a new subscriber",
  },
];
