// Runs a local program without a shell and returns its stdout; a failure carries stderr.
import { execFile } from 'node:child_process';

export function execLocal(file: string, args: string[], options: { input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
        return;
      }
      resolve(stdout);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
