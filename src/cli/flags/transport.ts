/** Flags of WebSocket (uWebSockets.js), TLS and secure WebSocket listeners: the TransportOptions part of StartOptions and its rows. */
import type { FlagDef } from '../options.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface TransportOptions {}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const TRANSPORT_FLAGS: readonly FlagDef[] = [];
