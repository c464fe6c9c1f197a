/** Flags of the GB/T 32960 gateway: the Gbt32960Options part of StartOptions and its rows. */
import type { FlagDef } from '../options.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Gbt32960Options {}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const GBT32960_FLAGS: readonly FlagDef[] = [];
