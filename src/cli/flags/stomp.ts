/** Flags of the STOMP gateway: the StompOptions part of StartOptions and its rows. */
import type { FlagDef } from '../options.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface StompOptions {}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const STOMP_FLAGS: readonly FlagDef[] = [];
