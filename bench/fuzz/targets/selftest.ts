/**
 * A target with planted bugs, enabled only through JUNCTION_FUZZ_SELFTEST (a comma list of
 * crash, divergence, hang, allocation): proves the runner catches each failure kind and saves
 * the input. An input of 3 bytes or more whose first byte is the kind's initial (C, D, H, A)
 * and second byte 'B' triggers that kind when it is enabled.
 */
import { FuzzDivergence, type FuzzTarget } from '../target.js';

const leaked: number[][] = [];

function enabled(kind: string): boolean {
  return (process.env['JUNCTION_FUZZ_SELFTEST'] ?? '').split(',').includes(kind);
}

/** The self-test target (not in FUZZ_TARGETS). */
export const selftestTarget: FuzzTarget = {
  name: 'selftest',
  maxInputSize: 64,
  seeds(): Buffer[] {
    return [Buffer.from('xB-'), Buffer.from('yyyy')];
  },
  run(input: Buffer): string {
    if (input.length < 3 || input[1] !== 0x42) return 'plain';
    const first = input[0];
    if (first === 0x43 && enabled('crash')) throw new TypeError('planted crash');
    if (first === 0x44 && enabled('divergence')) throw new FuzzDivergence('planted divergence');
    if (first === 0x48 && enabled('hang')) {
      for (;;) {
        /* planted infinite loop */
      }
    }
    if (first === 0x41 && enabled('allocation')) {
      for (;;) leaked.push(new Array<number>(1_000_000).fill(1));
    }
    return `b${first}`;
  },
};
