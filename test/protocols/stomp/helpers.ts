/**
 * STOMP test helpers: a broker process with the STOMP listener, a raw frame client over
 * node:net or a WebSocket (parsing what the server sends with the gateway's own parser in client mode), and a
 * WebSocket-like adapter so @stomp/stompjs can talk STOMP over plain TCP.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { brokerFor, waitFor, type Broker, type TestContext } from '../../interop/harness.js';
import { FrameParser } from '../../../src/protocols/stomp/codec/parser.js';
import { SERVER_COMMANDS, Escaping, type StompFrame } from '../../../src/protocols/stomp/codec/frame.js';

export { sleep, waitFor, clientId, type TestContext } from '../../interop/harness.js';

/** A broker with STOMP on a free port; `port` is the STOMP one, `broker.port` MQTT's. */
export interface StompBroker {
  readonly broker: Broker;
  readonly port: number;
  /** The port of another listener from the "listening" log lines (e.g. 'ws'). */
  portOf(protocol: string, transport: string): number;
}

/** Starts a broker for one test with `--stomp-port 0` plus `args`. */
export async function stompBroker(t: TestContext, args: string[] = []): Promise<StompBroker> {
  const broker = await brokerFor(t, { args: ['--stomp-port', '0', '--store', 'memory', ...args] });
  const find = (protocol: string, transport: string) => broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === protocol && l['transport'] === transport);
  // The MQTT line the harness waits for may come in an earlier chunk than the others.
  await waitFor(() => find('stomp', 'tcp') !== undefined, 5000, '{"msg":"listening","protocol":"stomp","transport":"tcp"} in the broker log').catch(() => undefined);
  const portOf = (protocol: string, transport: string): number => {
    const line = find(protocol, transport);
    if (line === undefined) throw new Error(`no {"msg":"listening","protocol":"${protocol}","transport":"${transport}"} line in the broker log`);
    return Number(line['port']);
  };
  return { broker, port: portOf('stomp', 'tcp'), portOf };
}

/** Builds a frame's bytes: command, headers in order, body, NUL. */
export function frame(command: string, headers: Record<string, string> | Array<[string, string]> = {}, body: string | Buffer = ''): Buffer {
  const list = Array.isArray(headers) ? headers : Object.entries(headers);
  const head = command + '\n' + list.map(([k, v]) => `${k}:${v}\n`).join('') + '\n';
  return Buffer.concat([Buffer.from(head), typeof body === 'string' ? Buffer.from(body) : body, Buffer.from([0])]);
}

/** What a RawStomp writes to: a TCP socket, or a WebSocket wrapped to look like one. */
export interface StompPipe {
  write(data: Buffer | string): void;
  destroy(): void;
}

/** A STOMP client over a plain socket (or a WebSocket) that reads whole server frames with timeouts. */
export class RawStomp {
  readonly socket: StompPipe;
  readonly frames: StompFrame[] = [];
  /** Heart-beat EOLs seen between frames. */
  beats = 0;
  closed = false;
  private readonly parser: FrameParser;
  private wake: (() => void) | null = null;

  constructor(socket: StompPipe) {
    this.socket = socket;
    this.parser = new FrameParser({ maxHeaders: 1000, maxHeaderLength: 1 << 20, maxBody: 1 << 26 });
    this.parser.commands = SERVER_COMMANDS;
    this.parser.escaping = Escaping.V12;
    if (socket instanceof net.Socket) {
      socket.on('data', (chunk: Buffer) => this.received(chunk));
      socket.on('close', () => this.ended());
      socket.on('error', () => {});
    }
  }

  /** Bytes from the server. */
  received(chunk: Buffer): void {
    if (chunk.every((b) => b === 0x0a || b === 0x0d)) this.beats++;
    this.parser.feed(chunk, (f) => {
      this.frames.push(f);
      return true;
    });
    this.notify();
  }

  /** The server closed the connection. */
  ended(): void {
    this.closed = true;
    this.notify();
  }

