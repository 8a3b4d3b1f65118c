// The worker's workflow code, bundled by a child process: bundling in the worker itself (workflowsPath)
// loads webpack there, and the ~150 MB it touches stays in the worker's RSS for its whole life.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WorkflowCode {
  code: string;
}

/** The bundled workflow code, as `workflowBundle: { code }` takes it. */
export async function bundleInChildProcess(): Promise<WorkflowCode> {
  const dir = await mkdtemp(join(tmpdir(), 'tuneforge-workflows-'));
  const out = join(dir, 'workflows.js');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [require.resolve('./bundle-workflows-main'), out], {
        stdio: ['ignore', 'inherit', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`bundling the workflow code failed (${code}): ${stderr.trim()}`)),
      );
    });
    return { code: await readFile(out, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
