/**
 * Bounds what one NATS connection hands this node per turn of the event loop: messages, and the
 * local deliveries they make (a message for 100 subscribers weighs 101). nats.js parses
 * all a socket read brings (libuv reads up to 32 x 64 KiB per readiness) in one macrotask, and
 * without a bound a flood from other nodes made turns of 100-500 ms: the MQTT clients'
 * acknowledgements waited behind them, their inflight windows stalled, the session queues
 * overflowed, and the node delivered a fraction of what it could while its heap held what NATS
 * had sent (a congestion collapse). Past `perTurn` messages the socket is paused until the next
 * turn: the kernel's socket buffer holds the rest, and past it the NATS server (its own
 * slow-consumer limits apply).
 */
import type { Socket } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { socketOf } from './nats-internals.js';

export class IngestPacer {
  /** turns this pacer paused its socket */
  pauses = 0;
  private count = 0;
  private paused: Socket | null = null;
  private readonly resume = (): void => {
    const socket = this.paused;
    this.paused = null;
    this.count = 0;
    socket?.resume();
  };

  constructor(
    /** the connection paced (its socket changes with each reconnect) */
    private readonly connection: () => NatsConnection | null,
    /** messages per turn at most (0: no bound) */
    private readonly perTurn: number,
  ) {}

  /** A message taken from the connection (or `weight`: the local deliveries it made); past the bound, the rest waits for the next turn. */
  took(weight = 1): void {
    this.count += weight;
    if (this.count < this.perTurn || this.perTurn === 0 || this.paused !== null) return;
    const socket = socketOf(this.connection());
    if (socket === null || socket.destroyed) {
      this.count = 0;
      return;
    }
    this.paused = socket;
    this.pauses++;
    socket.pause();
    setImmediate(this.resume);
  }
}
