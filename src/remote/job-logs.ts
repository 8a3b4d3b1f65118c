// Reads the detached jobs' logs off a node (remote-job.ts writes them: `<jobs>/<job>/log`), including those of
// jobs moved aside when they were started again (`<job>.old-<ns>`), for the store's copy of them.
import { REMOTE } from '../recipes/remote-paths';
import type { RemoteShell } from './remote-shell';
import { raw, sh } from './shell-quote';
import type { SshTarget } from './ssh-session';

/** A job's folder name as the launcher makes it (remote-job.ts), or one moved aside by a restart. */
const JOB_FOLDER = /^[a-z0-9][a-z0-9-]{0,63}(\.old-[0-9]{1,32})?$/;

/** The end of a log is what explains a failure: a longer log keeps its last this many bytes. */
export const MAX_LOG_BYTES = 4 * 1024 * 1024;

export interface JobLog {
  job: string;
  text: string;
  /** The log was longer than MAX_LOG_BYTES: its beginning is not in `text`. */
  truncated: boolean;
}

export interface JobLogEntry {
  job: string;
  /** When the log was last written, by the node's clock (ms since the epoch). */
  modifiedMs: number;
}

/** The jobs on the node that have a log, sorted by name; folders of any other name are ignored. */
export async function listJobLogs(remote: RemoteShell, target: SshTarget, signal?: AbortSignal): Promise<JobLogEntry[]> {
  const command = sh`cd ${REMOTE.jobs} 2>/dev/null || exit 0
for d in *; do [ -f "$d/log" ] && printf '%s %s\n' "$(stat -c %Y "$d/log")" "$d"; done; exit 0`;
  const result = await remote.check(target, command, { label: 'list job logs', ...(signal ? { signal } : {}) });
  return result.stdout
    .split('\n')
    .map((line) => /^(\d+) (.+)$/.exec(line))
    .flatMap((m) => (m?.[2] && JOB_FOLDER.test(m[2]) ? [{ job: m[2], modifiedMs: Number(m[1]) * 1000 }] : []))
    .sort((a, b) => a.job.localeCompare(b.job));
}

export async function readJobLog(remote: RemoteShell, target: SshTarget, job: string, signal?: AbortSignal): Promise<JobLog> {
  if (!JOB_FOLDER.test(job)) throw new Error(`not a job folder: ${JSON.stringify(job)}`);
  const file = `${REMOTE.jobs}/${job}/log`;
  // The size first, on its own line: whether the tail that follows is the whole log.
  const command = sh`wc -c < ${file} && tail -c ${raw(String(MAX_LOG_BYTES))} ${file}`;
  const result = await remote.check(target, command, {
    label: `read job ${job} log`,
    maxOutputBytes: MAX_LOG_BYTES + 64,
    ...(signal ? { signal } : {}),
  });
  const newline = result.stdout.indexOf('\n');
  const size = Number(result.stdout.slice(0, newline).trim());
  return { job, text: result.stdout.slice(newline + 1), truncated: size > MAX_LOG_BYTES };
}
