/** Shared by the transport tests: certificates made with openssl, listener ports from the broker's log, a raw WebSocket client. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { repoRoot, waitFor, type Broker, type LogLine } from '../interop/harness.js';
import { splitPackets, type RawPacket } from '../interop/wire.js';

/** PEM files in a temp dir: a CA, a server certificate for 127.0.0.1/localhost, client certificates. */
export interface Certs {
  dir: string;
  ca: string;
  caKey: string;
  cert: string;
  key: string;
  /** CN=device-42, signed by the CA */
  clientCert: string;
  clientKey: string;
  /** No CN, SAN DNS:device-san, signed by the CA */
  sanCert: string;
  sanKey: string;
  /** Self-signed CN=intruder: not trusted by the broker */
  otherCert: string;
  otherKey: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Signs a new key's certificate with the CA in `dir`; returns [cert, key] paths. */
export function issue(dir: string, name: string, subject: string, extensions: string): [string, string] {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, extensions + '\n');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject]);
  // A random serial per certificate: the reload test tells certificates apart by it.
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${Math.floor(Math.random() * 2 ** 48).toString(16)}`, '-days', '2', '-out', cert, '-extfile', ext]);
  return [cert, key];
}

/** Makes every certificate the tests need (about a second of openssl). */
export function makeCerts(): Certs {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-certs-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Junction Test CA']);
  const [cert, key] = issue(dir, 'server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  const [clientCert, clientKey] = issue(dir, 'client', '/CN=device-42', 'extendedKeyUsage=clientAuth');
  const [sanCert, sanKey] = issue(dir, 'san', '/O=Junction Tests', 'subjectAltName=DNS:device-san\nextendedKeyUsage=clientAuth');
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=intruder']);
  return {
    dir,
    ca: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    cert,
    key,
    clientCert,
    clientKey,
    sanCert,
    sanKey,
    otherCert: path.join(dir, 'other.crt'),
    otherKey: path.join(dir, 'other.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The port a listener of `transport` (tcp, tls, ws, wss) reported in the broker's log. The
 * broker may be reachable before the pipe has delivered every "listening" line: wait for it.
 */
export async function portOf(broker: Broker, transport: string): Promise<number> {
  const find = (): LogLine | undefined => broker.logs.find((l) => l['msg'] === 'listening' && l['transport'] === transport);
  await waitFor(() => find() !== undefined, 3000, `the broker's ${transport} listener (logs: ${JSON.stringify(broker.logs.slice(-5))})`);
  return Number(find()!['port']);
}

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `junction start ...` expected to refuse; resolves with its exit code and output (kills it after 10 s). */
export function startRefused(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-refused-'));
    const child = spawn(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', '0', '--data-dir', dataDir, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** A raw WebSocket client collecting the MQTT packets it receives, whatever the framing. */
export class RawWs {
  readonly packets: RawPacket[] = [];
  frames = 0;
  private rest: Buffer = Buffer.alloc(0);
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames++;
      const { packets, rest } = splitPackets(Buffer.concat([this.rest, data]));
      this.packets.push(...packets);
      this.rest = rest;
    });
    ws.on('close', () => (this.closed = true));
    ws.on('error', () => {});
  }

  /** Opens ws://127.0.0.1:port/path with the subprotocol mqtt. */
  static open(port: number, urlPath = '/mqtt'): Promise<RawWs> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${urlPath}`, ['mqtt']);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawWs(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends one binary WebSocket message. */
  send(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(data, { binary: true }, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits until `n` packets arrived in all. */
  async expect(n: number, what: string): Promise<RawPacket[]> {
    await waitFor(() => this.packets.length >= n, 3000, `${what} (got ${this.packets.length} packets)`);
    return this.packets;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Tries a WebSocket upgrade that should be refused; resolves with the HTTP status and body. */
export function refusedUpgrade(url: string, protocols: string[]): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`the upgrade to ${url} with subprotocols [${protocols.join(', ')}] was accepted`));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}