  /** Opens a WebSocket to `url` (the /stomp path of a ws listener) with the STOMP subprotocols. */
  static openWs(t: TestContext, url: string): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']);
      const client = new RawStomp({ write: (data) => ws.send(data), destroy: () => ws.terminate() });
      ws.on('message', (data: Buffer) => client.received(Buffer.from(data)));
      ws.on('close', () => client.ended());
      ws.on('error', reject);
      ws.once('open', () => resolve(client));
      t.after(() => ws.terminate());
    });
  }

  /** Opens a socket to the STOMP port. */
  static open(t: TestContext, port: number): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawStomp(socket)));
      socket.once('error', reject);
      t.after(() => socket.destroy());
    });
  }

  /** Opens a socket and sends CONNECT (1.2 unless headers say otherwise); resolves with CONNECTED. */
  static async connect(t: TestContext, port: number, headers: Record<string, string> = {}): Promise<RawStomp> {
    const c = await RawStomp.open(t, port);
    c.send(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost', 'heart-beat': '0,0', ...headers }));
    await c.next('CONNECTED');
    return c;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  send(data: Buffer | string): void {
    this.socket.write(data);
  }

  /** The next frame (of `command` when given); fails naming what arrived instead. */
  async next(command?: string, timeoutMs = 3000): Promise<StompFrame> {
    const f = await this.take(() => true, command ?? 'a frame', timeoutMs);
    if (command !== undefined && f.command !== command) {
      throw new Error(`expected ${command}, got ${f.command} ${JSON.stringify(Object.fromEntries(f.headers))} ${f.body.toString()}`);
    }
    return f;
  }

  /** The first frame (in arrival order) that `match` accepts; frames before it stay queued. */
  async take(match: (f: StompFrame) => boolean, what: string, timeoutMs = 3000): Promise<StompFrame> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const at = this.frames.findIndex(match);
      if (at !== -1) return this.frames.splice(at, 1)[0]!;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; queued: ${this.frames.map((f) => f.command).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves true when nothing arrives within `ms` (and the connection stays open). */
  async quiet(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.frames.length === 0;
  }

  /** Waits for the server to close the connection. */
  async closedWithin(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > until) throw new Error(`connection still open after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends a frame with a receipt and waits for that RECEIPT. */
  async request(command: string, headers: Record<string, string>, body: string | Buffer = '', receipt = 'r-' + Math.random().toString(36).slice(2)): Promise<void> {
    this.send(frame(command, { ...headers, receipt }, body));
    // MESSAGEs may come before it: they stay queued for next().
    const r = await this.take((f) => f.command === 'RECEIPT' || f.command === 'ERROR', `RECEIPT ${receipt}`);
    if (r.command === 'ERROR') throw new Error(`ERROR instead of RECEIPT ${receipt}: ${r.header('message')}`);
    if (r.header('receipt-id') !== receipt) throw new Error(`RECEIPT for ${r.header('receipt-id')}, expected ${receipt}`);
  }
}

/** Makes a WebSocket-like object over TCP for @stomp/stompjs's webSocketFactory. */
export class TcpStompSocket {
  url: string;
  readyState = 0;
  binaryType = 'arraybuffer';
  onopen: ((ev?: unknown) => unknown) | null = null;
  onclose: ((ev?: unknown) => unknown) | null = null;
  onerror: ((ev: unknown) => unknown) | null = null;
  onmessage: ((ev: { data: ArrayBuffer }) => unknown) | null = null;
  private readonly socket: net.Socket;

  constructor(port: number) {
    this.url = `tcp://127.0.0.1:${port}`;
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('connect', () => {
      this.readyState = 1;
      this.onopen?.();
    });
    this.socket.on('data', (chunk: Buffer) => {
      const data = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length) as ArrayBuffer;
      this.onmessage?.({ data });
    });
    this.socket.on('error', (err) => this.onerror?.(err));
    this.socket.on('close', () => {
      this.readyState = 3;
      this.onclose?.({ code: 1000, reason: '', wasClean: true });
    });
  }

  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (typeof data === 'string') this.socket.write(data);
    else if (ArrayBuffer.isView(data)) this.socket.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else this.socket.write(Buffer.from(data as ArrayBuffer));
  }

  close(): void {
    this.readyState = 2;
    this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }
}
