// The recipe's files as uploaded to the master, and the fingerprint that names the image baked from them.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execFile } from 'node:child_process';
import { packageRoot } from '../common/package-root';
import type { Recipe } from './recipe';

/** Bump when the install steps change in a way the recipe files do not show. */
export const INSTALL_STEPS_VERSION = 2;
const SKIPPED = new Set(['__pycache__', 'tests', '.pytest_cache']);

export interface RecipeBundle {
  fingerprint: string;
  /** gzip'd tar of the recipe folders. */
  archive: Buffer;
}

export async function recipeFiles(recipe: Recipe, root = join(packageRoot(), 'recipes')): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIPPED.has(entry.name) || entry.name.endsWith('.pyc')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(relative(root, path));
    }
  };
  for (const folder of recipe.folders) await walk(join(root, folder));
  return files;
}

export async function recipeFingerprint(recipe: Recipe, root = join(packageRoot(), 'recipes')): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ recipe, installSteps: INSTALL_STEPS_VERSION }));
  for (const file of await recipeFiles(recipe, root)) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(join(root, file)));
  }
  return hash.digest('hex').slice(0, 32);
}

export async function buildRecipeBundle(recipe: Recipe, root = join(packageRoot(), 'recipes')): Promise<RecipeBundle> {
  const files = await recipeFiles(recipe, root);
  const archive = await new Promise<Buffer>((resolve, reject) => {
    execFile('tar', ['-czf', '-', '-C', root, ...files], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
  return { fingerprint: await recipeFingerprint(recipe, root), archive };
}
