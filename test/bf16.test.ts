// bf16 truth: the probe's answer as the sanity run reads it, the lines people see, and plan's warning.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeBf16 } from '../src/activities/sanity-run';
import { knownBf16Kernels, knownTopology } from '../src/cluster/known-topologies';
import type { CpuTopology } from '../src/cluster/topology';
import { bf16Line, bf16KernelsOfFlags, parseBf16Probe, type Bf16Kernels } from '../src/common/bf16';
import { bf16Notes } from '../src/recipes/bf16-plan';
import type { RemoteShell } from '../src/remote/remote-shell';
import type { ExecResult, SshTarget } from '../src/remote/ssh-session';
import { validateRunSpec } from '../src/run-spec/validate';
import type { RunSpec } from '../src/run-spec/schema';
import { TWO_CORES } from './helpers/fake-activities';

function spec(input: Record<string, unknown>): RunSpec {
  const parsed = validateRunSpec({ name: 'bf16-test', recipe: 'tiny-qa', nodes: 2, ...input });
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.spec;
}

const aws = (instanceType: string, bf16 = true) =>
  spec({
    provider: 'aws',
    training: { bf16, maxSteps: 10 },
    artifacts: { uri: 's3://bucket/runs' },
    aws: {
      region: 'us-east-1',
      instanceTypes: [instanceType],
      privateKeyPath: '/k',
      sshCidr: '203.0.113.7/32',
      requireAmx: false,
    },
  });

/** A remote shell whose every command answers `result` (or throws it), recording the commands. */
function fakeShell(result: Partial<ExecResult> | Error): { shell: RemoteShell; commands: string[] } {
  const commands: string[] = [];
  const run = async (_target: SshTarget, command: string): Promise<ExecResult> => {
    commands.push(command);
    if (result instanceof Error) throw result;
    return { exitCode: 0, stdout: '', stderr: '', truncated: false, ...result };
  };
  return { shell: { run, check: run, upload: async () => {}, waitReady: async () => {} }, commands };
}
const TARGET = { host: '127.0.0.1', port: 22, username: 'ubuntu' } as unknown as SshTarget;

describe('the bf16 probe as the sanity run reads it', () => {
  it('takes the kernels from the json line and runs the probe in the node venv', async () => {
    const { shell, commands } = fakeShell({ stdout: 'noise\n{"bf16_kernels": "amx", "isa": "avx512_core_amx"}\n' });
    assert.equal(await probeBf16(shell, TARGET), 'amx');
    assert.deepEqual(commands, ['tuneforge/venv/bin/python tuneforge/recipe/common/bf16_probe.py']);
  });

  it('a failed probe, an unreachable node or an answer it cannot read is unknown, never a failed run', async () => {
    assert.equal(await probeBf16(fakeShell({ exitCode: 1, stdout: '' }).shell, TARGET), 'unknown');
    assert.equal(await probeBf16(fakeShell(new Error('connection reset')).shell, TARGET), 'unknown');
    assert.equal(parseBf16Probe('{"bf16_kernels": "fast"}'), 'unknown');
    assert.equal(parseBf16Probe('Traceback ...'), 'unknown');
    assert.equal(parseBf16Probe('{"bf16_kernels": "avx512_bf16", "isa": "avx512_core_bf16"}'), 'avx512_bf16');
    assert.equal(parseBf16Probe('{"bf16_kernels": "none", "isa": null}'), 'none');
  });
});

describe('what the summary and status say', () => {
  const line = (requested: boolean, kernels: Bf16Kernels) => bf16Line({ requested, kernels });

  it('names the kernels bf16 ran on, and warns when bf16 was asked for and only emulated', () => {
    assert.equal(line(true, 'amx'), 'bf16: AMX');
    assert.equal(line(true, 'avx512_bf16'), 'bf16: AVX-512 BF16');
    assert.match(line(true, 'none'), /^warning: bf16 emulated: slow \(neither AMX nor AVX-512 BF16/);
    assert.match(line(true, 'unknown'), /^bf16: kernels unknown/);
  });

  it('without bf16 it says what the CPU would offer, and never warns', () => {
    assert.equal(line(false, 'amx'), 'bf16: off (AMX available)');
    assert.equal(line(false, 'avx512_bf16'), 'bf16: off (AVX-512 BF16 available)');
    assert.equal(line(false, 'none'), 'bf16: off (the CPU has neither AMX nor AVX-512 BF16)');
    assert.equal(line(false, 'unknown'), 'bf16: off');
  });

  it('reads CPU flags as the probe would answer on them', () => {
    assert.equal(bf16KernelsOfFlags(['avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile']), 'amx');
    assert.equal(bf16KernelsOfFlags(['avx512f', 'avx512_bf16']), 'avx512_bf16');
    assert.equal(bf16KernelsOfFlags(['avx512f', 'avx2']), 'none');
  });
});

describe('tuneforge plan and training.bf16', () => {
  const warning = (notes: string[]) => notes.filter((n) => n.startsWith('warning: training.bf16'));

  it('warns when the instance family has neither AMX nor AVX-512 BF16', () => {
    const notes = bf16Notes(aws('m6i.32xlarge'), 'm6i.32xlarge', null);
    assert.equal(warning(notes).length, 1);
    assert.match(notes[0] ?? '', /m6i\.32xlarge has neither AMX nor AVX-512 BF16: bf16 would be emulated/);
    assert.equal(warning(bf16Notes(aws('c6a.48xlarge'), 'c6a.48xlarge', null)).length, 1);
  });

  it('names AMX or AVX-512 BF16 for the families that have them, and warns about neither', () => {
    const r7iz = bf16Notes(aws('r7iz.metal-16xl'), 'r7iz.metal-16xl', knownTopology('r7iz.metal-16xl') ?? null);
    assert.deepEqual(r7iz, ['training.bf16 runs on AMX (r7iz.metal-16xl); the sanity run confirms the kernels']);
    assert.match(bf16Notes(aws('m7i.48xlarge'), 'm7i.48xlarge', null)[0] ?? '', /runs on AMX/);
    assert.match(bf16Notes(aws('c7a.16xlarge'), 'c7a.16xlarge', null)[0] ?? '', /runs on AVX-512 BF16/);
  });

  it('an unknown instance type gets a note that the sanity run checks it', () => {
    assert.deepEqual(bf16Notes(aws('x9z.huge'), 'x9z.huge', null), [
      'training.bf16: tuneforge does not know whether x9z.huge has AMX or AVX-512 BF16; the sanity run checks which kernels bf16 really uses',
    ]);
    assert.equal(knownBf16Kernels('x9z.huge'), undefined);
  });

  it("local: this machine's lscpu flags decide", () => {
    const local = spec({ provider: 'local', training: { bf16: true, maxSteps: 10 } });
    const plain: CpuTopology = { ...TWO_CORES, amx: false, avx512Bf16: false };
    assert.equal(warning(bf16Notes(local, 'local', plain)).length, 1);
    assert.match(
      bf16Notes(local, 'local', { ...plain, avx512Bf16: true })[0] ?? '',
      /^training.bf16 runs on AVX-512 BF16 \(this machine/,
    );
    assert.match(bf16Notes(local, 'local', { ...plain, amx: true, avx512Bf16: true })[0] ?? '', /runs on AMX/);
  });

  it('says nothing when the spec does not ask for bf16', () => {
    assert.deepEqual(bf16Notes(aws('m6i.32xlarge', false), 'm6i.32xlarge', null), []);
  });
});
