/**
 * --help text generated from a flag table, so it can never disagree with what the parser
 * accepts: each flag with its placeholder, help, range and default, grouped.
 */
import { defaultOf, formatSize, PORT_OFF, type FlagDef } from './flags.js';

const WIDTH = 100;

/** The flag list, grouped in `groups` order (groups not named there follow, in table order). */
export function flagList(flags: readonly FlagDef[], groups: readonly string[] = []): string {
  const rows = flags.map((def) => ({ def, left: `--${def.kind === 'bool' ? '[no-]' : ''}${def.name}${placeholder(def)}` }));
  const column = Math.min(36, Math.max(...rows.map((row) => row.left.length)) + 4);
  const order = [...groups, ...new Set(flags.map((def) => def.group))].filter((g, i, all) => all.indexOf(g) === i);
  const lines: string[] = [];
  for (const group of order) {
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
  return `${lines.join('\n')}\n`;
}

function placeholder(def: FlagDef): string {
  switch (def.kind) {
    case 'bool':
      return '';
    case 'enum':
      return ` ${(def.values ?? []).join('|')}`;
    case 'choice':
      return ` ${def.valueName ?? (def.choices ?? []).map(([word]) => word).join('|')}`;
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
  if (def.kind === 'int') parts.push(`${def.min ?? 0}..${def.max}`);
  if (def.kind === 'size' && def.max !== Number.MAX_SAFE_INTEGER) parts.push(`${def.min ?? 0}..${def.max} bytes`);
  parts.push(`default ${def.defaultText ?? showDefault(def)}`);
  return `(${parts.join(', ')})`;
}

function showDefault(def: FlagDef): string {
  const value = defaultOf(def);
  if (def.kind === 'size' && typeof value === 'number') return formatSize(value);
  if (def.kind === 'port' && value === PORT_OFF) return 'off';
  if (def.kind === 'choice') return def.choices?.find(([, v]) => v === value)?.[0] ?? String(value);
  return String(value);
}

/** Wraps text to WIDTH columns, continuation lines indented to `indent` (also for tools' --help paragraphs). */
export function wrap(text: string, indent: number): string {
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
