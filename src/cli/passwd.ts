/**
 * `junction passwd FILE USER`: adds a user to a password file or changes their password. The
 * password is read without echo from a terminal (asked twice), or as the first line of stdin
 * when stdin is not a terminal (scripts, tests). The file is replaced atomically, mode 0600.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { hashPassword, type HashKind } from '../security/password-hash.js';
import { formatPasswordFile, parsePasswordFile, type PasswordEntry } from '../security/password-file.js';

/** The `junction passwd --help` page. */
export function passwdHelp(): string {
  return [
    'Usage: junction passwd [--pbkdf2] [--delete] FILE USER',
    '',
    'Adds USER to the password file FILE (created if missing) or changes their password.',
    'The password is read without echo from the terminal, or as the first line of stdin.',
    'Use the file with: junction start --password-file FILE',
    '',
    'Options:',
    '  --pbkdf2    hash with PBKDF2-SHA512 instead of scrypt',
    '  --delete    remove USER instead',
    '',
  ].join('\n');
}

/** Runs the command; returns the exit code. */
export async function runPasswd(argv: readonly string[]): Promise<number> {
  const flags = argv.filter((a) => a.startsWith('--'));
  const positional = argv.filter((a) => !a.startsWith('--'));
  for (const f of flags) if (f !== '--pbkdf2' && f !== '--delete') throw new ConfigError(`passwd: unknown flag ${f}; see junction passwd --help`);
  if (positional.length !== 2) throw new ConfigError('passwd needs FILE and USER; see junction passwd --help');
  const [file, user] = positional as [string, string];
  if (user === '' || /[:\s]/.test(user)) throw new ConfigError(`passwd: user name "${user}" must not be empty or hold ":" or white space`);

  const entries: PasswordEntry[] = existsSync(file) ? parsePasswordFile(readFileSync(file, 'utf8'), file) : [];
  const at = entries.findIndex((e) => e.user === user);
  if (flags.includes('--delete')) {
    if (at === -1) throw new ConfigError(`passwd: user "${user}" is not in ${file}`);
    entries.splice(at, 1);
    writeAtomically(file, formatPasswordFile(entries));
    return 0;
  }
  const password = process.stdin.isTTY ? await askTwice() : await firstLineOfStdin();
  if (password === '') throw new ConfigError('passwd: the password must not be empty');
  const kind: HashKind = flags.includes('--pbkdf2') ? 'pbkdf2' : 'scrypt';
  const entry = { user, hash: await hashPassword(password, kind) };
  if (at === -1) entries.push(entry);
  else entries[at] = entry;
  writeAtomically(file, formatPasswordFile(entries));
  process.stderr.write(`${at === -1 ? 'added' : 'updated'} ${user} in ${file}\n`);
  return 0;
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

async function firstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
    if (buf.includes(0x0a) || size > 65536) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const end = text.search(/\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}

async function askTwice(): Promise<string> {
  const first = await askHidden('Password: ');
  const second = await askHidden('Reenter password: ');
  if (first !== second) throw new ConfigError('passwd: the passwords do not match');
  return first;
}

/** Reads one line from the terminal with echo off; Ctrl-C aborts. */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err: Error | null): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err === null) resolve(text);
      else reject(err);
    };
    const onData = (data: string): void => {
      for (const ch of data) {
        if (ch === '\r' || ch === '\n') {
          done(null);
          return;
        }
        if (ch === '\u0003') {
          done(new ConfigError('passwd: aborted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
