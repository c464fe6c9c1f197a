/**
 * One client thread of the login storm (login-storm.ts): logs in devices [from, to) to the
 * broker, `concurrency` at a time, each on a fresh TCP connection (CONNECT 3.1.1 with username
 * and password, CONNACK, DISCONNECT), and posts its progress to the main thread.
 */
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeConnect } from '../../src/protocols/mqtt/codec/encode-connect.js';

/** What the main thread hands each client thread. */
export interface StormSlice {
  readonly port: number;
  readonly from: number;
  readonly to: number;
  readonly concurrency: number;
  readonly credentials: boolean;
  readonly password: string;
}

/** What a client thread posts: logins done so far; `final` once its slice is through. */
export interface StormProgress {
  readonly done: number;
  readonly refused: number;
  readonly final: boolean;
  readonly error?: string;
}

const SOURCES = 8;
const DISCONNECT = Buffer.from([0xe0, 0]);

/** CONNECT 3.1.1, clean session, keep-alive 0, with username and password when given. */
function connectPacket(clientId: string, username: string | null, password: string | null): Buffer {
  return encodeConnect({ protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId, username, password: password === null ? null : Buffer.from(password) });
}

/** One login; resolves with the CONNACK return code after sending DISCONNECT. */
function login(slice: StormSlice, i: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: slice.port, localAddress: `127.0.0.${1 + (i % SOURCES)}` });
    let got = Buffer.alloc(0);
    socket.setNoDelay(true);
    const name = `dev${i}`;
    socket.once('connect', () => socket.write(connectPacket(name, slice.credentials ? name : null, slice.credentials ? slice.password : null)));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4) return;
      socket.end(DISCONNECT);
      resolve(got[3]!);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (got.length < 4) reject(new Error(`${name}: connection closed before CONNACK`));
    });
  });
}

async function run(slice: StormSlice): Promise<void> {
  const port = parentPort!;
  let next = slice.from;
  let done = 0;
  let refused = 0;
  const timer = setInterval(() => port.postMessage({ done, refused, final: false } satisfies StormProgress), 250);
  try {
    const worker = async (): Promise<void> => {
      while (next < slice.to) {
        const code = await login(slice, next++);
        if (code !== 0) refused++;
        done++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(slice.concurrency, slice.to - slice.from) }, worker));
    port.postMessage({ done, refused, final: true } satisfies StormProgress);
  } catch (err) {
    port.postMessage({ done, refused, final: true, error: (err as Error).message } satisfies StormProgress);
  } finally {
    clearInterval(timer);
  }
}

await run(workerData as StormSlice);
