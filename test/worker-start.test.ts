// The worker entrypoint's own failures, as an operator meets them: one clear line and an exit code, no stack.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { bakeLocalImage } from '../src/providers/local/images';
import { labLayout } from '../src/providers/local/lab';
import { readWorkerConfig } from '../src/worker/config';

const WORKER = resolve(__dirname, '../src/worker/main.js');

function worker(env: NodeJS.ProcessEnv): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [WORKER], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('worker start', () => {
  it('says which Temporal it tried and how to start one, with exit 3 and no stack trace', () => {
    const { status, stderr } = worker({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(status, 3, stderr);
    assert.match(stderr, /tuneforge worker: cannot reach the Temporal server at 127\.0\.0\.1:1 .*npm run demo/);
    assert.doesNotMatch(stderr, /^\s+at /m);
  });

  it('refuses an operator CIDR open to the internet (exit 2) and treats an empty one as unset', () => {
    const { status, stderr } = worker({ TUNEFORGE_OPERATOR_CIDR: '0.0.0.0/0', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(status, 2, stderr);
    assert.match(stderr, /TUNEFORGE_OPERATOR_CIDR must be an IPv4 CIDR narrower than \/0/);
    assert.equal(readWorkerConfig({ TUNEFORGE_OPERATOR_CIDR: '' }).operatorCidr, undefined);
    assert.equal(readWorkerConfig({ TUNEFORGE_OPERATOR_CIDR: ' 203.0.113.7/32 ' }).operatorCidr, '203.0.113.7/32');
  });

  it('a bake sweeps the staging copies that killed workers left behind, and keeps a live one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lab-'));
    const lab = labLayout(root, join(root, 'pip'));
    const dead = `.staging-${'a'.repeat(32)}-2147483646-1`;
    const live = `.staging-${'b'.repeat(32)}-${process.ppid}-1`;
    for (const name of [dead, live]) await mkdir(join(lab.images, name, 'home'), { recursive: true });
    const source = join(root, 'home');
    await mkdir(source);
    await writeFile(join(source, 'file'), 'x');
    await bakeLocalImage(lab, source, 'c'.repeat(32));
    assert.deepEqual((await readdir(lab.images)).sort(), [live, 'c'.repeat(32)].sort());
  });
});
