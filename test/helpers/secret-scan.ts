// Where a secret shows: in a JSON tree (Temporal history, run.json), as text or inside any base64 string
// (payload data is base64), and in what this process writes to stdout/stderr.

const BASE64_TOKEN = /^[A-Za-z0-9+/_-]{8,}={0,2}$/;

/** JSON paths where `text` shows, as text or inside a base64 string. */
export function pathsOf(text: string, node: unknown, path = '$'): string[] {
  if (typeof node === 'string') {
    if (node.includes(text)) return [path];
    return BASE64_TOKEN.test(node) && Buffer.from(node, 'base64').toString('latin1').includes(text) ? [`${path} (base64)`] : [];
  }
  if (Array.isArray(node)) return node.flatMap((item, i) => pathsOf(text, item, `${path}[${i}]`));
  if (typeof node === 'object' && node !== null) return Object.entries(node).flatMap(([k, v]) => pathsOf(text, v, `${path}.${k}`));
  return [];
}

/** Copies what the process writes to stdout/stderr while it still goes out; the returned function stops it. */
export function captureStreams(into: string[]): () => void {
  const restores = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return Reflect.apply(original, this, [chunk, ...rest]) === true;
    } as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  return () => restores.forEach((restore) => restore());
}
