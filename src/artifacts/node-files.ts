// Listing the files of a folder on a node, for a transfer to plan its parts.
import { sh } from '../remote/shell-quote';
import type { NodeEndpoint } from './artifact-store';

export interface NodeFile {
  /** Relative to the listed folder. */
  path: string;
  size: number;
}

export async function listNodeFiles(node: NodeEndpoint, dir: string): Promise<NodeFile[]> {
  const result = await node.remote.check(node.target, sh`cd ${dir} && find . -type f -printf '%P\\t%s\\n'`, {
    label: `list ${dir}`,
    maxOutputBytes: 16 * 1024 * 1024,
  });
  return result.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const tab = line.lastIndexOf('\t');
      return { path: line.slice(0, tab), size: Number(line.slice(tab + 1)) };
    })
    .filter((f) => !f.path.includes('.tuneforge-') && Number.isFinite(f.size));
}
