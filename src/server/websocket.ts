/**
 * Opens the WebSocket listeners (ws and wss) serving every route registered in ctx.wsRoutes.
 * (uWebSockets.js arrives with the transport work; until then no WebSocket listener opens.)
 */
import type { Listener, ServerContext } from './context.js';

export async function startWebSocketListeners(ctx: ServerContext): Promise<Listener[]> {
  void ctx;
  return [];
}
