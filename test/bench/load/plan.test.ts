/** The plan: every client of a scenario runs in exactly one worker process, with the topics its role needs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchOptions } from '../../../bench/load/options.js';
import { planClients, planCounts } from '../../../bench/load/plan.js';

test('each client lands in exactly one process, whatever the number of processes', () => {
  for (const argv of [['fanin'], ['fanout', '--subscribers', '7'], ['p2p', '--pairs', '5'], ['shared'], ['conn', '--connections', '11'], ['retained', '--subscribers', '3']]) {
    const o = parseBenchOptions(argv);
    const counts = planCounts(o);
    for (const procs of [1, 2, 3, 8]) {
      const ids = Array.from({ length: procs }, (_, p) => planClients(o, 'r1', p, procs))
        .flat()
        .map((c) => c.clientId);
      const expected = counts.publishers + counts.subscribers + counts.idle + (o.scenario === 'retained' ? 1 : 0);
      assert.equal(ids.length, expected, `${argv.join(' ')} over ${procs}`);
      assert.equal(new Set(ids).size, ids.length, `duplicate client in ${argv.join(' ')} over ${procs}`);
    }
  }
});

test('fanin subscribers match every publisher topic; p2p pairs share a topic; shared uses one $share group', () => {
  const fanin = planClients(parseBenchOptions(['fanin', '--publishers', '3']), 'r1', 0, 1);
  const sub = fanin.find((c) => c.role === 'sub')!;
  assert.equal(sub.filter, 'bench/r1/fanin/#');
  assert.deepEqual(
    fanin
      .filter((c) => c.role === 'pub')
      .map((c) => c.topic)
      .sort(),
    ['bench/r1/fanin/0', 'bench/r1/fanin/1', 'bench/r1/fanin/2'],
  );
  const p2p = planClients(parseBenchOptions(['p2p', '--pairs', '2']), 'r1', 0, 1);
  for (const pub of p2p.filter((c) => c.role === 'pub')) assert.ok(p2p.some((c) => c.role === 'sub' && c.filter === pub.topic));
  const shared = planClients(parseBenchOptions(['shared', '--subscribers', '2']), 'r1', 0, 1);
  assert.ok(shared.filter((c) => c.role === 'sub').every((c) => c.filter === '$share/gr1/bench/r1/shared/#'));
});

test("--clients sets the scenario's main count and a specific count wins over it", () => {
  assert.equal(planCounts(parseBenchOptions(['fanin', '--clients', '5'])).publishers, 5);
  assert.equal(planCounts(parseBenchOptions(['fanout', '--clients', '5'])).subscribers, 5);
  assert.equal(planCounts(parseBenchOptions(['conn', '--clients', '5', '--connections', '9'])).idle, 9);
  assert.equal(planCounts(parseBenchOptions(['p2p'])).publishers, 100);
});
