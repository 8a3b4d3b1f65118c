// The artifact store against moto's S3 and a folder, with a real local node on the other end: bytes move
// node <-> store, a checkpoint is complete only with its marker, and bad stores are refused by name.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactStore, NodeEndpoint } from '../src/artifacts/artifact-store';
import { createFolderStore } from '../src/artifacts/folder-store';
import { createS3Store } from '../src/artifacts/s3-store';
import {
  completeCheckpoints,
  pruneCheckpoints,
  restoreNewestCheckpoint,
  saveCheckpoint,
} from '../src/artifacts/stored-checkpoints';
import { FailureType } from '../src/common/errors';
import { packageRoot } from '../src/common/package-root';
import { REMOTE } from '../src/recipes/remote-paths';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import { testProvider } from './helpers/local-lab';
import { motoUnavailableReason, startMoto, type MotoServer } from './helpers/moto';
import { uniqueId } from './helpers/temporal';

const skip = motoUnavailableReason();
const cluster = { clusterId: uniqueId('store'), runName: 'store-test' };
const remote = createRemoteShell();
const MiB = 1024 * 1024;

async function sh(node: NodeEndpoint, command: string): Promise<string> {
  return (await remote.check(node.target, command, { label: 'test command' })).stdout.trim();
}

/** A checkpoint-like folder on the node: a 12 MiB random file (three 5 MiB parts), a nested file, and a small one. */
async function makeCheckpoint(node: NodeEndpoint, name: string): Promise<string> {
  const dir = `${REMOTE.trainOutput}/${name}`;
  await sh(
    node,
    `mkdir -p ${dir}/nested && head -c ${12 * MiB} /dev/urandom > ${dir}/optimizer.pt && echo '{"global_step": 1}' > ${dir}/trainer_state.json && echo rng > ${dir}/nested/rng.pth`,
  );
  return sh(node, `cd ${dir} && find . -type f | sort | xargs sha256sum`);
}

