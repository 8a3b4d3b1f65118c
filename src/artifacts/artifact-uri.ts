// Artifact store addresses: `s3://bucket/prefix` or `file:///absolute/folder`. Pure: the spec schema and
// the workflow use it too, so it must not touch Node APIs.
export type ArtifactLocation = { kind: 's3'; bucket: string; prefix: string } | { kind: 'file'; path: string };

/** S3's bucket naming rules (general purpose buckets), without the dotted forms that break TLS. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** Key segments and folder names: printable, no control characters, no `.`/`..` segments. */
const SEGMENT_PATTERN = /^[A-Za-z0-9._~@+=,:-]+$/;

export function parseArtifactUri(uri: string): ArtifactLocation {
  const s3 = /^s3:\/\/([^/]*)\/?(.*)$/.exec(uri);
  if (s3) {
    const [, bucket = '', rest = ''] = s3;
    if (!BUCKET_PATTERN.test(bucket))
      throw new Error(`"${bucket}" is not an S3 bucket name (3-63 lowercase letters, digits and dashes)`);
    return { kind: 's3', bucket, prefix: checkedSegments(rest).join('/') };
  }
  const file = /^file:\/\/(\/.*)$/.exec(uri);
  if (file?.[1]) return { kind: 'file', path: `/${checkedSegments(file[1]).join('/')}` };
  throw new Error('must be s3://bucket/prefix or file:///absolute/folder');
}

function checkedSegments(path: string): string[] {
  const segments = path.split('/').filter((s) => s.length > 0);
  for (const segment of segments) {
    if (!SEGMENT_PATTERN.test(segment) || /^\.+$/.test(segment))
      throw new Error(`path segment "${segment}" is not allowed (letters, digits and ._~@+=,:- only; no . or ..)`);
  }
  return segments;
}

export function formatArtifactUri(location: ArtifactLocation): string {
  return location.kind === 's3'
    ? `s3://${location.bucket}/${location.prefix}${location.prefix ? '/' : ''}`
    : `file://${location.path}${location.path.endsWith('/') ? '' : '/'}`;
}

/** `<base>/<run name>/<workflow id>/`: one folder per run. */
export function runArtifactsUri(base: string, runName: string, workflowId: string): string {
  const location = parseArtifactUri(base);
  const folder = [runName, workflowId].map((s) => {
    if (s.includes('/')) throw new Error(`"${s}" must be one path segment`);
    return checkedSegments(s).join('/');
  });
  const joined =
    location.kind === 's3'
      ? { ...location, prefix: [location.prefix, ...folder].filter((s) => s).join('/') }
      : { ...location, path: [location.path.replace(/\/$/, ''), ...folder].join('/') };
  return formatArtifactUri(joined);
}

/** The URI of something inside a run's folder (`model/`, `run.json`). */
export function artifactChildUri(runUri: string, child: string): string {
  return `${runUri.endsWith('/') ? runUri : `${runUri}/`}${child}`;
}

/** `<base>/<run name>/`: the folder every run of a name shares, where its current pointer lives. */
export function nameArtifactsUri(base: string, runName: string): string {
  if (runName.includes('/')) throw new Error(`"${runName}" must be one path segment`);
  const location = parseArtifactUri(base);
  const name = checkedSegments(runName).join('/');
  return formatArtifactUri(
    location.kind === 's3'
      ? { ...location, prefix: [location.prefix, name].filter((s) => s).join('/') }
      : { ...location, path: [location.path.replace(/\/$/, ''), name].join('/') },
  );
}

/** The folder that holds this one: a run's folder gives its name's folder. */
export function parentArtifactsUri(uri: string): string {
  const location = parseArtifactUri(uri);
  const up = (segments: string) =>
    segments
      .split('/')
      .filter((s) => s)
      .slice(0, -1)
      .join('/');
  if (location.kind === 's3') return formatArtifactUri({ ...location, prefix: up(location.prefix) });
  return formatArtifactUri({ ...location, path: `/${up(location.path)}` });
}
