/** Flags of authentication providers, ACL, rate limits and overload protection: the SecurityOptions part of StartOptions and its rows. */
import type { FlagDef } from '../options.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SecurityOptions {}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const SECURITY_FLAGS: readonly FlagDef[] = [];
