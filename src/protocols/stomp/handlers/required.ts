/** Required-header lookup shared by the frame handlers. */
import { StompError } from '../errors.js';
import type { StompFrame } from '../codec/frame.js';

/** The value of a header the frame must have; throws StompError naming it. */
export function required(frame: StompFrame, name: string): string {
  const value = frame.header(name);
  if (value === undefined) throw new StompError(`${frame.command} frame without the required '${name}' header`);
  return value;
}
