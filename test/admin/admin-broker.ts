/**
 * A broker process with its admin listener on, and a small HTTP client for its API that
 * throws nothing: every answer comes back with its status and parsed body for the assertions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startJunction, type BrokerProcess } from '../../bench/lib/broker-process.js';
import { waitFor, type TestContext } from '../interop/harness.js';

/** The token the test brokers use (written to a token file). */
export const TOKEN = 'test-token-0123456789abcdef';

/** One answer of the admin API. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or the text when the body was not JSON. */
  readonly body: unknown;
  readonly text: string;
}

/** A broker with its admin listener and a client of its API. */
export interface AdminBroker {
  readonly broker: BrokerProcess;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  readonly tokenFile: string;
  /** A folder for the test's files, removed with the broker. */
  readonly dir: string;
  /** Calls the API with the test token (or `token`: null sends none). */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<Answer>;
}

/** Starts a broker with --admin-port 0 and a token file, disposed of when the test ends. */
export async function adminBroker(t: TestContext, args: string[] = [], files: Record<string, string> = {}): Promise<AdminBroker> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-admin-'));
  const tokenFile = path.join(dir, 'admin.token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const resolved = args.map((a) => a.replace('$DIR', dir));
  const broker = await startJunction({ args: ['--store', 'memory', '--admin-port', '0', '--admin-token-file', tokenFile, ...resolved] });
  t.after(async () => {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${broker.listeningPort('admin', 'http')}`;
  return { broker, base, tokenFile, dir, api: (method, p, body, token = TOKEN) => call(base, method, p, body, token) };
}

/** One HTTP request; a string body is sent as it is, anything else as JSON. */
export async function call(base: string, method: string, p: string, body?: unknown, token: string | null = TOKEN): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + p, { method, headers, ...(payload === undefined ? {} : { body: payload }), signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // Not JSON (metrics, the dashboard): keep the text.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** The body as a record, for reading fields in assertions. */
export function fields(answer: Answer): Record<string, unknown> {
  return answer.body as Record<string, unknown>;
}

/** A STOMP 1.2 client over a raw socket, logged in as `login` (client id the same); `closed` resolves when the broker closes it. */
export async function stompLogin(t: TestContext, port: number, login: string, passcode?: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  let got = '';
  socket.on('data', (d: Buffer) => {
    got += d.toString('latin1');
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const credentials = passcode === undefined ? `login:${login}` : `login:${login}\npasscode:${passcode}`;
  socket.write(`CONNECT\naccept-version:1.2\nhost:/\n${credentials}\nclient-id:${login}\n\n\0`);
  await waitFor(() => got.includes('CONNECTED'), 3000, `STOMP login of ${login}`);
  return { socket, closed };
}
