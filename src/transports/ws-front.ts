/**
 * The front of a WebSocket listener: node:tls (--wss-port) or node:net (--ws-port with
 * --ws-check-masks) accepts the client and pipes its bytes to a plain uWebSockets.js App
 * listening on a private Unix socket, checking on the way that every client frame is masked.
 *
 * Why: uWebSockets.js 20.30's SSLApp cannot swap its certificates (SIGHUP) without dropping
 * connections, lets a client without a certificate in even when one is required, and does not
 * tell who a client certificate names. node:tls does all three (TlsProvider.reload switches
 * new handshakes to the new files; open connections keep theirs), and uWS cannot adopt a
 * socket, so the two are joined by a byte pipe. And uWS never looks at the MASK bit of a
 * client frame (RFC 6455 5.1 says a server closes on an unmasked one): only a front sees it.
 * The price on plain ws is two more descriptors and a copy per connection, hence the flag.
 *
 * - The inner socket is a Unix socket in a fresh 0700 directory: reachable only by this user
 *   (uWS 20.30 copies the path as a C string, so an abstract socket name, which starts with a
 *   NUL byte, cannot be used). It also spends no loopback ephemeral port per connection.
 * - Who the client is (address, port, certificate identity) stays here, in a connection
 *   record. The front inserts one header line after the request line of the first HTTP
 *   request, `x-junction-front: <secret> <id>`; the uWS upgrade handler claims the record with
 *   it (`claim`). The secret is random per process, so nothing else that can reach the socket
 *   can pose as a front connection. Nothing is stripped or rewritten besides.
 * - The pipe: module-level handlers reading the peer off the socket (no closures per
 *   connection); each side pauses the other when its write buffer is full and resumes it on
 *   drain. The link's own pause (the publish-rate guard) pauses reading from the client too.
 *   Either side's end is passed on; when the client side closes, the inner side is destroyed;
 *   when uWS closes, the client side is ended and destroyed if it lingers.
 * - Deadlines are on the broker's timer wheel: a connection that has not upgraded within
 *   --connect-timeout is closed (node's handshakeTimeout covers the TLS handshake itself).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { TimerWheel, WheelItem, WheelLink } from '../core/timer-wheel.js';
import { certificateIdentity, type TlsProvider } from './tls.js';
import { ClientFrameCheck } from './ws-frame-check.js';

/** The header the front inserts into a client's first HTTP request (lower case, as uWS reads it). */
export const FRONT_HEADER = 'x-junction-front';

/** Longest request line accepted before the header can be inserted; uWS's own header limit is 4 KiB. */
const MAX_REQUEST_LINE = 8192;
const EMPTY = Buffer.alloc(0);
/** A close frame with 1002 (protocol error): what a client sending an unmasked frame hears. */
const CLOSE_PROTOCOL_ERROR = Buffer.from([0x88, 0x02, 0x03, 0xea]);
/** How long a client side may take to flush its last bytes after uWS closed the connection. */
const LINGER_MS = 2000;

export interface WsFrontOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  /** Seconds a connection has for its TLS handshake (wss), then again for its upgrade request. */
  readonly connectTimeout: number;
  readonly wheel: TimerWheel;
}

/** Something whose reading can be paused: what a fronted link pauses on backpressure. */
export interface ReadGate {
  pause(): void;
  resume(): void;
}

const kConn = Symbol('junction.frontConnection');
/** Either socket of a front connection, carrying it for the shared handlers. */
type PipedSocket = net.Socket & { [kConn]: FrontConnection };

/** One client connection through the front: its two sockets, who the client is, the pipe's state. */
export class FrontConnection implements WheelItem, ReadGate {
  wheelPrev: WheelLink | null = null;
  wheelNext: WheelLink | null = null;
  wheelDeadline = 0;
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** CN (or first SAN) of a client certificate verified against --tls-ca, else null. */
  readonly identity: string | null;
  /** Bytes of the first request until its request line is complete; null once passed on. */
  private head: Buffer | null = EMPTY;
  private linkPaused = false;
  private innerFull = false;
  /** Follows the client's frames: uWS would not notice an unmasked one. */
  private readonly frames = new ClientFrameCheck();
  private outerGone = false;
  private innerGone = false;

