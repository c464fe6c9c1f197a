/**
 * Checks at start that keep an operator out of trouble later: a node name that can be a topic
 * level, enough file descriptors for --max-connections, why the native module is not used, and
 * whether --tcp-transport native can run.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { PORT_OFF } from '../config/flags.js';
import type { Logger } from '../log/logger.js';
import type { StartOptions } from './options.js';
import type { NativeBinding } from '../native/binding.js';
import type { NativeTcpSetup } from '../transports/listen.js';

/** Longest --node-name: it is one level of every $SYS topic. */
const MAX_NODE_NAME = 128;

/** Descriptors kept aside from clients: listeners, the store, workers, logs. */
export const DESCRIPTOR_RESERVE = 64;

/** Why `name` cannot be a node name, or null. */
export function nodeNameProblem(name: string): string | null {
  if (name === '') return 'must not be empty';
  if (name.length > MAX_NODE_NAME) return `must be at most ${MAX_NODE_NAME} characters (got ${name.length})`;
  if (/[/+#]/.test(name)) return 'must not contain /, + or #: it becomes one level of $SYS/brokers/{node}/ topics';
  if (name.startsWith('$')) return 'must not start with $';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\s\u0000-\u001f\u007f]/.test(name)) return 'must not contain spaces or control characters';
  return null;
}

/** Throws ConfigError naming the flag when an option cannot work. */
export function checkStartOptions(options: StartOptions): void {
  const problem = nodeNameProblem(options.nodeName);
  if (problem !== null) throw new ConfigError(`--node-name "${options.nodeName}" ${problem}`);
  if (CLIENT_LISTENERS.every(([key]) => options[key] === PORT_OFF)) {
    throw new ConfigError(`no client listener: every port is off; give one of ${CLIENT_LISTENERS.map(([, flag]) => flag).join(', ')}`);
  }
}

/** The listeners clients connect to (the admin listener is not one): one must be on. */
const CLIENT_LISTENERS: ReadonlyArray<readonly [keyof StartOptions, string]> = [
  ['mqttPort', '--mqtt-port'],
  ['mqttsPort', '--mqtts-port'],
  ['wsPort', '--ws-port'],
  ['wssPort', '--wss-port'],
  ['stompPort', '--stomp-port'],
  ['stompsPort', '--stomps-port'],
  ['jt808Port', '--jt808-port'],
  ['jt808TlsPort', '--jt808-tls-port'],
  ['gbt32960Port', '--gbt32960-port'],
  ['gbt32960TlsPort', '--gbt32960-tls-port'],
];

/** The soft and hard limits on open files of this process (Linux /proc), or null when unknown. */
export function descriptorLimits(limitsText?: string): { soft: number; hard: number } | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (match === null) return null;
  const value = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/** Warns when the descriptor limit cannot hold --max-connections, saying how to raise it. */
export function warnAboutDescriptors(options: StartOptions, log: Logger, limits = descriptorLimits()): void {
  if (limits === null) return;
  const needed = options.maxConnections + DESCRIPTOR_RESERVE;
  if (limits.soft >= needed) return;
  const fits = Math.max(0, limits.soft - DESCRIPTOR_RESERVE);
  const fronted = options.wssPort !== PORT_OFF || (options.wsPort !== PORT_OFF && options.wsCheckMasks);
  log.warn('the open-file limit is below --max-connections: connections past it fail to be accepted (EMFILE)', {
    ...(fronted ? { websocket: 'a WebSocket connection through a front (--wss-port; --ws-port unless --ws-check-masks false) holds 3 descriptors' } : {}),
    maxConnections: options.maxConnections,
    softLimit: limits.soft,
    hardLimit: limits.hard,
    connectionsThatFit: fits,
    howToRaise:
      limits.hard >= needed
        ? `run "ulimit -n ${needed}" in the shell that starts junction, or LimitNOFILE=${needed} in its systemd unit`
        : `raise the hard limit (LimitNOFILE=${needed} in the systemd unit, or "nofile" in /etc/security/limits.conf), then "ulimit -n ${needed}"; or lower --max-connections to ${fits}`,
  });
}

/** Logs which frame scanner and trie run, and why not the native ones when they do not. */
export function logNativeChoice(log: Logger, options: StartOptions, loaded: boolean, path: string, failure: string): void {
  if (loaded) {
    log.info('native module loaded: Rust frame scanner and topic trie', { native: options.native, path });
    return;
  }
  if (options.native === 'off') {
    log.info('native module off (--native off): TypeScript frame scanner and topic trie', { native: options.native });
    return;
  }
  log.warn('native module not used: TypeScript frame scanner and topic trie (slower, more memory per subscription)', {
    native: options.native,
    path,
    reason: failure,
    fix: 'rebuild it with make -C native (needs Rust), or reinstall the package for linux-x64; --native off silences this',
  });
}

/** The native TCP setup for --tcp-transport (null: node:net); throws when native is asked for and cannot run. */
export function nativeTcpFor(options: StartOptions, native: NativeBinding | null, log: Logger): NativeTcpSetup | null {
  const choice = options.tcpTransport;
  if (choice === 'node' || (choice === 'auto' && native === null)) {
    if (options.tcpReusePort) throw new ConfigError('--tcp-reuse-port needs the native TCP transport (node:net cannot set SO_REUSEPORT): --tcp-transport native, with the native module built');
    if (choice === 'auto') log.info('TCP transport: node:net (the native module is not loaded)', { tcpTransport: choice });
    return null;
  }
  if (native === null) {
    throw new ConfigError(`--tcp-transport native needs the native module (${options.native === 'off' ? '--native off was given' : 'it did not load'}); use --tcp-transport node`);
  }
  log.info('TCP transport: native (sockets owned by the Rust module)', { tcpTransport: choice, reusePort: options.tcpReusePort });
  return { native, reusePort: options.tcpReusePort };
}
