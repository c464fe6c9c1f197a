#!/usr/bin/env node
// Prints scripts/compare-cluster's table from its JSON lines: received msg/s per variant and
// round, the mean, and the ratios the cluster work is judged by (cross-node over the best single
// mosquitto/aedes node, from the means and per round; what node A sent into NATS over NATS's own
// pub/sub rate; cross-node over standalone; new over --baseline).
// Usage: node bench/cluster/compare-table.mjs RESULTS.jsonl [QOS]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const qos = process.argv[3] ?? '0';
if (file === undefined || file === '--help') {
  console.log('usage: compare-table.mjs RESULTS.jsonl [QOS]');
  process.exit(file === undefined ? 2 : 0);
}
const rows = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const fmt = (n) => (n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`);
const runs = (scenario, variant) => rows.filter((r) => r.scenario === scenario && r.variant === variant);
const mean = (list, key) => (list.length === 0 ? undefined : list.reduce((a, r) => a + r[key], 0) / list.length);

const ceiling = runs('nats', 'ceiling');
console.log(`\nNATS core pub/sub, 64 B, one publisher and one subscriber connection: ${ceiling.map((r) => fmt(r.received)).join(' / ')} msg/s received (mean ${fmt(mean(ceiling, 'received'))})`);
const ceil = mean(ceiling, 'received');
const variants = ['standalone', 'cross', 'mosquitto', 'aedes', 'base-standalone', 'base-cross'];
const summary = [];
for (const s of ['fanin', 'fanout', 'p2p']) {
  console.log(`\n${s} (QoS ${qos}, 64 B; received = deliveries)`);
  console.log('| variant | sent msg/s per round | received msg/s per round | mean received |');
  console.log('| --- | --- | --- | --- |');
  const means = {};
  for (const v of variants) {
    const list = runs(s, v);
    if (list.length === 0) continue;
    means[v] = mean(list, 'received');
    console.log(`| ${v} | ${list.map((r) => fmt(r.sent)).join(' / ')} | ${list.map((r) => fmt(r.received)).join(' / ')} | ${fmt(means[v])} |`);
  }
  const peer = Math.max(means.mosquitto ?? 0, means.aedes ?? 0) || undefined;
  // Cross over the better peer within each round too: the load of a shared machine moves between rounds.
  const perRound = runs(s, 'cross').map((c) => {
    const peers = rows.filter((r) => r.scenario === s && r.round === c.round && (r.variant === 'mosquitto' || r.variant === 'aedes'));
    const best = Math.max(0, ...peers.map((r) => r.received));
    return best > 0 ? `${(c.received / best).toFixed(2)}` : '-';
  });
  summary.push({ s, cross: means.cross, crossSent: mean(runs(s, 'cross'), 'sent'), peer, ceil, perRound, standalone: means.standalone, bs: means['base-standalone'], bc: means['base-cross'] });
}
console.log('\n| scenario | cross-node received | best single mosquitto/aedes | cross / best peer, means (target 1.5x) | the same per round | node A sent into NATS / NATS ceiling | cross / standalone received | standalone new / base | cross new / base |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const x of summary) {
  const met = x.cross !== undefined && x.peer !== undefined ? (x.cross / x.peer >= 1.5 ? ' met' : ' missed') : '';
  console.log(`| ${x.s} | ${fmt(x.cross)} | ${fmt(x.peer)} | ${ratio(x.cross, x.peer)}${met} | ${x.perRound.join(' / ')} | ${ratio(x.crossSent, x.ceil)} | ${ratio(x.cross, x.standalone)} | ${ratio(x.standalone, x.bs)} | ${ratio(x.cross, x.bc)} |`);
}
