/**
 * The corpus on disk: test/corpus/<target>/ holds recorded seeds (seed-*.bin) and the inputs
 * that once failed (<kind>-<why>-<hash>.bin). The fuzzer starts from all of them and a CI test
 * replays every file, so a fixed failure stays fixed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/repo.js';
import type { FuzzFailure } from './target.js';

/** The corpus folder of one target (JUNCTION_CORPUS_DIR overrides the root, for tests). */
function corpusDir(target: string): string {
  const root = process.env['JUNCTION_CORPUS_DIR'] ?? join(repoRoot(), 'test', 'corpus');
  return join(root, target);
}

/** One corpus file. */
export interface CorpusEntry {
  readonly file: string;
  readonly input: Buffer;
}

/** Every .bin file of a target's corpus, sorted by name; none when the folder is absent. */
export function readCorpus(target: string): CorpusEntry[] {
  const dir = corpusDir(target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => ({ file: join(dir, f), input: readFileSync(join(dir, f)) }));
}

/** A file-name-safe summary of a failure message: the error class and a few words. */
function slug(message: string): string {
  return (
    message
      .replace(/\s+at\s.*$/, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48)
      .replace(/-+$/, '') || 'unknown'
  );
}

/** Saves a failing input as <kind>-<why>-<hash>.bin (plus a .txt with the message); returns its path. */
export function saveFailure(f: FuzzFailure): string {
  const dir = corpusDir(f.target);
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha1').update(f.input).digest('hex').slice(0, 10);
  const base = `${f.kind}-${slug(f.message)}-${hash}`;
  writeFileSync(join(dir, base + '.bin'), f.input);
  writeFileSync(join(dir, base + '.txt'), `${f.kind}: ${f.message}\n`);
  return join(dir, base + '.bin');
}

/** Saves a recorded or generated seed as seed-<name>.bin. */
export function saveSeed(target: string, name: string, input: Buffer): string {
  const dir = corpusDir(target);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `seed-${name}.bin`);
  writeFileSync(path, input);
  return path;
}