  constructor(
    private readonly front: WsFront,
    readonly outer: net.Socket,
    readonly inner: net.Socket,
    id: number,
    identity: string | null,
  ) {
    this.id = id;
    this.remoteAddress = outer.remoteAddress ?? '';
    this.remotePort = outer.remotePort ?? 0;
    this.identity = identity;
  }

  /** Stops reading from the client (the link's backpressure). */
  pause(): void {
    this.linkPaused = true;
    this.outer.pause();
  }

  /** Reads from the client again, unless the inner side is still full. */
  resume(): void {
    this.linkPaused = false;
    if (!this.innerFull) this.outer.resume();
  }

  /** The deadline passed: no upgrade in time, or the client side lingered after uWS closed. */
  onTimer(): number {
    this.outer.destroy();
    this.inner.destroy();
    return 0;
  }

  /** Client bytes: checked frame by frame (an unmasked one closes), then passed on. */
  fromClient(chunk: Buffer): void {
    if (!this.frames.check(chunk)) {
      // RFC 6455 5.1: a server closes on an unmasked client frame.
      this.head = null;
      this.outer.end(CLOSE_PROTOCOL_ERROR);
      this.inner.destroy();
      return;
    }
    this.pass(chunk);
  }

  /** Passes client bytes on: the first request gets the front header after its request line. */
  private pass(chunk: Buffer): void {
    if (this.head !== null) {
      this.insertHeader(chunk);
      return;
    }
    if (!this.inner.write(chunk)) {
      this.innerFull = true;
      this.outer.pause();
    }
  }

  /** The inner side took what was queued: read from the client again unless the link paused it. */
  innerDrained(): void {
    this.innerFull = false;
    if (!this.linkPaused) this.outer.resume();
  }

  /** uWS closed its side: flush what it sent to the client, then close; destroyed if that takes too long. */
  innerClosed(): void {
    this.innerGone = true;
    this.front.forget(this);
    if (this.outerGone) {
      this.front.wheel.cancel(this);
      return;
    }
    this.outer.end();
    this.front.wheel.schedule(this, this.front.wheel.now + LINGER_MS);
  }

  /**
   * The client side closed. After a clean end (passed on to uWS) the inner side may still hold
   * the client's last bytes (an MQTT DISCONNECT, which decides whether a will is sent): uWS
   * reads them and closes; otherwise the inner side goes at once.
   */
  outerClosed(): void {
    this.outerGone = true;
    this.front.forget(this);
    if (this.innerGone) {
      this.front.wheel.cancel(this);
    } else if (this.inner.writableEnded) {
      this.front.wheel.schedule(this, this.front.wheel.now + LINGER_MS);
    } else {
      this.front.wheel.cancel(this);
      this.inner.destroy();
    }
  }

  private insertHeader(chunk: Buffer): void {
    const head = this.head!.length === 0 ? chunk : Buffer.concat([this.head!, chunk]);
    const eol = head.indexOf(0x0a);
    if (eol === -1) {
      if (head.length > MAX_REQUEST_LINE) {
        this.head = null;
        this.outer.end('HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        this.inner.destroy();
        return;
      }
      this.head = head;
      return;
    }
    this.head = null;
    const line = Buffer.from(`${FRONT_HEADER}: ${this.front.secret} ${this.id}\r\n`, 'latin1');
    this.pass(Buffer.concat([head.subarray(0, eol + 1), line, head.subarray(eol + 1)]));
  }
}

function onOuterData(this: PipedSocket, chunk: Buffer): void {
  this[kConn].fromClient(chunk);
}
function onInnerData(this: PipedSocket, chunk: Buffer): void {
  const conn = this[kConn];
  if (!conn.outer.write(chunk)) this.pause();
}
function onOuterDrain(this: PipedSocket): void {
  this[kConn].inner.resume();
}
function onInnerDrain(this: PipedSocket): void {
  this[kConn].innerDrained();
}
function onOuterEnd(this: PipedSocket): void {
  this[kConn].inner.end();
}
function onOuterClose(this: PipedSocket): void {
  this[kConn].outerClosed();
}
function onInnerClose(this: PipedSocket): void {
  this[kConn].innerClosed();
}
function onSocketError(): void {
  /* each side's 'close' follows and closes the other */
}

/** The node:tls (wss) or node:net (ws) listener and the connections it pipes to uWS. */
export class WsFront {
  /** Random per process: proves to the uWS side that a request came through this front. */
  readonly secret = randomBytes(24).toString('base64url');
  readonly wheel: TimerWheel;
  private readonly secretBytes = Buffer.from(this.secret, 'latin1');
  private readonly server: net.Server;
  /** Connections that have not upgraded yet, by id. */
  private readonly waiting = new Map<number, FrontConnection>();
  private nextId = 1;

