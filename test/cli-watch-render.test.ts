// The watch renderers as pure functions: colour policy, bars, width fitting, ETA, block and line text, NDJSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { colorEnabled, isLiveTerminal, palette } from '../src/client/render/colors';
import { watchRenderer } from '../src/client/render';
import { JsonRenderer } from '../src/client/render/json-renderer';
import { plainLine, PlainRenderer } from '../src/client/render/plain-renderer';
import { StepRate } from '../src/client/render/rate';
import { StepLogRenderer } from '../src/client/render/step-log-renderer';
import { bar, fitWidth, formatDuration, visibleLength } from '../src/client/render/text';
import { ttyBlock } from '../src/client/render/tty-block';
import { TtyRenderer } from '../src/client/render/tty-renderer';
import type { WatchUpdate } from '../src/client/render/update';
import { STEP_NAMES } from '../src/common/names';
import type { RunProgress } from '../src/workflows/definitions';

const SGR = /\u001b\[[0-9;]*m/;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function progress(overrides: Partial<RunProgress> = {}): RunProgress {
  return {
    runName: 'r',
    provider: 'local',
    recipe: 'tiny-qa',
    stage: 'distributed-train',
    steps: STEP_NAMES.map((name, i) => ({
      name,
      status: i < 6 ? 'done' : i === 6 ? 'running' : 'pending',
      ...(i === 6 ? { startedAt: new Date(T0).toISOString() } : { seconds: 1 }),
    })),
    nodes: [
      { name: 'master', role: 'master', address: 'a', state: 'running' },
      { name: 'worker-1', role: 'worker', address: 'b', state: 'pending' },
    ],
    training: { stage: 'distributed-train', step: 20, maxSteps: 40, loss: 1.5, lastCheckpoint: null },
    recoveries: [],
    ...overrides,
  };
}

function update(overrides: Partial<WatchUpdate> = {}): WatchUpdate {
  return {
    workflowId: 'run-1',
    status: 'RUNNING',
    progress: progress(),
    answered: true,
    answeredAt: new Date(T0).toISOString(),
    rate: { stepsPerSecond: 2, etaSeconds: 10 },
    ...overrides,
  };
}

class Capture {
  text = '';
  constructor(
    readonly isTTY?: boolean,
    readonly columns?: number,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('colour policy', () => {
  it('colours only a terminal, and never with NO_COLOR (any non-empty value) or TERM=dumb', () => {
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'xterm' }), true);
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'xterm', NO_COLOR: '1' }), false);
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'xterm', NO_COLOR: '' }), true);
    assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1', CI: 'true' }), false);
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
    assert.equal(isLiveTerminal({ isTTY: true }, { TERM: 'dumb' }), false);
  });

  it('a disabled palette leaves text as is', () => {
    assert.equal(palette(false).red('x'), 'x');
    assert.match(palette(true).red('x'), SGR);
  });
});

describe('text pieces', () => {
  it('bars fill in proportion and clamp', () => {
    assert.equal(bar(0, 8, 8), '░'.repeat(8));
    assert.equal(bar(4, 8, 8), '████░░░░');
    assert.equal(bar(99, 8, 8), '█'.repeat(8));
    assert.equal(bar(1, 0, 4), '░░░░');
  });

  it('durations', () => {
    assert.deepEqual([0, 42, 61, 3725].map(formatDuration), ['0:00', '0:42', '1:01', '1:02:05']);
  });

  it('fitWidth cuts visible characters only and closes an open colour', () => {
    const p = palette(true);
    const line = `${p.green('abcdef')}ghij`;
    const cut = fitWidth(line, 5);
    assert.equal(visibleLength(cut), 5);
    assert.equal(stripVTControlCharacters(cut), 'abcd…');
    assert.ok(cut.endsWith('\u001b[0m'));
    assert.equal(fitWidth('short', 80), 'short');
  });
});

describe('step rate and ETA', () => {
  const at = (step: number) => ({ stage: 'distributed-train', step, maxSteps: 100, loss: null, lastCheckpoint: null });

  it('needs two different steps, then measures between step changes and counts down', () => {
    const rate = new StepRate();
    rate.observe(at(10), T0);
    assert.equal(rate.estimate(at(10), T0), undefined);
    rate.observe(at(30), T0 + 10_000);
    rate.observe(at(30), T0 + 12_000); // no change: the rate is not diluted
    const estimate = rate.estimate(at(30), T0 + 12_000);
    assert.equal(estimate?.stepsPerSecond, 2);
    assert.equal(estimate?.etaSeconds, 33); // 70 steps at 2/s, 2 s already gone
  });

  it('starts over on a new stage or a resume from an earlier step', () => {
    const rate = new StepRate();
    rate.observe(at(10), T0);
    rate.observe(at(30), T0 + 10_000);
    rate.observe(at(20), T0 + 11_000);
    assert.equal(rate.estimate(at(20), T0 + 11_000), undefined);
    rate.observe({ ...at(25), stage: 'sanity-run' }, T0 + 12_000);
    assert.equal(rate.estimate({ ...at(25), stage: 'sanity-run' }, T0 + 12_000), undefined);
  });
});

