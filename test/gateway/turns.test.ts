/**
 * Turns on the read path: the login budget per event-loop phase, and the queue of connections
 * that yielded. Driven by hand with real setImmediate phases, no broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spend, takeLogin, waitForTurn, type TurnTaker } from '../../src/gateway/turns.js';

const nextPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('logins past the budget wait for the next phase, where the count starts again; 0 means no limit', async () => {
  await nextPhase();
  assert.deepEqual([takeLogin(2), takeLogin(2), takeLogin(2)], [true, true, false]);
  await nextPhase();
  assert.deepEqual([takeLogin(2), takeLogin(2), takeLogin(2)], [true, true, false]);
  assert.equal(takeLogin(0), true, 'no limit');
  await nextPhase();
});

test('a connection that yields again while continued waits for the next phase instead of looping in this one', async () => {
  await nextPhase();
  let continued = 0;
  // A login that never fits this phase's budget of 1 once the first is taken: it yields every time.
  const stubborn: TurnTaker = {
    continueTurn() {
      continued++;
      if (!takeLogin(1)) waitForTurn(stubborn);
      else spend(1);
    },
  };
  assert.equal(takeLogin(1), true, 'the phase budget is spent by another login');
  waitForTurn(stubborn);
  waitForTurn(stubborn);
  // The check phase resets the count and continues both: the first takes the budget, the second
  // yields once and is not continued again in the same phase (before the fix it spun forever).
  await nextPhase();
  await nextPhase();
  assert.ok(continued >= 2 && continued <= 4, `continued ${continued} times over two phases`);
  for (let i = 0; i < 5; i++) await nextPhase();
});