describe('artifact store', { skip }, () => {
  let moto: MotoServer;
  let s3: S3Client;
  let node: NodeEndpoint;
  let folder: string;
  const bucket = uniqueId('bucket').slice(0, 60);

  before(async () => {
    moto = await startMoto();
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const [master] = await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    assert.ok(master);
    node = { remote, target: sshTarget(master, await testProvider.sshIdentity()) };
    // install-deps puts the recipe (with the node-side mover) on the master.
    await remote.upload(
      node.target,
      `${REMOTE.recipe}/common/transfer.py`,
      await readFile(join(packageRoot(), 'recipes/common/transfer.py')),
    );
    folder = await mkdtemp(join(tmpdir(), 'tuneforge-store-'));
  });

  after(async () => {
    await testProvider.terminateNodes(cluster);
    await testProvider.cleanup(cluster);
    await rm(folder, { recursive: true, force: true });
    await moto?.stop();
  });

  const stores: Array<[string, () => ArtifactStore]> = [
    [
      's3',
      () =>
        createS3Store({
          client: s3,
          bucket,
          prefix: 'runs/demo/wf-1',
          region: 'us-east-1',
          multipartThreshold: 8 * MiB,
          partSize: 5 * MiB,
        }),
    ],
    ['folder', () => createFolderStore(join(folder, 'runs/demo/wf-1'))],
  ];

  for (const [kind, open] of stores) {
    it(`${kind}: a checkpoint goes up from the node, is complete only with its marker, and comes back byte for byte`, async () => {
      const store = open();
      await store.checkWritable();
      await sh(node, `rm -rf ${REMOTE.trainOutput}`);
      const sums = await makeCheckpoint(node, 'checkpoint-5');
      const stats = await saveCheckpoint(store, node, REMOTE.trainOutput, 'checkpoint-5');
      assert.equal(stats.files, 3);
      assert.ok(stats.bytes >= 12 * MiB);
      const keys = (await store.list('checkpoints/')).map((o) => o.key).sort();
      assert.deepEqual(keys, [
        'checkpoints/checkpoint-5/_COMPLETE.json',
        'checkpoints/checkpoint-5/nested/rng.pth',
        'checkpoints/checkpoint-5/optimizer.pt',
        'checkpoints/checkpoint-5/trainer_state.json',
      ]);
      await sh(node, `rm -rf ${REMOTE.trainOutput}`);
      const restored = await restoreNewestCheckpoint(store, node, REMOTE.trainOutput);
      assert.equal(restored?.name, 'checkpoint-5');
      assert.equal(await sh(node, `cd ${REMOTE.trainOutput}/checkpoint-5 && find . -type f | sort | xargs sha256sum`), sums);
    });

    it(`${kind}: an upload that fails midway leaves no complete checkpoint, and recovery restores the older one`, async () => {
      const store = open();
      await makeCheckpoint(node, 'checkpoint-10');
      // The mover dies on the unreadable file after sending the others.
      await sh(node, `chmod 000 ${REMOTE.trainOutput}/checkpoint-10/trainer_state.json`);
      await assert.rejects(saveCheckpoint(store, node, REMOTE.trainOutput, 'checkpoint-10'));
      assert.deepEqual(
        (await completeCheckpoints(store)).map((c) => c.name),
        ['checkpoint-5'],
      );
      const partial = (await store.list('checkpoints/checkpoint-10/')).map((o) => o.key);
      // S3 keeps whatever arrived before the failure (which files depends on the node's directory order: the
      // marker is what tells); the folder store stages and renames.
      if (kind === 's3') assert.ok(!partial.some((k) => k.endsWith('_COMPLETE.json')), partial.join());
      else assert.deepEqual(partial, []);
      await sh(node, `rm -rf ${REMOTE.trainOutput}`);
      assert.equal((await restoreNewestCheckpoint(store, node, REMOTE.trainOutput))?.name, 'checkpoint-5');
      assert.equal(await sh(node, `ls ${REMOTE.trainOutput}`), 'checkpoint-5');
    });

    it(`${kind}: pruning keeps the newest complete checkpoint and removes the rest, incomplete ones too`, async () => {
      const store = open();
      await makeCheckpoint(node, 'checkpoint-15');
      await saveCheckpoint(store, node, REMOTE.trainOutput, 'checkpoint-15');
      await store.putJson('run.json', { ok: true });
      const removed = await pruneCheckpoints(store, 1);
      assert.deepEqual(removed.sort(), kind === 's3' ? ['checkpoint-10', 'checkpoint-5'] : ['checkpoint-5']);
      const left = [...new Set((await store.list()).map((o) => o.key.split('/').slice(0, 2).join('/')))].sort();
      assert.deepEqual(left, ['checkpoints/checkpoint-15', 'run.json']);
      assert.deepEqual(await store.getJson('run.json'), { ok: true });
    });

    it(`${kind}: a text file (the model card) is stored as written and comes back, alone and with its folder`, async () => {
      const store = open();
      const card = '---\nlibrary_name: transformers\n---\n\n# demo | a card\n';
      await store.putText('model/README.md', card, 'text/markdown; charset=utf-8');
      assert.equal(await store.getText('model/README.md'), card);
      assert.equal(await store.getText('logs/master/none.log'), undefined, 'an absent file reads as undefined');
      const local = await mkdtemp(join(tmpdir(), 'model-card-'));
      try {
        await store.downloadToLocal('model', local);
        assert.equal(await readFile(join(local, 'README.md'), 'utf8'), card);
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    });
  }

  it('s3: no multipart upload is left open after a failed one (they are billed until aborted)', async () => {
    // Its own prefix and checkpoint: the case stands alone, whatever ran before it.
    const prefix = 'runs/demo/multipart-abort';
    const store = createS3Store({ client: s3, bucket, prefix, region: 'us-east-1', multipartThreshold: 8 * MiB, partSize: 5 * MiB });
    const name = 'checkpoint-99';
    await makeCheckpoint(node, name);
    const dir = `${REMOTE.trainOutput}/${name}`;
    assert.ok(Number(await sh(node, `stat -c %s ${dir}/optimizer.pt`)) > 8 * MiB, 'optimizer.pt goes as a multipart upload');
    await sh(node, `chmod 000 ${dir}/trainer_state.json`);
    try {
      await assert.rejects(saveCheckpoint(store, node, REMOTE.trainOutput, name));
      const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
      assert.deepEqual((open.Uploads ?? []).map((u) => u.Key), []);
    } finally {
      await sh(node, `rm -rf ${dir}`);
    }
  });

  it('refuses a missing bucket, a bucket in another region, and a folder it cannot write, naming artifacts.uri', async () => {
    const expectSpecInvalid = async (store: ArtifactStore, pattern: RegExp) => {
      await assert.rejects(store.checkWritable(), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.equal(err.type, FailureType.SpecInvalid);
        assert.match(err.message, /artifacts\.uri/);
        assert.match(err.message, pattern);
        return true;
      });
    };
    await expectSpecInvalid(
      createS3Store({ client: s3, bucket: 'no-such-bucket-here', prefix: 'p', region: 'us-east-1' }),
      /does not exist/,
    );
    const elsewhere = uniqueId('eu-bucket').slice(0, 60);
    const eu = new S3Client({ region: 'eu-west-1', endpoint: moto.endpoint, forcePathStyle: true });
    await eu.send(new CreateBucketCommand({ Bucket: elsewhere, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await expectSpecInvalid(createS3Store({ client: s3, bucket: elsewhere, prefix: 'p', region: 'us-east-1' }), /eu-west-1/);
    await expectSpecInvalid(createFolderStore('/etc/hostname/artifacts'), /not a folder this worker can write/);
  });

  it('a worker without permission to write the bucket is refused as AuthFailed, naming the policy', async () => {
    // moto grants everything; IAM's answer to a PutObject without s3:PutObject is a 403 AccessDenied.
    const denied = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    denied.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutObjectCommand')
          throw new S3ServiceException({
            name: 'AccessDenied',
            $fault: 'client',
            $metadata: { httpStatusCode: 403 },
            message: 'Access Denied',
          });
        return next(args);
      },
      { step: 'initialize', name: 'denyPutObject' },
    );
    await assert.rejects(
      createS3Store({ client: denied, bucket, prefix: 'p', region: 'us-east-1' }).checkWritable(),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.equal(err.type, FailureType.AuthFailed);
        assert.match(err.message, new RegExp(`s3://${bucket}/p/.*may not write a probe object.*iam-policy`));
        return true;
      },
    );
  });
});
