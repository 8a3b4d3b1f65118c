// A detached job on a node: it survives the SSH session and the worker process that started it, so a
// restarted activity re-attaches instead of starting the work twice.
import { REMOTE } from '../recipes/remote-paths';
import type { RemoteShell } from './remote-shell';
import { raw, sh, shellQuote } from './shell-quote';
import type { SshTarget } from './ssh-session';

export type JobState = { kind: 'running' } | { kind: 'exited'; exitCode: number } | { kind: 'vanished' };

export interface JobPoll {
  state: JobState;
  /** Complete log lines since the offset. */
  lines: string[];
  /** Byte offset after those lines. */
  nextOffset: number;
}

const POLL_CHUNK_BYTES = 1024 * 1024;

export function jobDir(jobId: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(jobId)) throw new Error(`invalid job id ${jobId}`);
  return `${REMOTE.jobs}/${jobId}`;
}

/**
 * Starts the job unless it is already running or finished. A job that failed or vanished is moved
 * aside and started again (resuming is the command's business). Returns what it found.
 */
export async function startOrAttach(
  remote: RemoteShell,
  target: SshTarget,
  jobId: string,
  command: string,
): Promise<'started' | 'running' | 'exited'> {
  const dir = jobDir(jobId);
  const script = [
    '#!/bin/bash',
    'cd "$HOME"',
    `( ${command} ) > ${shellQuote(`${dir}/log`)} 2>&1`,
    'code=$?',
    sh`echo $code > ${dir}/exit_code.tmp && mv ${dir}/exit_code.tmp ${dir}/exit_code`,
    '',
  ].join('\n');
  const launcher = sh`
set -e
job=${dir}
if [ -f "$job/exit_code" ] && [ "$(cat "$job/exit_code")" = 0 ]; then echo exited; exit 0; fi
if [ -f "$job/pid" ] && [ ! -f "$job/exit_code" ] && kill -0 "$(cat "$job/pid")" 2>/dev/null; then echo running; exit 0; fi
if [ -d "$job" ]; then mv "$job" "$job.old-$(date +%s%N)"; fi
mkdir -p "$job"
cat > "$job/run.sh"
setsid bash "$job/run.sh" > /dev/null 2>&1 < /dev/null &
echo $! > "$job/pid"
echo started
`;
  const result = await remote.check(target, launcher, { label: `start job ${jobId}`, stdin: script });
  const outcome = result.stdout.trim();
  if (outcome !== 'started' && outcome !== 'running' && outcome !== 'exited') {
    throw new Error(`unexpected answer from job launcher: ${outcome}`);
  }
  return outcome;
}

/**
 * The job may exit between the look for its exit status and the look for its process: a process that is
 * gone is only "vanished" if, looked at again, it also left no exit status.
 */
export async function pollJob(remote: RemoteShell, target: SshTarget, jobId: string, offset: number): Promise<JobPoll> {
  const dir = jobDir(jobId);
  const command = sh`
job=${dir}
if [ -f "$job/exit_code" ]; then echo "exited $(cat "$job/exit_code")"
elif [ -f "$job/pid" ] && kill -0 "$(cat "$job/pid")" 2>/dev/null; then echo running
elif [ -f "$job/exit_code" ]; then echo "exited $(cat "$job/exit_code")"
else echo vanished
fi
tail -c +${offset + 1} "$job/log" 2>/dev/null | head -c ${raw(String(POLL_CHUNK_BYTES))}
`;
  const result = await remote.check(target, command, { label: `poll job ${jobId}`, maxOutputBytes: 2 * POLL_CHUNK_BYTES });
  const newline = result.stdout.indexOf('\n');
  const status = result.stdout.slice(0, newline).trim().split(' ');
  const chunk = result.stdout.slice(newline + 1);
  const lastNewline = chunk.lastIndexOf('\n');
  const complete = lastNewline >= 0 ? chunk.slice(0, lastNewline + 1) : '';
  return {
    state: parseState(status),
    lines: complete.split('\n').slice(0, -1),
    nextOffset: offset + Buffer.byteLength(complete, 'utf8'),
  };
}

function parseState(status: string[]): JobState {
  if (status[0] === 'exited') return { kind: 'exited', exitCode: Number(status[1]) };
  if (status[0] === 'vanished') return { kind: 'vanished' };
  return { kind: 'running' };
}

/** Stops the job's whole process group (TERM, then KILL after a grace period). */
export async function killJob(remote: RemoteShell, target: SshTarget, jobId: string, graceSeconds = 10): Promise<void> {
  const dir = jobDir(jobId);
  const command = sh`
job=${dir}
[ -f "$job/pid" ] || exit 0
pid=$(cat "$job/pid")
kill -TERM -- "-$pid" 2>/dev/null || exit 0
for i in $(seq 1 ${graceSeconds * 10}); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -KILL -- "-$pid" 2>/dev/null || true
`;
  await remote.check(target, command, { label: `stop job ${jobId}` });
}

/** Reads the whole log of a job (bounded), e.g. to report a failure. */
export async function jobLogTail(remote: RemoteShell, target: SshTarget, jobId: string, bytes = 4000): Promise<string> {
  const result = await remote.run(target, sh`tail -c ${bytes} ${jobDir(jobId)}/log 2>/dev/null`, {
    label: `read job ${jobId} log`,
  });
  return result.stdout;
}
