/** Where the checkout is, for tools and tests that run the built broker or write under test/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding package.json and src/ (from dist/ and build/ alike); else the working directory. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return process.cwd();
}

/** The built `junction` command (`npx tsc -p tsconfig.json` makes it). */
export function junctionCli(): string {
  return join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}
