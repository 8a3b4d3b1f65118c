// The streamed job log as the follower sees it: complete lines with the byte offset after them, however
// the bytes arrive in chunks, and an endless line (a progress bar redrawn with \r) handed on in pieces
// instead of held in memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobStream } from '../src/remote/job-stream';
import type { RemoteShell, RunOptions } from '../src/remote/remote-shell';
import type { SshTarget } from '../src/remote/ssh-session';

/** A shell whose one command writes these chunks to the stream's sink, then exits 0. */
function shellWriting(chunks: Buffer[]): RemoteShell {
  const run = async (_target: SshTarget, _command: string, options: RunOptions) => {
    for (const chunk of chunks) await new Promise<void>((done) => options.stdoutTo?.write(chunk, () => done()));
    return { exitCode: 0, stdout: '', stderr: '', truncated: false };
  };
  return { run, check: run, upload: async () => {}, waitReady: async () => {} };
}

async function drained(stream: JobStream): Promise<{ lines: string[]; nextOffset: number }> {
  const lines: string[] = [];
  let nextOffset = 0;
  for (;;) {
    await stream.changed();
    const taken = stream.take();
    lines.push(...taken.lines);
    nextOffset = taken.nextOffset;
    if (stream.done && taken.lines.length === 0) return { lines, nextOffset };
  }
}

const target = {} as SshTarget;

describe('job log stream', () => {
  it('joins lines split across chunks and counts the offset in bytes (multi-byte text included)', async () => {
    const text = 'first line\nsecond — line\nthird';
    const bytes = Buffer.from(text);
    const chunks = [bytes.subarray(0, 4), bytes.subarray(4, 15), bytes.subarray(15, 19), bytes.subarray(19)];
    const { lines, nextOffset } = await drained(
      new JobStream(shellWriting(chunks), target, 'j', 100, new AbortController().signal),
    );
    assert.deepEqual(lines, ['first line', 'second — line'], 'the unfinished last line is not handed on');
    assert.equal(nextOffset, 100 + Buffer.byteLength('first line\nsecond — line\n'));
  });

  it('hands an endless line on in pieces of at most 1 MiB, with offsets that add up to every byte', async () => {
    const bar = Buffer.alloc(3 * 1024 * 1024 + 10, 'x');
    const chunks = [];
    for (let at = 0; at < bar.length; at += 64 * 1024) chunks.push(bar.subarray(at, at + 64 * 1024));
    chunks.push(Buffer.from('\nTUNEFORGE {"event":"step"}\n'));
    const { lines, nextOffset } = await drained(
      new JobStream(shellWriting(chunks), target, 'j', 0, new AbortController().signal),
    );
    assert.equal(lines.at(-1), 'TUNEFORGE {"event":"step"}', 'the line after the bar arrives whole');
    const pieces = lines.slice(0, -1);
    assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
    assert.ok(
      pieces.every((p) => p.length <= 1024 * 1024 + 64 * 1024),
      'no piece held past the cap (plus one chunk)',
    );
    assert.equal(pieces.join('').length, bar.length, 'no byte of the bar lost or repeated');
    assert.equal(nextOffset, bar.length + 1 + Buffer.byteLength('TUNEFORGE {"event":"step"}\n'));
  });
});
