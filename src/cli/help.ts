/**
 * --help text of `junction start`, generated from the flag table so it can never disagree with
 * what the parser accepts.
 */

import { flagList } from '../config/help.js';
import { FLAG_GROUPS, START_FLAGS } from '../server/options.js';

/** The flag list of `junction start`, grouped, each with its range and default. */
export function helpText(): string {
  return flagList(START_FLAGS, FLAG_GROUPS);
}

/** The whole `junction start --help` page: usage, flags, config file and environment. */
export function startHelp(): string {
  return [
    'Usage: junction start [flags]',
    '',
    'Runs the broker. Flags take --flag value or --flag=value; booleans --flag, --flag=false or --no-flag.',
    '',
    helpText(),
    'Config file (--config FILE): a JSON object keyed by flag names without dashes, e.g.',
    '  {"mqtt-port": 1884, "allow-anonymous": true, "max-packet-size": "1MiB"}',
    'Paths in it are relative to the file. Flags on the command line override it.',
    '',
    'Environment: JUNCTION_NATIVE=auto|on|off sets --native unless the flag is given.',
    '',
  ].join('\n');
}
