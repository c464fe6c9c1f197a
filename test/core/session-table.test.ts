import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../src/core/session.js';
import { SessionTable } from '../../src/core/session-table.js';

const session = (id: string): Session => new Session(id, 'mqtt/5');

test('sessions are found by client id, replaced in place and gone after delete', () => {
  const table = new SessionTable();
  const a = session('a');
  const b = session('b');
  table.set('a', a).set('b', b);
  assert.equal(table.size, 2);
  assert.equal(table.get('a'), a);
  assert.equal(table.has('b'), true);
  const a2 = session('a');
  table.set('a', a2);
  assert.equal(table.size, 2);
  assert.equal(table.get('a'), a2);
  assert.equal(table.delete('a'), true);
  assert.equal(table.delete('a'), false);
  assert.equal(table.get('a'), undefined);
  assert.equal(table.has('a'), false);
  assert.equal(table.size, 1);
});

test('iteration follows the order sessions were filed, with freed slots reused', () => {
  const table = new SessionTable();
  for (const id of ['a', 'b', 'c']) table.set(id, session(id));
  table.delete('b');
  table.set('d', session('d'));
  assert.deepEqual([...table.keys()], ['a', 'c', 'd']);
  assert.deepEqual(
    [...table.values()].map((s) => s.clientId),
    ['a', 'c', 'd'],
  );
});

test('deleting while iterating (a shutdown kicking clean sessions) visits each remaining session once', () => {
  const table = new SessionTable();
  for (let i = 0; i < 10; i++) table.set(`c${i}`, session(`c${i}`));
  const seen: string[] = [];
  for (const s of table.values()) {
    seen.push(s.clientId);
    table.delete(s.clientId);
    if (s.clientId === 'c3') table.delete('c7');
  }
  assert.deepEqual(seen, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c8', 'c9']);
  assert.equal(table.size, 0);
});

test('after a storm has gone the sessions kept are still found, and freed slots are reused without clobbering them', () => {
  const table = new SessionTable();
  for (let i = 0; i < 10_000; i++) table.set(`s${i}`, session(`s${i}`));
  for (let i = 0; i < 10_000; i++) if (i % 100 !== 0) table.delete(`s${i}`);
  assert.equal(table.size, 100);
  for (let i = 0; i < 10_000; i += 100) assert.equal(table.get(`s${i}`)?.clientId, `s${i}`);
  assert.deepEqual(
    [...table.values()].map((s) => s.clientId),
    Array.from({ length: 100 }, (_, i) => `s${i * 100}`),
  );
  for (let i = 0; i < 500; i++) table.set(`t${i}`, session(`t${i}`));
  assert.equal(table.size, 600);
  assert.equal(table.get('s0')?.clientId, 's0');
  assert.equal(table.get('t499')?.clientId, 't499');
});
