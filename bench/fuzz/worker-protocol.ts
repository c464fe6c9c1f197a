/** The messages and shared-memory layout between the fuzz runner and its worker. */
import type { FailureKind } from './target.js';

/** What the parent passes in workerData. */
export interface WorkerInput {
  target: string;
  seed: number;
  /** Wall-clock deadline (Date.now() ms). */
  until: number;
  /** Per-input time limit. */
  hangMs: number;
  /** External (Buffer) memory above which an input counts as unbounded allocation. */
  externalLimitBytes: number;
  /** Shared: Int32 [inputs started, current length], then the current input's bytes. */
  shared: SharedArrayBuffer;
  /** Replay the corpus and seeds only, no mutation. */
  replayOnly: boolean;
}

/** Messages the worker posts. */
export type WorkerMessage = { type: 'failure'; kind: FailureKind; message: string; input: Uint8Array } | { type: 'done'; tried: number; pool: number; corpus: number; note: string };

/** Bytes reserved in shared memory before the input. */
export const SHARED_HEADER = 8;
/** A failure's identity for de-duplication: kind plus message with numbers and quotes blurred. */
export function failureKey(kind: FailureKind, message: string): string {
  return kind + ':' + message.replace(/'[^']*'/g, "''").replace(/0x[0-9a-f]+|[0-9]+/gi, '#');
}
