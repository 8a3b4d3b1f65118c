// A detached job's log streamed over one channel (`tail -F` from a byte offset) while the job's process
// lives. It hands out complete lines only, with the byte offset after them, so a follower that keeps that
// offset (in its heartbeat) and opens a new stream from it repeats no line and misses none.
import { Writable } from 'node:stream';
import type { RemoteShell } from './remote-shell';
import { jobDir } from './remote-job';
import { raw, sh } from './shell-quote';
import type { SshTarget } from './ssh-session';

/** How often `tail --pid` looks whether the job's process is still there. */
const PID_CHECK_SECONDS = '0.2';
const NEWLINE = 0x0a;
/** A log "line" longer than this (a progress bar redrawn with \r for hours) is handed on in pieces, not held. */
const MAX_LINE_BYTES = 1 << 20;

/**
 * Prints the log from `offset` as it grows and ends soon after the job's process does; ends at once when
 * the job has already ended (its last bytes and exit status are then for a poll to read). GNU tail also
 * ends as soon as its output closes: a stopped stream leaves no `tail` on the node.
 */
export function streamJobCommand(jobId: string, offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`invalid log offset ${offset}`);
  const dir = jobDir(jobId);
  return sh`
job=${dir}
[ -f "$job/exit_code" ] && exit 0
pid=$(cat "$job/pid" 2>/dev/null) || exit 0
kill -0 "$pid" 2>/dev/null || exit 0
exec tail -c +${offset + 1} -F -s ${raw(PID_CHECK_SECONDS)} --pid="$pid" "$job/log" 2>/dev/null
`;
}

export class JobStream {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lines: string[] = [];
  /** Offset after the last complete line received. */
  private offset: number;
  private readonly abort = new AbortController();
  private wakers: (() => void)[] = [];
  private ended = false;
  readonly openedAt = Date.now();

  constructor(remote: RemoteShell, target: SshTarget, jobId: string, offset: number, signal: AbortSignal) {
    this.offset = offset;
    const stop = () => this.abort.abort(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.receive(chunk);
        done();
      },
    });
    const finish = () => {
      signal.removeEventListener('abort', stop);
      this.ended = true;
      this.wake();
    };
    // However the stream ends (job over, connection lost, aborted), the follower's poll says what happened.
    remote
      .run(target, streamJobCommand(jobId, offset), {
        label: `stream job ${jobId}`,
        stdoutTo: sink,
        maxOutputBytes: 4096,
        signal: this.abort.signal,
      })
      .then(finish, finish);
  }

  get done(): boolean {
    return this.ended;
  }

  /** The complete lines received since the last take, and the log offset after them. */
  take(): { lines: string[]; nextOffset: number } {
    const lines = this.lines;
    this.lines = [];
    return { lines, nextOffset: this.offset };
  }

  /** Resolves when lines arrive or the stream ends (at once if either happened already). */
  changed(): Promise<void> {
    if (this.ended || this.lines.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  stop(): void {
    this.abort.abort();
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, start)) {
      const line = Buffer.concat([...this.pending, chunk.subarray(start, at)]);
      this.pending = [];
      this.pendingBytes = 0;
      this.lines.push(line.toString('utf8'));
      this.offset += line.length + 1;
      start = at + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
    if (this.pendingBytes > MAX_LINE_BYTES) {
      const piece = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.lines.push(piece.toString('utf8'));
      this.offset += piece.length;
    }
    if (this.lines.length > 0) this.wake();
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }
}
