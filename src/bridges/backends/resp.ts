/**
 * A small Redis client (RESP2) for the Redis Streams bridge: commands pipelined on one socket,
 * replies matched in order, a connect timeout, and a reconnect on the next command after the
 * connection dropped. Only what the bridge uses (XADD, XREADGROUP, XACK, XGROUP, AUTH, SELECT,
 * PING), so no client library is needed.
 */
import net from 'node:net';

/** A reply: simple string, integer, bulk string (Buffer), null, array, or a RedisError. */
export type Reply = string | number | Buffer | null | Reply[] | RedisError;

/** An error reply (`-ERR ...`, `-WRONGTYPE ...`); `code` is its first word. */
export class RedisError extends Error {
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = 'RedisError';
    this.code = message.split(' ', 1)[0] ?? 'ERR';
  }
}

/** Where a Redis server is: redis://[:password@]host[:port][/db]. */
export interface RedisAddress {
  host: string;
  port: number;
  password: string | null;
  username: string | null;
  db: number;
}

/** Parses a redis:// URL; throws an Error saying what is wrong. */
export function parseRedisUrl(url: string): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL (redis://host:port)`);
  }
  if (u.protocol !== 'redis:') throw new Error(`"${url}": only redis:// is supported`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`"${url}": the database must be a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port === '' ? 6379 : Number(u.port),
    password: u.password === '' ? null : decodeURIComponent(u.password),
    username: u.username === '' ? null : decodeURIComponent(u.username),
    db,
  };
}

type Waiter = { resolve: (r: Reply) => void; reject: (e: Error) => void };

export class RespClient {
  private socket: net.Socket | null = null;
  private connecting: Promise<void> | null = null;
  private readonly waiters: Waiter[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private closed = false;

  constructor(
    private readonly address: RedisAddress,
    private readonly connectTimeoutMs: number,
  ) {}

  /** Connects (authenticating and selecting the database); rejects naming the address. */
  connect(): Promise<void> {
    if (this.socket !== null) return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** Sends one command; the reply resolves (error replies too, as RedisError values). */
  async command(args: ReadonlyArray<string | Buffer>): Promise<Reply> {
    if (this.socket === null) await this.connect();
    return this.write(args);
  }

  /** Sends several commands in one write; their replies in order. */
  async pipeline(commands: ReadonlyArray<ReadonlyArray<string | Buffer>>): Promise<Reply[]> {
    if (this.socket === null) await this.connect();
    return Promise.all(commands.map((c) => this.write(c)));
  }

  /** Closes the connection; pending commands fail. */
  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.dropped(new Error('connection closed'));
  }

  private async open(): Promise<void> {
    const { host, port } = this.address;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`Redis at ${host}:${port}: no connection within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`Redis at ${host}:${port}: ${err.message}`));
      });
    });
    if (this.closed) {
      socket.destroy();
      throw new Error('connection closed');
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
      this.dropped(new Error(`Redis at ${host}:${port}: connection lost`));
    });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    const a = this.address;
    const setup: Array<Array<string>> = [];
    if (a.password !== null) setup.push(a.username === null ? ['AUTH', a.password] : ['AUTH', a.username, a.password]);
    if (a.db !== 0) setup.push(['SELECT', String(a.db)]);
    for (const c of setup) {
      const reply = await this.write(c);
      if (reply instanceof RedisError) {
        socket.destroy();
        throw new Error(`Redis at ${host}:${port}: ${c[0]} failed: ${reply.message}`);
      }
    }
  }

  private write(args: ReadonlyArray<string | Buffer>): Promise<Reply> {
    const socket = this.socket;
    if (socket === null) return Promise.reject(new Error('not connected to Redis'));
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const bytes = typeof a === 'string' ? Buffer.from(a) : a;
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
    }
    socket.write(Buffer.concat(parts));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private dropped(err: Error): void {
    const waiting = this.waiters.splice(0);
    for (const w of waiting) w.reject(err);
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      let parsed: { reply: Reply; end: number } | null;
      try {
        parsed = parseReply(this.buffer, 0);
      } catch (err) {
        // Not Redis, or out of step: drop the connection (the next command reconnects).
        this.socket?.destroy();
        this.dropped(err as Error);
        return;
      }
      if (parsed === null) return;
      this.buffer = this.buffer.subarray(parsed.end);
      this.waiters.shift()?.resolve(parsed.reply);
    }
  }
}

const CRLF = Buffer.from('\r\n');

/** One reply from `at`, or null when the buffer does not hold all of it yet. */
function parseReply(buf: Buffer, at: number): { reply: Reply; end: number } | null {
  const eol = buf.indexOf(CRLF, at);
  if (eol === -1) return null;
  const type = buf[at];
  const line = buf.toString('utf8', at + 1, eol);
  switch (type) {
    case 0x2b /* + */:
      return { reply: line, end: eol + 2 };
    case 0x2d /* - */:
      return { reply: new RedisError(line), end: eol + 2 };
    case 0x3a /* : */:
      return { reply: Number(line), end: eol + 2 };
    case 0x24 /* $ */:
      {
        const len = Number(line);
        if (len < 0) return { reply: null, end: eol + 2 };
        const end = eol + 2 + len + 2;
        if (buf.length < end) return null;
        return { reply: Buffer.from(buf.subarray(eol + 2, eol + 2 + len)), end };
      }
    case 0x2a /* * */:
      {
        const count = Number(line);
        if (count < 0) return { reply: null, end: eol + 2 };
        const items: Reply[] = [];
        let pos = eol + 2;
        for (let i = 0; i < count; i++) {
          const item = parseReply(buf, pos);
          if (item === null) return null;
          items.push(item.reply);
          pos = item.end;
        }
        return { reply: items, end: pos };
      }
    default:
      throw new Error(`Redis sent a reply of unknown type 0x${(type ?? 0).toString(16)}`);
  }
}
