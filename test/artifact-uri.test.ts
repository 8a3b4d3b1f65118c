// Artifact store URIs as a user writes them, and the run folders derived from them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { artifactChildUri, parseArtifactUri, runArtifactsUri } from '../src/artifacts/artifact-uri';
import { checkedKey } from '../src/artifacts/artifact-store';
import { validateRunSpec } from '../src/run-spec/validate';

const local = { name: 'ab', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } };
const aws = {
  ...local,
  provider: 'aws',
  aws: { region: 'us-east-1', instanceTypes: ['m7i.large'], privateKeyPath: '/k', sshCidr: '203.0.113.7/32' },
};

describe('artifact URIs', () => {
  it('parses s3 and file URIs and builds one folder per run', () => {
    assert.deepEqual(parseArtifactUri('s3://my-bucket/runs/team'), { kind: 's3', bucket: 'my-bucket', prefix: 'runs/team' });
    assert.deepEqual(parseArtifactUri('s3://my-bucket'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseArtifactUri('file:///srv/models/'), { kind: 'file', path: '/srv/models' });
    assert.equal(runArtifactsUri('s3://my-bucket/runs', 'tiny', 'tiny-2026'), 's3://my-bucket/runs/tiny/tiny-2026/');
    assert.equal(runArtifactsUri('s3://my-bucket', 'tiny', 'tiny-1'), 's3://my-bucket/tiny/tiny-1/');
    assert.equal(runArtifactsUri('file:///srv/models/', 'tiny', 'tiny-1'), 'file:///srv/models/tiny/tiny-1/');
    // A scheduled run's workflow id carries an RFC 3339 time.
    assert.equal(
      runArtifactsUri('s3://my-bucket/r', 'weekly', 'scheduled-weekly-2026-11-26T14:00:00Z'),
      's3://my-bucket/r/weekly/scheduled-weekly-2026-11-26T14:00:00Z/',
    );
    assert.equal(artifactChildUri('s3://b-1/r/', 'model/'), 's3://b-1/r/model/');
  });

  it('refuses what could escape a folder or is not a store', () => {
    for (const bad of [
      'http://example.com/x',
      's3://ab/x',
      's3://Upper-Case/x',
      's3://my-bucket/../other',
      'file://relative/path',
      'file:///srv/../etc',
      'file:///srv/./x',
      'file:///srv/a\u0000b',
      'file:///srv/new\nline',
      's3://my-bucket/a b',
      '',
    ])
      assert.throws(() => parseArtifactUri(bad), Error, JSON.stringify(bad));
    assert.throws(() => runArtifactsUri('s3://my-bucket/r', 'tiny', '../escape'));
    assert.throws(() => runArtifactsUri('s3://my-bucket/r', 'tiny', 'a/b'));
    for (const bad of ['', '/abs', 'a//b', 'a/../b', '..', 'a/\u0001'])
      assert.throws(() => checkedKey(bad), Error, JSON.stringify(bad));
  });

  it('the spec takes a URI or an object, names the field on bad input, and requires S3 for aws', () => {
    const short = validateRunSpec({ ...local, artifacts: 'file:///srv/models' });
    assert.ok(short.ok);
    assert.deepEqual(short.spec.artifacts, { uri: 'file:///srv/models', keepCheckpoints: 1 });
    const absent = validateRunSpec(local);
    assert.ok(absent.ok);
    assert.deepEqual(absent.spec.artifacts, { keepCheckpoints: 1 });
    const bad = validateRunSpec({ ...local, artifacts: { uri: 'file:///a/../b', keepCheckpoints: -1 } });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.problems.map((p) => p.path).sort(), ['artifacts.keepCheckpoints', 'artifacts.uri']);
    const shortBad = validateRunSpec({ ...local, artifacts: 's3://x/y' });
    assert.ok(!shortBad.ok);
    assert.match(shortBad.problems[0]?.message ?? '', /not an S3 bucket name/);
    const noStore = validateRunSpec(aws);
    assert.ok(!noStore.ok);
    assert.equal(noStore.problems[0]?.path, 'artifacts.uri');
    assert.match(noStore.problems[0]?.message ?? '', /aws runs need an S3 artifact store/);
    assert.ok(!validateRunSpec({ ...aws, artifacts: 'file:///srv/models' }).ok);
    assert.ok(validateRunSpec({ ...aws, artifacts: 's3://my-bucket/runs' }).ok);
  });
});
