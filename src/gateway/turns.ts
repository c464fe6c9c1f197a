/**
 * Fair turns on the read path, for every protocol. A connection that has done a turn's work
 * (TURN_BUDGET units: a published message costs PUBLISH_COST, any other frame 1) and still has
 * bytes waiting yields: it joins one queue of waiting connections that a shared setImmediate
 * continues, at most CHECK_BUDGET units in all per check phase. So one flooding client cannot
 * hold the event loop for a whole 64 KiB chunk, and eight cannot hold it for eight turns in a
 * row; a quiet client's frame waits behind at most a few hundred others (~1 ms).
 */
import { RingQueue } from '../core/ring-queue.js';

/** Work one connection may do before yielding. */
export const TURN_BUDGET = 256;
/** What a published message costs; a consumer's acks, which drain everyone's queues, go four times as far. */
export const PUBLISH_COST = 4;
/** Work done in all by the connections continued in one check phase. */
const CHECK_BUDGET = 4 * TURN_BUDGET;

/** A connection that yielded and continues when its turn comes. */
export interface TurnTaker {
  continueTurn(): void;
}

const waiting = new RingQueue<TurnTaker>();
let scheduled = false;
/** Work units done since the process started: a turn's work is a difference. */
let spent = 0;

function continueWaiting(): void {
  scheduled = false;
  const start = spent;
  // Only those waiting when the phase began: one that yields again (a login past this phase's
  // budget) joins the queue for the next phase instead of being continued in a loop here.
  let left = waiting.length;
  let next: TurnTaker | undefined;
  while (left-- > 0 && spent - start < CHECK_BUDGET && (next = waiting.shift()) !== undefined) next.continueTurn();
  if (waiting.length > 0) schedule();
}

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(continueWaiting);
  }
}

/** Counts `units` of work; returns the running total (a connection's turn is total minus its start). */
export function spend(units: number): number {
  spent += units;
  return spent;
}

/** The running total of work, read at the start of a turn. */
export function workDone(): number {
  return spent;
}

/** Queues a connection that yielded (or whose pause ended) for the next check phase. */
export function waitForTurn(taker: TurnTaker): void {
  waiting.push(taker);
  schedule();
}

/**
 * Logins per event-loop phase. A connect storm is many connections each doing one frame, well
 * within its own turn, but a CONNECT costs tens of microseconds (admission, session, CONNACK):
 * a batch of 200 of them holds the loop for milliseconds while established clients wait. Past
 * `loginsPerTurn` a login waits in the queue above, continued in the next check phase; the count
 * starts again in each check phase.
 */
let logins = 0;
let loginsResetScheduled = false;

function resetLogins(): void {
  logins = 0;
  loginsResetScheduled = false;
}

/** True when one more login fits this phase's budget (and counts it); false: yield and come back. */
export function takeLogin(loginsPerTurn: number): boolean {
  if (loginsPerTurn <= 0) return true;
  if (logins >= loginsPerTurn) return false;
  logins++;
  if (!loginsResetScheduled) {
    loginsResetScheduled = true;
    setImmediate(resetLogins);
  }
  return true;
}
