/**
 * What a protocol registers with the server (src/server/protocols.ts lists them): its name and
 * how it starts. Its flags and typed options live beside it (src/protocols/<name>/flags.ts) and
 * are assembled into `junction start`'s table by src/server/options.ts.
 */
import type { Listener } from '../transports/listen.js';
import type { GatewayContext } from './context.js';

export interface Protocol<Options> {
  readonly name: string;
  /** Opens its listeners (and WebSocket routes) for these options; none when its ports are off. */
  start(kit: GatewayContext, options: Options): Promise<Listener[]>;
  /** At shutdown, before the broker stops (say goodbye, flush). */
  stop?(): Promise<void>;
}
