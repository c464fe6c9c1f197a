/**
 * `junction ctl`: the admin API (src/admin/) from the command line, as `emqx ctl` is for EMQX.
 * Reads the bearer token from a file (the generated <data-dir>/admin-token by default), prints
 * a table or, with --json, the API's JSON. Exit codes: 0 done, 1 the broker said no (its
 * message printed), 2 bad usage.
 */
import { readFileSync, writeSync } from 'node:fs';
import { ConfigError } from '../errors.js';

const DEFAULT_URL = 'http://127.0.0.1:18083';
const DEFAULT_TOKEN_FILE = './data/admin-token';

/** The --help page of `junction ctl`. */
export function ctlHelp(): string {
  return [
    'Usage: junction ctl [--url URL] [--token-file FILE] [--json] <command> [arguments] [options]',
    '',
    'Manages a running broker over its admin API (junction start --admin-port PORT).',
    '',
    'Commands:',
    '  clients list [--protocol P] [--username U] [--prefix ID] [--address IP] [--page N] [--limit N]',
    '  clients show ID                     one client in full',
    '  clients kick ID                     disconnect it (MQTT 5: DISCONNECT 0x98)',
    '  bans list',
    '  bans add clientid|username|address WHO [--seconds N] [--reason TEXT]   refuse it at login, kick it now',
    '  bans remove clientid|username|address WHO',
    '  sessions list [--online true|false] [--prefix ID]',
    '  sessions discard ID                 end a session (also an offline persistent one)',
    '  subscriptions list [--client ID] [--filter FILTER]',
    '  retained list [FILTER]              retained messages matching FILTER (default #)',
    '  retained show TOPIC',
    '  retained delete TOPIC',
    '  publish TOPIC PAYLOAD [--qos 0|1|2] [--retain] [--client ID]   --client: to that client only',
    '  stats',
    '  nodes',
    '  reload                              what SIGHUP does: re-read security files, TLS, log level',
    '',
    'Options:',
    `  --url URL           the admin listener (default ${DEFAULT_URL}; JUNCTION_ADMIN_URL)`,
    `  --token-file FILE   file holding the bearer token (default ${DEFAULT_TOKEN_FILE}, which junction start`,
    '                      writes when it runs without --admin-token-file; JUNCTION_ADMIN_TOKEN_FILE)',
    "  --json              print the API's JSON instead of a table",
    '',
  ].join('\n');
}

/** Words and --options of one invocation. */
interface Invocation {
  readonly words: string[];
  readonly options: Map<string, string | true>;
}

/** Options that take no value. */
const SWITCHES: ReadonlySet<string> = new Set(['json', 'retain']);
/** Every option some command takes. */
const KNOWN: ReadonlySet<string> = new Set([
  'url',
  'token-file',
  'json',
  'protocol',
  'username',
  'prefix',
  'address',
  'page',
  'limit',
  'seconds',
  'reason',
  'online',
  'client',
  'filter',
  'qos',
  'retain',
]);

function parse(argv: readonly string[]): Invocation {
  const words: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!KNOWN.has(name)) throw new ConfigError(`unknown option --${name}; see junction ctl --help`);
    if (SWITCHES.has(name)) {
      options.set(name, true);
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    options.set(name, value);
  }
  return { words, options };
}

/** One API call to make, and how to show its answer. */
interface Request {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly show: (body: unknown) => string;
}

const enc = encodeURIComponent;

/** Topics keep their slashes in the path; each level is encoded. */
function topicPath(topic: string): string {
  return topic.split('/').map(enc).join('/');
}

