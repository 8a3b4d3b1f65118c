// Upload throughput of the artifact store: a model-sized file on a local node to moto's S3 (single PUT
// and multipart, through presigned URLs) and to a folder store (tar over SSH). `npm run bench:upload`.
// moto keeps objects in memory and runs on the same 2 cores, so the S3 figures are a floor for the
// mover's overhead, not a forecast of EC2-to-S3 bandwidth.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore, NodeEndpoint } from '../src/artifacts/artifact-store';
import { createFolderStore } from '../src/artifacts/folder-store';
import { createS3Store } from '../src/artifacts/s3-store';
import { packageRoot } from '../src/common/package-root';
import { createLocalProvider } from '../src/providers/local/local-provider';
import { REMOTE } from '../src/recipes/remote-paths';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';

const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.UPLOAD_BENCH_MIB ?? '512');
const PORT = 45_000 + Math.floor(Math.random() * 1000);

async function main(): Promise<void> {
  const endpoint = `http://127.0.0.1:${PORT}`;
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  const moto = spawn(join(packageRoot(), '.tools/venv/bin/moto_server'), ['-H', '127.0.0.1', '-p', String(PORT)], {
    stdio: 'ignore',
  });
  const lab = await mkdtemp(join(tmpdir(), 'upload-bench-'));
  const provider = createLocalProvider({ labRoot: join(lab, 'lab'), tmpSizeMiB: 64 });
  const cluster = { clusterId: `upload-bench-${process.pid}`, runName: 'upload-bench' };
  try {
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`${endpoint}/moto-api/`).then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const [master] = await provider.launchNodes({ cluster, settings: { provider: 'local' }, role: 'master', names: ['master'] });
    if (!master) throw new Error('no node');
    const remote = createRemoteShell();
    const node: NodeEndpoint = { remote, target: sshTarget(master, await provider.sshIdentity({ provider: 'local' })) };
    await remote.upload(
      node.target,
      `${REMOTE.recipe}/common/transfer.py`,
      await readFile(join(packageRoot(), 'recipes/common/transfer.py')),
    );
    await remote.check(node.target, `mkdir -p bench && head -c ${SIZE_MIB * MiB} /dev/urandom > bench/model.safetensors`, {
      label: 'make a file',
    });
    const stores: Array<[string, ArtifactStore]> = [
      [
        's3, single PUT',
        createS3Store({ client: s3, bucket: 'bench', prefix: 'a', region: 'us-east-1', multipartThreshold: 8 * 1024 * MiB }),
      ],
      [
        's3, multipart (64 MiB parts)',
        createS3Store({
          client: s3,
          bucket: 'bench',
          prefix: 'b',
          region: 'us-east-1',
          multipartThreshold: 64 * MiB,
          partSize: 64 * MiB,
        }),
      ],
      ['folder (tar over SSH)', createFolderStore(join(lab, 'store'))],
    ];
    console.log(`| store | ${SIZE_MIB} MiB up | MiB/s | back to a node | MiB/s |`);
    console.log('| --- | --- | --- | --- | --- |');
    for (const [name, store] of stores) {
      const up = await timed(() => store.uploadFolder(node, 'bench', 'model'));
      const down = await timed(() => store.downloadFolder(node, 'model', 'bench-back'));
      await remote.check(node.target, 'rm -rf bench-back', { label: 'clean' });
      console.log(
        `| ${name} | ${up.toFixed(1)} s | ${(SIZE_MIB / up).toFixed(0)} | ${down.toFixed(1)} s | ${(SIZE_MIB / down).toFixed(0)} |`,
      );
    }
  } finally {
    await provider.cleanup(cluster).catch(() => undefined);
    moto.kill();
    await rm(lab, { recursive: true, force: true });
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
