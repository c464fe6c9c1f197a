/**
 * WebSocket paths and the protocol behind each. Protocols register their routes while the
 * server starts (MQTT at /mqtt, STOMP at /stomp); the WebSocket listeners (ws and wss) serve
 * whatever was registered when they open.
 */
import type { LinkAcceptor } from './link.js';

export interface WsRoute {
  /** URL path, e.g. '/mqtt' */
  readonly path: string;
  /** Sec-WebSocket-Protocol values accepted, in order of preference (e.g. ['mqtt', 'mqttv3.1']) */
  readonly subprotocols: readonly string[];
  readonly accept: LinkAcceptor;
  /** True when text frames are a protocol error (MQTT: binary only [MQTT-6.0.0-1]); the connection is closed with 1003. */
  readonly binaryOnly?: boolean;
}

export class WsRoutes {
  private readonly routes = new Map<string, WsRoute>();

  /** Registers a path; a second route on the same path is a configuration error. */
  add(route: WsRoute): void {
    if (this.routes.has(route.path)) throw new Error(`WebSocket path ${route.path} is registered twice`);
    this.routes.set(route.path, route);
  }

  get(path: string): WsRoute | undefined {
    return this.routes.get(path);
  }

  list(): WsRoute[] {
    return [...this.routes.values()];
  }
}
