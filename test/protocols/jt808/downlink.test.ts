/** A terminal's downlink commands in the gateway's command window: window, queue bound, retries, settling by reply kind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandWindow, type CommandDropReason } from '../../../src/gateway/command-window.js';
import { Message } from '../../../src/core/message.js';
import { Jt808Command } from '../../../src/protocols/jt808/downlink.js';

const MSG = new Message('jt808/1/1/dn', Buffer.alloc(0), 0, false, null, 0, null);

/** The window holding a terminal's commands, and what it answers a reply with. */
class Window extends CommandWindow<Jt808Command> {
  answer(replyId: number, seq: number, answeredId: number, now: number): Jt808Command | null {
    return this.settle((c) => c.answeredBy(replyId, seq, answeredId), now);
  }
}

function queue(maxInflight = 2, maxQueued = 2, retries = 2) {
  const written: number[] = [];
  const dropped: Array<[number, CommandDropReason]> = [];
  const q = new Window({ maxInflight, maxQueued, retryIntervalMs: 100, retries }, { writeCommand: (b) => written.push(b[0]!), commandDropped: (c, r) => dropped.push([c.msgSn, r]) });
  // The first byte of each fake frame is its msg_sn, so writes can be told apart.
  const cmd = (msgId: number, sn: number) => new Jt808Command(msgId, sn, Buffer.from([sn]), MSG);
  return { q, written, dropped, cmd };
}

test('commands without a reply go out at once, past a full window', () => {
  const { q, written, cmd } = queue(1, 0);
  assert.ok(q.submit(cmd(0x8300, 1), 0));
  assert.ok(q.submit(cmd(0x8001, 2), 0));
  assert.deepEqual(written, [1, 2]);
  assert.equal(q.inflightCount, 1);
});

test('the window fills, the queue fills, then commands are dropped as queue-full', () => {
  const { q, written, dropped, cmd } = queue(1, 1);
  q.submit(cmd(0x8300, 1), 0);
  q.submit(cmd(0x8300, 2), 0);
  assert.equal(q.submit(cmd(0x8300, 3), 0), false);
  assert.deepEqual(written, [1]);
  assert.deepEqual(dropped, [[3, 'queue-full']]);
  assert.ok(q.answer(0x0001, 1, 0x8300, 10) !== null);
  assert.deepEqual(written, [1, 2], 'settling sends the next queued command');
});

test('re-sent every interval up to the retry count, then dropped as no-reply', () => {
  const { q, written, dropped, cmd } = queue(1, 0, 2);
  q.submit(cmd(0x8103, 7), 0);
  assert.equal(q.onTimer(50), 100);
  assert.equal(q.onTimer(100), 200);
  assert.equal(q.onTimer(200), 300);
  assert.equal(q.onTimer(300), 0);
  assert.deepEqual(written, [7, 7, 7]);
  assert.deepEqual(dropped, [[7, 'no-reply']]);
});

test('0001 settles by (seq, id); a specific reply by its kind and seq; 0107 by kind alone', () => {
  const { q, cmd } = queue(8, 0);
  q.submit(cmd(0x8104, 1), 0);
  q.submit(cmd(0x8201, 2), 0);
  q.submit(cmd(0x8107, 3), 0);
  assert.equal(q.answer(0x0001, 1, 0x8201, 0), null, '0001 naming another id');
  assert.equal(q.answer(0x0201, 1, 0, 0), null, '0201 with the seq of another command');
  assert.equal(q.answer(0x0201, 2, 0, 0)?.msgSn, 2);
  assert.equal(q.answer(0x0107, -1, 0, 0)?.msgSn, 3);
  assert.equal(q.answer(0x0001, 1, 0x8104, 0)?.msgSn, 1, 'any command may be answered by 0001');
  assert.equal(q.inflightCount, 0);
});

test('dropAll reports every held command as offline', () => {
  const { q, dropped, cmd } = queue(1, 2);
  q.submit(cmd(0x8300, 1), 0);
  q.submit(cmd(0x8300, 2), 0);
  q.dropAll();
  assert.deepEqual(dropped, [
    [1, 'offline'],
    [2, 'offline'],
  ]);
});
