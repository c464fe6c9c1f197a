/** Flags of the core: inflight windows, queues, session expiry and the retained set. */
import type { FlagDef } from '../config/flags.js';

export interface CoreOptions {
  maxInflight: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  maxSessionExpiry: number;
  maxRetainedMessages: number;
  maxRetainedBytes: number;
}

/** Rows for --help, parsing and the config file. */
export const CORE_FLAGS: readonly FlagDef<keyof CoreOptions>[] = [
  {
    name: 'max-inflight',
    key: 'maxInflight',
    kind: 'int',
    group: 'Limits',
    default: 1024,
    min: 1,
    max: 65535,
    help: "outbound QoS 1/2 messages unacknowledged per session, never above the client's Receive Maximum",
  },
  {
    name: 'max-session-expiry',
    key: 'maxSessionExpiry',
    kind: 'int',
    group: 'Sessions and queues',
    default: 604_800,
    min: 0,
    max: 4_294_967_295,
    valueName: 'SECONDS',
    help: 'longest session expiry granted; longer requests are lowered',
  },
  {
    name: 'max-queued-messages',
    key: 'maxQueuedMessages',
    kind: 'int',
    group: 'Sessions and queues',
    default: 1000,
    min: 0,
    max: 10_000_000,
    help: 'messages queued per offline or slow session; 0 = unlimited',
  },
  {
    name: 'max-queued-bytes',
    key: 'maxQueuedBytes',
    kind: 'size',
    group: 'Sessions and queues',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'payload bytes queued per session; 0 = unlimited',
  },
  {
    name: 'max-retained-messages',
    key: 'maxRetainedMessages',
    kind: 'int',
    group: 'Sessions and queues',
    default: 1_000_000,
    min: 0,
    max: 100_000_000,
    help: 'retained messages kept in all; 0 = unlimited (retain stays enabled)',
  },
  {
    name: 'max-retained-bytes',
    key: 'maxRetainedBytes',
    kind: 'size',
    group: 'Sessions and queues',
    default: 1024 * 1024 * 1024,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'topic and payload bytes of all retained messages (held in memory and in the store); a message past it is delivered but not retained; 0 = unlimited',
  },
];