describe('the terminal block', () => {
  it('shows status, steps bar with the current step, training with loss and ETA, and nodes', () => {
    const lines = ttyBlock(update(), palette(false), T0 + 5000).join('\n');
    assert.match(lines, /run-1\s+RUNNING\s+stage distributed-train/);
    assert.match(lines, /Steps\s+█+░+ 6\/8\s+distributed-train 0:05/);
    assert.match(lines, /Training\s+█{12}░{12} 20\/40\s+loss 1\.5000\s+ETA 0:10\s+2\.00 steps\/s/);
    assert.match(lines, /Nodes\s+master:running\s+worker-1:pending/);
    assert.doesNotMatch(lines, SGR);
  });

  it('colours states when colours are on', () => {
    assert.match(ttyBlock(update(), palette(true), T0).join('\n'), SGR);
  });

  it('says when it shows the last known state, and when the run never answered', () => {
    assert.match(
      ttyBlock(update({ answered: false }), palette(false), T0).join('\n'),
      /no answer from the run.*last known state/,
    );
    const never = ttyBlock(update({ answered: false, progress: null, answeredAt: null }), palette(false), T0);
    assert.equal(never.length, 2);
    assert.match(never[1] ?? '', /waiting for the run to answer/);
  });

  it('the renderer erases what it drew before and never writes a line wider than the terminal', () => {
    const out = new Capture(true, 40);
    const renderer = new TtyRenderer(out, palette(true), () => T0);
    renderer.update(update());
    assert.doesNotMatch(out.text, /\u001b\[\d+A/);
    renderer.update(update());
    assert.match(out.text, /\r\u001b\[4A\u001b\[J/);
    for (const line of out.text.split('\n')) assert.ok(visibleLength(line.replace(/\r/g, '')) <= 40, line);
  });
});

describe('plain lines and NDJSON', () => {
  it('one plain line per change, none for a poll that changed nothing', () => {
    const out = new Capture(false);
    const renderer = new PlainRenderer(out, () => T0);
    renderer.update(update());
    renderer.update(update({ rate: { stepsPerSecond: 3, etaSeconds: 5 } }));
    renderer.update(update({ answered: false }));
    const lines = out.text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /no answer/);
    assert.doesNotMatch(out.text, /[\u001b\r]/);
  });

  it('a plain line names the stage, steps, training, nodes and error', () => {
    const line = plainLine(update({ progress: progress({ error: 'boom\nmore' }) }), new Date(T0));
    assert.equal(
      line,
      '[00:00:00]  RUNNING  stage distributed-train  steps 6/8 distributed-train  distributed-train 20/40 loss 1.5000 eta 0:10  nodes master:running,worker-1:pending  error: boom',
    );
  });

  it('NDJSON: a progress object per change, then the end record', () => {
    const out = new Capture(false);
    const renderer = new JsonRenderer(out, () => T0);
    renderer.update(update());
    renderer.update(update());
    renderer.end({ workflowId: 'run-1', status: 'FAILED', failure: { type: 'TrainingFailed', message: 'x' } }, update());
    const events = out.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; status: string });
    assert.deepEqual(
      events.map((e) => [e.type, e.status]),
      [
        ['progress', 'RUNNING'],
        ['progress', 'FAILED'],
        ['failure', 'FAILED'],
      ],
    );
  });

  it('picks NDJSON for --json, the block for a terminal, plain lines otherwise', () => {
    assert.ok(watchRenderer({ json: true, out: new Capture(true), env: {} }) instanceof JsonRenderer);
    assert.ok(watchRenderer({ json: false, out: new Capture(true), env: { TERM: 'xterm' } }) instanceof TtyRenderer);
    assert.ok(watchRenderer({ json: false, out: new Capture(true), env: { TERM: 'dumb' } }) instanceof PlainRenderer);
    assert.ok(watchRenderer({ json: false, out: new Capture(false), env: {} }) instanceof PlainRenderer);
  });
});

describe('the start --follow step log', () => {
  const steps = (running: number) =>
    STEP_NAMES.map((name, i) => ({
      name,
      status: i < running ? ('done' as const) : i === running ? ('running' as const) : ('pending' as const),
      ...(i < running ? { seconds: 1.5 } : {}),
    }));

  it('one line per step start and end and per training report, nothing for a poll that changed nothing', () => {
    const out = new Capture(false);
    const renderer = new StepLogRenderer(out, { now: () => T0 });
    renderer.update(update({ progress: progress({ steps: steps(0), training: null }) }));
    renderer.update(update({ progress: progress({ steps: steps(0), training: null }) }));
    renderer.update(update({ progress: progress({ steps: steps(1) }) }));
    assert.deepEqual(out.text.trimEnd().split('\n'), [
      `[00:00:00] ${STEP_NAMES[0]} started`,
      '    distributed-train: step 20/40, loss 1.5000',
      `[00:00:00] ${STEP_NAMES[0]} done in 1.5 s`,
      `[00:00:00] ${STEP_NAMES[1]} started`,
    ]);
  });

  it('a failed run: the failed step with its note and how to log in to a kept cluster, no summary', () => {
    const out = new Capture(false);
    const renderer = new StepLogRenderer(out, { now: () => T0 });
    const failed = STEP_NAMES.map((name, i) => ({
      name,
      status: i === 0 ? ('failed' as const) : ('pending' as const),
      ...(i === 0 ? { seconds: 2, note: 'TrainingFailed: boom' } : {}),
    }));
    const last = update({ status: 'FAILED', progress: progress({ steps: failed, keptAccess: ['ssh -p 22 ubuntu@10.0.0.1'] }) });
    renderer.end({ workflowId: 'run-1', status: 'FAILED', failure: { type: 'TrainingFailed', message: 'boom' } }, last);
    assert.match(out.text, new RegExp(`${STEP_NAMES[0]} FAILED after 2\\.0 s: TrainingFailed: boom`));
    assert.match(out.text, /kept for debugging.*\n  ssh -p 22 ubuntu@10\.0\.0\.1\n$/);
  });
});
