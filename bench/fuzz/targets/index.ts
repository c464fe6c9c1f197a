/**
 * The registry of fuzz targets: one file per decoder in this folder, one line here and its name
 * in FUZZ_DECODERS (options.ts; the compiler checks the two agree). A decoder planned but without
 * a target yet goes in PENDING_TARGETS, so `junction fuzz` says what it does not cover.
 */
import { FUZZ_DECODERS, type FuzzDecoder } from '../options.js';
import type { FuzzTarget } from '../target.js';
import { gbt32960Target } from './gbt32960.js';
import { jt808Target } from './jt808.js';
import { mqttTarget } from './mqtt.js';
import { stompTarget } from './stomp.js';

const BY_DECODER: { readonly [D in FuzzDecoder]: FuzzTarget } = { mqtt: mqttTarget, stomp: stompTarget, jt808: jt808Target, gbt32960: gbt32960Target };

/** Every fuzz target, in FUZZ_DECODERS order. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = FUZZ_DECODERS.map((name) => BY_DECODER[name]);

/** Decoders that exist in the plan but have no target yet. */
export const PENDING_TARGETS: readonly string[] = [];
