/** Flags of the JT/T 808 gateway: the Jt808Options part of StartOptions and its rows. */
import type { FlagDef } from '../options.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Jt808Options {}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const JT808_FLAGS: readonly FlagDef[] = [];
