#!/usr/bin/env node
/**
 * The `junction` command. Subcommands live in COMMANDS (start, bench, fuzz, ctl, passwd); add new ones there.
 * Exit codes: 0 done, 1 failed while running, 2 bad usage or configuration.
 */

import { writeSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { packageVersion } from '../config/version.js';
import { Logger } from '../log/logger.js';
import { benchHelp, runBenchCommand } from './bench.js';
import { fuzzHelp, runFuzzCommand } from './fuzz.js';
import { startHelp } from './help.js';
import { parseStartOptions } from '../server/options.js';
import { loadNative } from '../native/binding.js';
import { restartForSingleCpuGc } from '../server/single-cpu-gc.js';
import { passwdHelp, runPasswd } from './passwd.js';
import { ctlHelp, runCtl } from './ctl.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** One subcommand of `junction`. */
interface Command {
  readonly name: string;
  /** One line for `junction --help`. */
  readonly summary: string;
  /** Its --help page. */
  help(): string;
  /** Runs with the arguments after the command name; undefined = keep running (a server). */
  run(argv: readonly string[]): Promise<number | undefined>;
}

const COMMANDS: readonly Command[] = [
  {
    name: 'start',
    summary: 'run the broker (junction start --help lists its flags)',
    help: startHelp,
    async run(argv) {
      const options = parseStartOptions(argv);
      const log = new Logger({ level: options.logLevel, fields: { node: options.nodeName } });
      // Before anything opens: this may replace the process (execv) with one that has the flag.
      const gc = restartForSingleCpuGc(options.singleThreadedGc, loadNative(options.native));
      if (gc.state === 'on') log.info("V8's garbage collector runs on the main thread only (--single-threaded-gc)");
      else if (gc.state === 'failed') log.warn('--single-threaded-gc could not be applied; the collector keeps its helper threads', { reason: gc.reason });
      // Loaded only here so --help and --version never pay for the broker's modules (lmdb, piscina).
      const { runStart } = await import('./start.js');
      await runStart(options, log, () => parseStartOptions(argv));
      return undefined;
    },
  },
  { name: 'bench', summary: 'generate MQTT load against a broker (junction bench --help)', help: benchHelp, run: runBenchCommand },
  { name: 'fuzz', summary: 'fuzz the protocol decoders (junction fuzz --help)', help: fuzzHelp, run: runFuzzCommand },
  { name: 'ctl', summary: 'manage a running broker over its admin API: clients, bans, retained, publish, stats, reload (junction ctl --help)', help: ctlHelp, run: runCtl },
  { name: 'passwd', summary: 'add a user to a password file or change their password (junction passwd FILE USER)', help: passwdHelp, run: runPasswd },
];

/** The `junction --help` page, listing COMMANDS. */
function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 4;
  return [
    'Usage: junction <command> [flags]',
    '',
    'Junction: an open IoT message gateway (MQTT 3.1, 3.1.1 and 5.0; STOMP, JT/T 808 and GB/T 32960 gateways).',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Options:',
    `  ${'-h, --help'.padEnd(width + 10)}show this help (or junction <command> --help)`,
    `  ${'-v, --version'.padEnd(width + 10)}print the version`,
    '',
  ].join('\n');
}

function print(fd: 1 | 2, text: string): void {
  writeSync(fd, text.endsWith('\n') ? text : `${text}\n`);
}

const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help') || argv.includes('-h');

/** Runs `junction` with the arguments after the program name; resolves to an exit code or undefined to keep running. */
async function main(argv: readonly string[]): Promise<number | undefined> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    print(2, mainHelp());
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h') {
    print(1, mainHelp());
    return EXIT_OK;
  }
  if (first === 'help') {
    const topic = COMMANDS.find((command) => command.name === rest[0]);
    print(1, topic ? topic.help() : mainHelp());
    return EXIT_OK;
  }
  if (first === '--version' || first === '-v') {
    print(1, `junction ${packageVersion()}`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === first);
  if (command === undefined) {
    const what = first.startsWith('-') ? 'option' : 'command';
    print(2, `junction: unknown ${what} "${first}"; see junction --help`);
    return EXIT_USAGE;
  }
  if (wantsHelp(rest)) {
    print(1, command.help());
    return EXIT_OK;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      print(2, `junction: ${err.message}`);
      return EXIT_USAGE;
    }
    print(2, `junction: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
}

const code = await main(process.argv.slice(2));
// Exit explicitly on failure: a half-started broker may hold sockets or timers open.
if (code === EXIT_OK) process.exitCode = code;
else if (code !== undefined) process.exit(code);
