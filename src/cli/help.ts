/**
 * --help text of `junction start`, generated from the flag table so it can never disagree with
 * what the parser accepts.
 */

import type { FlagDef } from './options.js';
import { FLAG_GROUPS, START_FLAGS, defaultOf, formatSize } from './options.js';

const WIDTH = 100;

/** The flag list of `junction start`, grouped, each with its range and default. */
export function helpText(): string {
  const rows = START_FLAGS.map((def) => ({ def, left: `--${def.kind === 'bool' ? '[no-]' : ''}${def.name}${placeholder(def)}` }));
  const column = Math.min(36, Math.max(...rows.map((row) => row.left.length)) + 4);
  const lines: string[] = [];
  for (const group of FLAG_GROUPS) {
    const inGroup = rows.filter((row) => row.def.group === group);
    if (inGroup.length === 0) continue;
    if (lines.length > 0) lines.push('');
    lines.push(`${group}:`);
    for (const { def, left } of inGroup) {
      const head = `  ${left}`;
      const pad = head.length + 2 <= column ? ' '.repeat(column - head.length) : `\n${' '.repeat(column)}`;
      lines.push(head + pad + wrap(`${def.help} ${details(def)}`, column));
    }
  }
  return lines.join('\n') + '\n';
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

function placeholder(def: FlagDef): string {
  switch (def.kind) {
    case 'bool':
      return '';
    case 'enum':
      return ` ${(def.values ?? []).join('|')}`;
    case 'size':
      return ` ${def.valueName ?? 'SIZE'}`;
    case 'int':
      return ` ${def.valueName ?? 'N'}`;
    case 'port':
      return ` ${def.valueName ?? 'PORT|off'}`;
    case 'path':
      return ` ${def.valueName ?? 'PATH'}`;
    case 'string':
      return ` ${def.valueName ?? 'TEXT'}`;
  }
}

/** "(0..65535, default 1883)". */
function details(def: FlagDef): string {
  const parts: string[] = [];
  if (def.kind === 'int') parts.push(`${def.min}..${def.max}`);
  if (def.kind === 'size' && def.max !== Number.MAX_SAFE_INTEGER) parts.push(`${def.min}..${def.max} bytes`);
  parts.push(`default ${def.defaultText ?? showDefault(def)}`);
  return `(${parts.join(', ')})`;
}

function showDefault(def: FlagDef): string {
  const value = defaultOf(def);
  if (def.kind === 'size' && typeof value === 'number') return formatSize(value);
  if (def.kind === 'port' && value === -1) return 'off';
  return String(value);
}

/** Wraps text to WIDTH, continuation lines indented to `indent`. */
function wrap(text: string, indent: number): string {
  const room = Math.max(30, WIDTH - indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}