  private constructor(
    private readonly options: WsFrontOptions,
    /** The certificates of wss; null for plain ws. */
    private readonly provider: TlsProvider | null,
    readonly innerPath: string,
  ) {
    this.wheel = options.wheel;
    if (provider === null) {
      this.server = net.createServer((socket) => this.accept(socket));
    } else {
      const server = tls.createServer({ ...provider.serverOptions(), handshakeTimeout: options.connectTimeout * 1000 }, (socket) => this.accept(socket));
      // A failed handshake is the client's problem; never let it reach the process.
      server.on('tlsClientError', () => {});
      provider.track(server);
      this.server = server;
    }
    this.server.maxConnections = options.maxConnections;
  }

  /** Binds the listener (TLS when `provider` is given); the uWS App must already listen on `innerPath`. */
  static async open(options: WsFrontOptions, provider: TlsProvider | null, innerPath: string): Promise<WsFront> {
    const front = new WsFront(options, provider, innerPath);
    await new Promise<void>((resolve, reject) => {
      front.server.once('error', reject);
      front.server.listen({ host: options.host, port: options.port, backlog: 4096 }, () => {
        front.server.off('error', reject);
        resolve();
      });
    });
    return front;
  }

  /** The port bound (the one chosen when 0 was asked for). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /**
   * The connection an upgrade request came through, from its front header; null when the
   * header is missing, carries the wrong secret, or names a connection already claimed or gone.
   */
  claim(header: string): FrontConnection | null {
    const space = header.indexOf(' ');
    if (space === -1) return null;
    const secret = Buffer.from(header.slice(0, space), 'latin1');
    if (secret.length !== this.secretBytes.length || !timingSafeEqual(secret, this.secretBytes)) return null;
    const id = Number(header.slice(space + 1));
    const conn = this.waiting.get(id);
    if (conn === undefined) return null;
    this.waiting.delete(id);
    this.wheel.cancel(conn);
    return conn;
  }

  /** Drops a connection from the waiting list (it closed before upgrading). */
  forget(conn: FrontConnection): void {
    if (this.waiting.get(conn.id) === conn) this.waiting.delete(conn.id);
  }

  /** Stops accepting; open connections stay until their protocols end them. */
  close(): void {
    this.server.close();
  }

  private accept(outer: net.Socket): void {
    const identity = this.provider?.hasCa === true ? certificateIdentity(outer as tls.TLSSocket) : null;
    const inner = net.connect({ path: this.innerPath });
    const conn = new FrontConnection(this, outer, inner, this.nextId++, identity);
    (outer as PipedSocket)[kConn] = conn;
    (inner as PipedSocket)[kConn] = conn;
    outer.setNoDelay(true);
    outer.on('data', onOuterData);
    outer.on('drain', onOuterDrain);
    outer.on('end', onOuterEnd);
    outer.on('error', onSocketError);
    outer.on('close', onOuterClose);
    inner.on('data', onInnerData);
    inner.on('drain', onInnerDrain);
    inner.on('error', onSocketError);
    inner.on('close', onInnerClose);
    this.waiting.set(conn.id, conn);
    this.wheel.schedule(conn, this.wheel.now + this.options.connectTimeout * 1000);
  }
}

const SOCKET_DIR_PREFIX = 'junction-ws-';

/**
 * A fresh private directory (mode 0700) for the inner Unix socket, named after this process;
 * `remove` deletes it. Directories left by processes that no longer run (kill -9) are removed.
 */
export function privateSocketPath(): { path: string; remove(): void } {
  removeStaleSocketDirs();
  const dir = mkdtempSync(path.join(os.tmpdir(), `${SOCKET_DIR_PREFIX}${process.pid}-`));
  return { path: path.join(dir, 'uws.sock'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function removeStaleSocketDirs(): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(SOCKET_DIR_PREFIX)) continue;
    const pid = Number(name.slice(SOCKET_DIR_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || isRunning(pid)) continue;
    try {
      rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    } catch {
      // Another user's directory (sticky /tmp) cannot be removed: leave it.
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
