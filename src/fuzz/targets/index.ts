/**
 * The registry of fuzz targets: one file per decoder in this folder, one line here. A decoder
 * planned but without a target yet goes in PENDING_TARGETS, so `npm run fuzz` says what it does
 * not cover.
 */
import type { FuzzTarget } from '../target.js';
import { gbt32960Target } from './gbt32960.js';
import { jt808Target } from './jt808.js';
import { mqttTarget } from './mqtt.js';
import { stompTarget } from './stomp.js';

/** Every fuzz target, by name. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [mqttTarget, stompTarget, jt808Target, gbt32960Target];

/** Decoders that exist in the plan but have no target yet. */
export const PENDING_TARGETS: readonly string[] = [];

/** The target called `name`, or undefined. */
export function fuzzTarget(name: string): FuzzTarget | undefined {
  return FUZZ_TARGETS.find((t) => t.name === name);
}
