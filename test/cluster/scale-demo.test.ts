/**
 * scripts/scale-demo at a small size: two nodes of one cluster sharing one port (SO_REUSEPORT)
 * both take connections, one publish on n0 reaches every subscriber on both nodes, and the script
 * reports it (exit 0, JSON summary) and leaves no process behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, run } from '../interop/harness.js';

interface Summary {
  connections: { connected: number; open: number; failed: number };
  publish: { deliveredByNodes: number; receivedByGenerator: number };
  memory: { bytesPerConnection: number | null };
  perNode: { node: string; connections: number; delivered: number }[];
}

test('two nodes on one port share 400 connections and one publish on n0 reaches all 400 subscribers', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-scale-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'summary.json');
  const port = await freePort();
  // NATS on base, the admin listeners on base+1 and base+2: below the ephemeral range, so no
  // outgoing connection (the nodes' own, to NATS) takes base+1 between this check and the listen.
  const base = await freeRange(3);
  const args = ['--nodes', '2', '--connections', '400', '--max-connections', '300', '--procs', '2', '--hold', '6', '--port', String(port), '--base', String(base)];
  args.push('--local-port-base', '24000', '--json', file);
  const r = await run('scripts/scale-demo', args, 120_000);
  assert.equal(r.timedOut, false, r.stdout);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /OK: every connection held and every subscriber on every node got the message/);
  const summary = JSON.parse(readFileSync(file, 'utf8')) as Summary;
  assert.equal(summary.connections.connected, 400);
  assert.equal(summary.connections.open, 400);
  assert.equal(summary.publish.deliveredByNodes, 400);
  assert.equal(summary.publish.receivedByGenerator, 400);
  assert.equal(summary.perNode.length, 2);
  for (const node of summary.perNode) {
    // Both nodes took a share (the kernel's hash), neither past --max-connections, and each delivered to all of its own.
    assert.ok(node.connections > 0 && node.connections <= 300, `${node.node} held ${node.connections}`);
    assert.equal(node.delivered, node.connections);
  }
  assert.ok(summary.memory.bytesPerConnection !== null);
  const left = await run('pgrep', ['-f', '--', `--mqtt-port ${port} `], 5_000);
  assert.equal(left.stdout.trim(), '', 'a node is still running');
});

/** The first of `n` consecutive ports free on 127.0.0.1, from 20000 to 32000 (below Linux's ephemeral ports). */
async function freeRange(n: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let i = 0; i < 200; i++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports between 20000 and 32000`);
}
