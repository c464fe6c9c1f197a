/** Flags of the JT/T 808 gateway: the Jt808Options part of StartOptions and its rows. */
import type { FlagDef } from '../../config/flags.js';

/** Listeners, registration/authentication endpoints, deadlines and limits of the JT/T 808 gateway. */
export interface Jt808Options {
  /** JT/T 808 over TCP; -1 (PORT_OFF) = no listener */
  jt808Port: number;
  /** JT/T 808 over TLS; -1 = no listener */
  jt808TlsPort: number;
  /** HTTP endpoint that registers terminals (0100); undefined = none */
  jt808RegistryUrl: string | undefined;
  /** HTTP endpoint that authenticates terminals (0102); undefined = none */
  jt808AuthUrl: string | undefined;
  /** seconds per HTTP request */
  jt808HttpTimeout: number;
  /** further attempts after a failed HTTP request (network error, timeout, 5xx) */
  jt808HttpRetries: number;
  /** seconds a terminal may stay silent before it is closed */
  jt808HeartbeatTimeout: number;
  /** seconds a new connection has to authenticate */
  jt808AuthTimeout: number;
  /** seconds between re-sends of a command awaiting the terminal's reply */
  jt808RetryInterval: number;
  /** re-sends of a command before it is dropped */
  jt808RetryCount: number;
  /** commands awaiting a reply at once per terminal */
  jt808MaxInflight: number;
  /** commands queued per terminal behind those */
  jt808MaxQueued: number;
  /** escaped bytes between two 7E delimiters */
  jt808MaxFrameSize: number;
  /** packets of split messages held per terminal */
  jt808MaxSplitParts: number;
  /** seconds a split message has to complete */
  jt808SplitTimeout: number;
  /** bad frames in a row before the connection is closed */
  jt808MaxViolations: number;
}

const GROUP = 'JT/T 808';

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const JT808_FLAGS: readonly FlagDef<keyof Jt808Options>[] = [
  { name: 'jt808-port', key: 'jt808Port', kind: 'port', group: GROUP, default: -1, help: 'JT/T 808 vehicle terminals over TCP (standard port 6207)' },
  { name: 'jt808-tls-port', key: 'jt808TlsPort', kind: 'port', group: GROUP, default: -1, help: 'JT/T 808 over TLS; needs --tls-cert and --tls-key' },
  {
    name: 'jt808-registry-url',
    key: 'jt808RegistryUrl',
    kind: 'string',
    group: GROUP,
    default: undefined,
    defaultText: 'none',
    valueName: 'URL',
    help: 'HTTP endpoint that registers terminals: POST of the 0100 body and phone, answers {"code":0,"authcode":"..."}; without this and --jt808-auth-url terminals are anonymous (allowed on loopback or with --allow-anonymous)',
  },
  {
    name: 'jt808-auth-url',
    key: 'jt808AuthUrl',
    kind: 'string',
    group: GROUP,
    default: undefined,
    defaultText: 'none',
    valueName: 'URL',
    help: 'HTTP endpoint that authenticates terminals: POST {"code","phone"}, 200 = accepted',
  },
  { name: 'jt808-http-timeout', key: 'jt808HttpTimeout', kind: 'int', group: GROUP, default: 5, min: 1, max: 120, valueName: 'SECONDS', help: 'time one registry or authentication request may take' },
  {
    name: 'jt808-http-retries',
    key: 'jt808HttpRetries',
    kind: 'int',
    group: GROUP,
    default: 3,
    min: 0,
    max: 10,
    help: 'further attempts after a registry or authentication request fails (network error, timeout, 5xx); 1 s apart, doubling',
  },
  {
    name: 'jt808-heartbeat-timeout',
    key: 'jt808HeartbeatTimeout',
    kind: 'int',
    group: GROUP,
    default: 300,
    min: 1,
    max: 86_400,
    valueName: 'SECONDS',
    help: 'a terminal that sends nothing for this long is closed',
  },
  {
    name: 'jt808-auth-timeout',
    key: 'jt808AuthTimeout',
    kind: 'int',
    group: GROUP,
    default: 60,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'time a new connection has to register and authenticate',
  },
  {
    name: 'jt808-retry-interval',
    key: 'jt808RetryInterval',
    kind: 'int',
    group: GROUP,
    default: 8,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'time to wait for the reply to a downlink command before sending it again',
  },
  {
    name: 'jt808-retry-count',
    key: 'jt808RetryCount',
    kind: 'int',
    group: GROUP,
    default: 3,
    min: 0,
    max: 100,
    help: 're-sends of an unanswered downlink command before it is dropped (with a $SYS event)',
  },
  { name: 'jt808-max-inflight', key: 'jt808MaxInflight', kind: 'int', group: GROUP, default: 16, min: 1, max: 1024, help: 'downlink commands awaiting a reply at once per terminal' },
  {
    name: 'jt808-max-queued',
    key: 'jt808MaxQueued',
    kind: 'int',
    group: GROUP,
    default: 100,
    min: 0,
    max: 100_000,
    help: 'downlink commands queued per terminal behind those awaiting a reply; more are dropped (with a $SYS event)',
  },
  {
    name: 'jt808-max-frame-size',
    key: 'jt808MaxFrameSize',
    kind: 'size',
    group: GROUP,
    default: 4096,
    min: 64,
    max: 1_048_576,
    help: 'escaped bytes between two 7E delimiters; a longer frame is dropped (a full 1023-byte body needs at most 2090)',
  },
  {
    name: 'jt808-max-split-parts',
    key: 'jt808MaxSplitParts',
    kind: 'int',
    group: GROUP,
    default: 256,
    min: 1,
    max: 65_535,
    help: 'packets of split messages held per terminal while reassembling (about 1 KiB each)',
  },
  {
    name: 'jt808-split-timeout',
    key: 'jt808SplitTimeout',
    kind: 'int',
    group: GROUP,
    default: 30,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'time a split message has to arrive in full; then its packets are dropped',
  },
  {
    name: 'jt808-max-violations',
    key: 'jt808MaxViolations',
    kind: 'int',
    group: GROUP,
    default: 10,
    min: 1,
    max: 10_000,
    help: 'bad frames in a row (checksum, escape, length, size, garbage, not authenticated) before the connection is closed',
  },
];
