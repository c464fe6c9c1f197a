#!/usr/bin/env node
// The long crash-safety run: `node scripts/crash-soak.mjs --kills 20 [--seed S]` (after a build).
// Kills the broker with SIGKILL at random moments under QoS 1/2 load, restarts it on the same
// data dir, and prints what was acknowledged, what arrived and every loss or duplicate.
import { runCrashSoak } from '../build/test/reliability/crash-run.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const kills = opt('--kills', 20);
const seed = opt('--seed', Date.now() >>> 0);
if (!Number.isInteger(kills) || kills < 1) {
  console.error('usage: node scripts/crash-soak.mjs [--kills N] [--seed S]');
  process.exit(2);
}
console.log(`crash soak: ${kills} kills, seed ${seed}`);
const started = Date.now();
const r = await runCrashSoak({ kills, seed, log: (line) => console.log(line) });
console.log(
  JSON.stringify({ kills: r.kills, seconds: Math.round((Date.now() - started) / 1000), acked: r.acked, received: r.received, duplicatesQos1: r.duplicatesQos1, problems: r.problems.length }),
);
for (const p of r.problems) console.log('PROBLEM: ' + p);
process.exit(r.problems.length > 0 ? 1 : 0);