function query(inv: Invocation, map: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [option, param] of Object.entries(map)) {
    const value = inv.options.get(option);
    if (typeof value === 'string') params.set(param, value);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function need(inv: Invocation, index: number, what: string): string {
  const word = inv.words[index];
  if (word === undefined) throw new ConfigError(`missing ${what}; see junction ctl --help`);
  return word;
}

/** The request an invocation stands for. */
function requestFor(inv: Invocation): Request {
  const [noun, verb] = inv.words;
  const key = `${noun ?? ''} ${verb ?? ''}`.trim();
  switch (key) {
    case 'clients list':
    case 'clients':
      return {
        method: 'GET',
        path: `/api/v1/clients${query(inv, { protocol: 'protocol', username: 'username', prefix: 'clientIdPrefix', address: 'address', page: 'page', limit: 'limit' })}`,
        show: (b) => pageTable(b, ['clientId', 'username', 'protocol', 'protocolVersion', 'transport', 'address', 'connectedAt', 'subscriptions', 'inflight', 'queued']),
      };
    case 'clients show':
      return { method: 'GET', path: `/api/v1/clients/${enc(need(inv, 2, 'the client id'))}`, show: record };
    case 'clients kick':
      return { method: 'DELETE', path: `/api/v1/clients/${enc(need(inv, 2, 'the client id'))}`, show: () => `kicked ${inv.words[2]}` };
    case 'bans list':
    case 'bans':
      return { method: 'GET', path: '/api/v1/bans', show: (b) => table((b as { data: unknown[] }).data, ['as', 'who', 'reason', 'at', 'until'], true) };
    case 'bans add': {
      const seconds = inv.options.get('seconds');
      const body: Record<string, unknown> = { as: need(inv, 2, 'what to ban: clientid, username or address'), who: need(inv, 3, 'who to ban') };
      if (typeof seconds === 'string') body['seconds'] = Number(seconds);
      const reason = inv.options.get('reason');
      if (typeof reason === 'string') body['reason'] = reason;
      return { method: 'POST', path: '/api/v1/bans', body, show: (b) => `banned ${body['as']} ${body['who']}; ${(b as { kicked: number }).kicked} connected client(s) kicked` };
    }
    case 'bans remove':
      return { method: 'DELETE', path: `/api/v1/bans/${enc(need(inv, 2, 'clientid, username or address'))}/${enc(need(inv, 3, 'who'))}`, show: () => `ban lifted` };
    case 'sessions list':
    case 'sessions':
      return {
        method: 'GET',
        path: `/api/v1/sessions${query(inv, { online: 'online', prefix: 'clientIdPrefix', page: 'page', limit: 'limit' })}`,
        show: (b) => pageTable(b, ['clientId', 'protocol', 'online', 'persistent', 'expiryInterval', 'disconnectedAt', 'subscriptions', 'queued']),
      };
    case 'sessions discard':
      return { method: 'DELETE', path: `/api/v1/sessions/${enc(need(inv, 2, 'the client id'))}`, show: () => `session of ${inv.words[2]} discarded` };
    case 'subscriptions list':
    case 'subscriptions':
      return {
        method: 'GET',
        path: `/api/v1/subscriptions${query(inv, { client: 'clientId', filter: 'filter', page: 'page', limit: 'limit' })}`,
        show: (b) => pageTable(b, ['clientId', 'filter', 'qos', 'online']),
      };
    case 'retained list':
    case 'retained': {
      const params = new URLSearchParams({ topic: inv.words[2] ?? '#' });
      for (const o of ['page', 'limit']) if (typeof inv.options.get(o) === 'string') params.set(o, inv.options.get(o) as string);
      return { method: 'GET', path: `/api/v1/retained?${params}`, show: (b) => pageTable(b, ['topic', 'qos', 'size', 'payload']) };
    }
    case 'retained show':
      return { method: 'GET', path: `/api/v1/retained/${topicPath(need(inv, 2, 'the topic'))}`, show: record };
    case 'retained delete':
      return { method: 'DELETE', path: `/api/v1/retained/${topicPath(need(inv, 2, 'the topic'))}`, show: () => `retained message on ${inv.words[2]} deleted` };
    case 'stats':
      return { method: 'GET', path: '/api/v1/stats', show: record };
    case 'nodes':
      return { method: 'GET', path: '/api/v1/nodes', show: (b) => table((b as { data: unknown[] }).data, ['name', 'version', 'status', 'uptimeSeconds', 'connections', 'rss'], false) };
    case 'reload':
      return { method: 'POST', path: '/api/v1/reload', show: reloadText };
    default:
      if (noun === 'publish') return publishRequest(inv);
      throw new ConfigError(`unknown command "${inv.words.join(' ')}"; see junction ctl --help`);
  }
}

function publishRequest(inv: Invocation): Request {
  const topic = need(inv, 1, 'the topic');
  const payload = need(inv, 2, 'the payload');
  const body: Record<string, unknown> = { topic, payload };
  const qos = inv.options.get('qos');
  if (typeof qos === 'string') body['qos'] = Number(qos);
  if (inv.options.get('retain') === true) body['retain'] = true;
  const client = inv.options.get('client');
  if (typeof client === 'string') body['clientId'] = client;
  return { method: 'POST', path: '/api/v1/publish', body, show: (b) => `published to ${topic}: ${(b as { matched: number }).matched} delivery(ies)` };
}

/** Runs `junction ctl` with the arguments after `ctl`. */
export async function runCtl(argv: readonly string[]): Promise<number> {
  const inv = parse(argv);
  if (inv.words.length === 0) throw new ConfigError('missing a command; see junction ctl --help');
  const request = requestFor(inv);
  const url = stringOption(inv, 'url') ?? process.env['JUNCTION_ADMIN_URL'] ?? DEFAULT_URL;
  const tokenFile = stringOption(inv, 'token-file') ?? process.env['JUNCTION_ADMIN_TOKEN_FILE'] ?? DEFAULT_TOKEN_FILE;
  const token = readToken(tokenFile);
  let res: Response;
  try {
    res = await fetch(new URL(request.path, url), {
      method: request.method,
      headers: { authorization: `Bearer ${token}`, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    out(2, `junction ctl: cannot reach the admin API at ${url} (${cause}); is the broker running with --admin-port? give --url`);
    return 1;
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const e = body as { code?: string; message?: string } | null;
    out(2, `junction ctl: ${res.status} ${e?.code ?? ''}: ${e?.message ?? text}`);
    return 1;
  }
  out(1, inv.options.get('json') === true ? JSON.stringify(body, null, 2) : request.show(body));
  if (request.path === '/api/v1/reload' && (body as { ok?: boolean }).ok === false) return 1;
  return 0;
}

function stringOption(inv: Invocation, name: string): string | undefined {
  const value = inv.options.get(name);
  return typeof value === 'string' ? value : undefined;
}

function readToken(file: string): string {
  try {
    const token = (readFileSync(file, 'utf8').split(/\r?\n/, 1)[0] ?? '').trim();
    if (token !== '') return token;
  } catch (err) {
    throw new ConfigError(`cannot read --token-file ${file}: ${(err as Error).message}; give the --admin-token-file of the broker, or its <data-dir>/admin-token`);
  }
  throw new ConfigError(`--token-file ${file} is empty`);
}

function out(fd: 1 | 2, text: string): void {
  writeSync(fd, text.endsWith('\n') ? text : `${text}\n`);
}

// --- rendering -------------------------------------------------------------------------------

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number' && value > 1e12 && value < 1e14) return new Date(value).toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

/** Rows as aligned columns with a header; `untilNever`: 0 in an "until" column reads "never". */
function table(rows: unknown[], columns: readonly string[], untilNever: boolean): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) =>
    columns.map((c) => {
      const value = (row as Record<string, unknown>)[c];
      return untilNever && c === 'until' && value === 0 ? 'never' : cell(value);
    }),
  );
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

function pageTable(body: unknown, columns: readonly string[]): string {
  const page = body as { data: unknown[]; meta: { page: number; limit: number; count: number } };
  const shown = page.data.length;
  const first = (page.meta.page - 1) * page.meta.limit;
  const footer = page.meta.count > shown ? `\n(${shown === 0 ? 'none' : `${first + 1}-${first + shown}`} of ${page.meta.count}; --page and --limit show more)` : '';
  return table(page.data, columns, false) + footer;
}

/** One object as "key: value" lines. */
function record(body: unknown): string {
  const entries = Object.entries(body as Record<string, unknown>);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

function reloadText(body: unknown): string {
  const r = body as { ok: boolean; parts: Array<{ part: string; ok: boolean; detail: string }>; needsRestart: string[]; disconnected: number; subscriptionsRevoked: number };
  const lines = [r.ok ? 'reloaded' : 'reload incomplete: the parts that failed keep their old configuration'];
  for (const p of r.parts) if (!p.ok || p.detail !== '') lines.push(`  ${p.part}: ${p.ok ? '' : 'FAILED: '}${p.detail}`);
  lines.push(`  clients disconnected: ${r.disconnected}; subscriptions revoked: ${r.subscriptionsRevoked}`);
  if (r.needsRestart.length > 0) lines.push(`  needs a restart to change: ${r.needsRestart.join(', ')}`);
  return lines.join('\n');
}
