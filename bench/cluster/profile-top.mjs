#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): the top self-time functions and the self time
// grouped by the file (package or src/ module) they live in, as % of the profile's samples.
// Usage: node bench/cluster/profile-top.mjs FILE.cpuprofile [--top N] [--messages N] [--inclusive F,G]
//   --messages N     also print microseconds per message (N = messages the process handled)
//   --inclusive F,G  also the inclusive time of the functions named F, G (everything under them)
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help')) {
  console.log('usage: profile-top.mjs FILE.cpuprofile [--top N] [--messages N]');
  process.exit(args.length === 0 ? 2 : 0);
}
const file = args[0];
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i === -1 ? def : Number(args[i + 1]);
};
const top = opt('--top', 25);
const messages = opt('--messages', 0);
const inclusiveIdx = args.indexOf('--inclusive');
const inclusive = inclusiveIdx === -1 ? [] : args[inclusiveIdx + 1].split(',');
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const id of prof.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const intervals = prof.timeDeltas.reduce((a, b) => a + b, 0) / prof.samples.length; // us per sample
const total = prof.samples.length;
const self = new Map();
const byFile = new Map();
let idle = 0;
for (const [id, c] of counts) {
  const n = byId.get(id);
  const f = n.callFrame;
  if (f.functionName === '(idle)') idle += c;
  const short = f.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '').replace(/.*\/dist\//, '');
  const key = `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + c);
  const group = short === '' ? f.functionName : short.startsWith('@') ? short.split('/').slice(0, 2).join('/') : short.split('/').slice(0, 3).join('/');
  byFile.set(group, (byFile.get(group) ?? 0) + c);
}
const busy = total - idle;
const pct = (c) => `${((100 * c) / total).toFixed(1).padStart(5)}%`;
const us = (c) => (messages > 0 ? `  ${((c * intervals) / messages).toFixed(2).padStart(6)} us/msg` : '');
console.log(`${file}: ${total} samples of ${intervals.toFixed(0)} us, busy ${pct(busy)}${us(busy)}`);
console.log('\ntop self time:');
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}${us(c)}  ${k}`);
console.log('\nself time by file or package:');
for (const [k, c] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}${us(c)}  ${k}`);

if (inclusive.length > 0) {
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const under = new Map(inclusive.map((name) => [name, 0]));
  for (const [id, c] of counts) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at).callFrame.functionName;
      if (under.has(name) && !seen.has(name)) {
        seen.add(name);
        under.set(name, under.get(name) + c);
      }
    }
  }
  console.log('\ninclusive time:');
  for (const [k, c] of under) console.log(`${pct(c)}${us(c)}  ${k}`);
}
