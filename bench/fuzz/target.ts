/**
 * The fuzz target contract: one file per decoder under bench/fuzz/targets/, each exporting a
 * FuzzTarget. A target runs one input through its decoder and throws only for a finding: the
 * decoder's own typed errors (bad input correctly refused) are caught inside run().
 */

/** One decoder under fuzz. */
export interface FuzzTarget {
  /** Also the corpus folder: test/corpus/<name>/. */
  readonly name: string;
  /** Inputs built in code (valid frames of every kind); recorded inputs come from the corpus. */
  seeds(): Buffer[];
  /**
   * Runs one input. Returns normally when the decoder accepted or refused it with its typed
   * error; throws FuzzDivergence when two implementations disagree; anything else it lets
   * escape is a crash. May return a short label of the outcome (packet types decoded, which
   * refusal): an input with a label not seen before joins the mutation pool, a cheap stand-in
   * for coverage feedback.
   */
  run(input: Buffer): string | undefined;
  /** What this run compares, e.g. whether the native twin loaded (shown in the report). */
  note?(): string;
  /** Mutated inputs are cut to this length (default 4096). */
  readonly maxInputSize?: number;
}

/** Two implementations (native and TypeScript, or two decoding paths) gave different results. */
export class FuzzDivergence extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzDivergence';
  }
}

/** What a finding is: the four failure kinds of issue 9. */
export type FailureKind = 'crash' | 'hang' | 'divergence' | 'allocation';

/** One failing input with what went wrong. */
export interface FuzzFailure {
  readonly target: string;
  readonly kind: FailureKind;
  /** The error message (first line), or the time / memory figure for hangs and allocations. */
  readonly message: string;
  readonly input: Buffer;
}

/** Classifies what run() threw. */
export function classify(err: unknown): { kind: FailureKind; message: string } {
  if (err instanceof FuzzDivergence) return { kind: 'divergence', message: err.message };
  if (err instanceof RangeError && /allocation|Array buffer|Invalid array length|Invalid string length/i.test(err.message)) {
    return { kind: 'allocation', message: `${err.name}: ${err.message}` };
  }
  if (err instanceof Error) {
    const where = (err.stack ?? '').split('\n').find((l) => l.includes('/src/') || l.includes('/dist/')) ?? '';
    return { kind: 'crash', message: `${err.name}: ${err.message}${where ? ' ' + where.trim() : ''}` };
  }
  return { kind: 'crash', message: `non-Error thrown: ${String(err)}` };
}
