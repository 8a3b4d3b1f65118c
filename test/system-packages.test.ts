// install-deps' system-package step on a fresh node: package names across Ubuntu releases, the wait for
// cloud-init, and apt waiting for a dpkg lock held by another process instead of failing. The step runs
// for real: the generated bash, real apt-get and dpkg, on a sandboxed package database with a file:
// repository, while a helper process holds the dpkg and apt-lists locks as unattended-upgrades does.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RECIPE_DEFINITIONS, recipeFor } from '../src/recipes/recipe';
import { installedNames, systemPackagesStep } from '../src/recipes/system-packages';
import { validateRunSpec } from '../src/run-spec/validate';

/**
 * The shipped step's own check, run by bash with stand-ins on PATH: `dpkg-query` answers for `installed`
 * alone, `apt-get` records what it was asked to install. Returns the packages apt-get was asked for.
 */
function packagesInstalledBy(wanted: string[], installed: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tuneforge-pkg-check-'));
  try {
    const names = installed.map((n) => `"${n}"`).join(' ');
    writeFileSync(
      join(dir, 'dpkg-query'),
      `#!/bin/bash\nname=\${@: -1}\nfor n in ${names}; do [ "$n" = "$name" ] && { echo 'install ok installed'; exit 0; }; done\nexit 1\n`,
    );
    writeFileSync(join(dir, 'apt-get'), `#!/bin/bash\necho "$*" >> ${dir}/apt.log\n`);
    for (const tool of ['dpkg-query', 'apt-get']) chmodSync(join(dir, tool), 0o755);
    const result = spawnSync('bash', ['-c', `set -euo pipefail\n${systemPackagesStep(wanted)}`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` },
    });
    assert.equal(result.status, 0, result.stderr);
    const log = spawnSync('cat', [join(dir, 'apt.log')], { encoding: 'utf8' }).stdout;
    const install = log.split('\n').map((line) => line.split(' ')).find((words) => words.includes('install')) ?? [];
    // After `install`: options (-y, -q, -o X=Y), then the package names.
    return install.slice(install.indexOf('install') + 1).filter((w) => !w.startsWith('-') && !w.includes('='));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('system package names (the shipped bash check)', () => {
  it('count a renamed 64-bit time_t library (Ubuntu 24.04: libtcmalloc-minimal4t64) as the package asked for', () => {
    assert.deepEqual(installedNames('libtcmalloc-minimal4'), ['libtcmalloc-minimal4', 'libtcmalloc-minimal4t64']);
    assert.deepEqual(
      packagesInstalledBy(['python3-venv', 'libtcmalloc-minimal4', 'numactl', 'openmpi-bin'], ['libtcmalloc-minimal4t64', 'numactl']),
      ['python3-venv', 'openmpi-bin'],
    );
  });

  it('still count the old library name where a release keeps it (Ubuntu 22.04, Debian 12)', () => {
    assert.deepEqual(packagesInstalledBy(['libtcmalloc-minimal4'], ['libtcmalloc-minimal4']), []);
  });

  it('give no t64 alternative to programs, nor to a name that already is t64', () => {
    assert.deepEqual(installedNames('numactl'), ['numactl']);
    assert.deepEqual(installedNames('libfoo1t64'), ['libfoo1t64']);
    assert.deepEqual(packagesInstalledBy(['numactl'], ['numactlt64']), ['numactl']);
  });
});

describe('recipes on aws', () => {
  const specFor = (provider: 'local' | 'aws', recipe: string) => {
    const aws = {
      region: 'us-east-1',
      instanceTypes: ['r7iz.metal-16xl'],
      privateKeyPath: '~/.ssh/id',
      sshCidr: '203.0.113.7/32',
    };
    const result = validateRunSpec({
      name: 'recipe-test',
      provider,
      recipe,
      training: { maxSteps: 1 },
      ...(provider === 'aws' ? { aws, artifacts: 's3://bucket/runs' } : {}),
    });
    assert.ok(result.ok, JSON.stringify(result));
    return result.spec;
  };

  it('tiny-qa on aws installs python3-venv and takes torch from the PyTorch CPU index', () => {
    const recipe = recipeFor(specFor('aws', 'tiny-qa'));
    assert.ok(recipe.systemPackages.includes('python3-venv'));
    assert.deepEqual(recipe.pipArgs, ['--extra-index-url', 'https://download.pytorch.org/whl/cpu']);
  });

  it('distilbert-squad on aws lists each of them once; local recipes stay as defined (offline nodes)', () => {
    const recipe = recipeFor(specFor('aws', 'distilbert-squad'));
    assert.equal(recipe.systemPackages.filter((p) => p === 'python3-venv').length, 1);
    assert.equal(recipe.pipArgs.filter((a) => a === '--extra-index-url').length, 1);
    assert.deepEqual(recipeFor(specFor('local', 'tiny-qa')), RECIPE_DEFINITIONS['tiny-qa']);
  });
});

const PROBE_PACKAGE = 'tuneforge-lock-probe';
const HOLD_SECONDS = 4;
const canRunApt =
  process.getuid?.() === 0 &&
  ['apt-get', 'dpkg-deb', 'dpkg-scanpackages', 'python3'].every(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0,
  );

/** A package database, apt configuration and file: repository of one empty package, all under `dir`. */
function makeAptSandbox(dir: string): NodeJS.ProcessEnv {
  for (const sub of [
    'dpkg/updates',
    'dpkg/info',
    'lists/partial',
    'cache/archives/partial',
    'state',
    'log',
    'repo',
    'pkg/DEBIAN',
    'etc/sources.list.d',
    'etc/preferences.d',
    'etc/apt.conf.d',
    'bin',
  ]) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  // Installed under the Ubuntu 24.04 name only: the step must not try to install the old one (the repository lacks it).
  writeFileSync(
    join(dir, 'dpkg/status'),
    'Package: libtcmalloc-minimal4t64\nStatus: install ok installed\nVersion: 2.15-3\nArchitecture: amd64\nMaintainer: t <t@example.com>\nDescription: tcmalloc\n\n',
  );
  writeFileSync(join(dir, 'dpkg/available'), '');
  writeFileSync(
    join(dir, 'pkg/DEBIAN/control'),
    `Package: ${PROBE_PACKAGE}\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: probe\n`,
  );
  spawnSync('dpkg-deb', ['-b', join(dir, 'pkg'), join(dir, 'repo', `${PROBE_PACKAGE}_1.0_all.deb`)], { stdio: 'ignore' });
  const packages = spawnSync('dpkg-scanpackages', ['.', '/dev/null'], { cwd: join(dir, 'repo'), encoding: 'utf8' });
  writeFileSync(join(dir, 'repo/Packages'), packages.stdout);
  writeFileSync(join(dir, 'etc/sources.list'), `deb [trusted=yes] file:${dir}/repo ./\n`);
  writeFileSync(
    join(dir, 'apt.conf'),
    [
      `Dir::State "${dir}/state";`,
      `Dir::State::Lists "${dir}/lists";`,
      `Dir::State::status "${dir}/dpkg/status";`,
      `Dir::Cache "${dir}/cache";`,
      `Dir::Etc::SourceList "${dir}/etc/sources.list";`,
      `Dir::Etc::SourceParts "${dir}/etc/sources.list.d";`,
      `Dir::Etc::Preferences "${dir}/etc/preferences";`,
      `Dir::Etc::PreferencesParts "${dir}/etc/preferences.d";`,
      `Dir::Etc::Parts "${dir}/etc/apt.conf.d";`,
      `Dir::Log "${dir}/log";`,
      `DPkg::Options { "--admindir=${dir}/dpkg"; "--force-not-root"; "--force-bad-path"; };`,
      '',
    ].join('\n'),
  );
  // cloud-init as on a first boot: `status --wait` returns when first-boot work is done.
  writeFileSync(join(dir, 'bin/cloud-init'), '#!/bin/sh\nsleep 1\necho "fake cloud-init: done" >&2\n');
  chmodSync(join(dir, 'bin/cloud-init'), 0o755);
  return {
    ...process.env,
    APT_CONFIG: join(dir, 'apt.conf'),
    DPKG_ADMINDIR: join(dir, 'dpkg'),
    PATH: `${dir}/bin:${process.env.PATH ?? ''}`,
  };
}

/** Holds apt's and dpkg's locks (fcntl, as apt takes them) for `seconds`; resolves once they are held. */
async function holdLocks(dir: string, seconds: number): Promise<ChildProcess> {
  const holder = spawn(
    'python3',
    [
      '-c',
      'import fcntl,sys,time\nfs=[open(p,"a") for p in sys.argv[2:]]\nfor f in fs: fcntl.lockf(f, fcntl.LOCK_EX)\nprint("held",flush=True)\ntime.sleep(float(sys.argv[1]))',
      String(seconds),
      join(dir, 'dpkg/lock-frontend'),
      join(dir, 'dpkg/lock'),
      join(dir, 'lists/lock'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`lock holder exited with ${String(code)}`)));
  });
  return holder;
}

function runStep(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], { env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output, seconds: (Date.now() - started) / 1000 }));
  });
}

function probeInstalled(env: NodeJS.ProcessEnv): boolean {
  return (
    spawnSync('dpkg-query', ['-W', '-f=${Status}', PROBE_PACKAGE], { env, encoding: 'utf8' }).stdout === 'install ok installed'
  );
}

describe(
  'system package step with apt locked',
  { skip: canRunApt ? false : 'needs root, apt-get, dpkg-deb, dpkg-scanpackages and python3' },
  () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'apt-sandbox-'));
      env = makeAptSandbox(dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('without a lock wait, apt fails at once while another process holds the lock (the lock is real)', async () => {
      const holder = await holdLocks(dir, HOLD_SECONDS);
      try {
        const result = await runStep(systemPackagesStep(['libtcmalloc-minimal4', PROBE_PACKAGE], { lockWaitSeconds: 0 }), env);
        assert.notEqual(result.code, 0, result.output);
        assert.match(result.output, /Could not get lock/);
        assert.equal(probeInstalled(env), false);
      } finally {
        holder.kill();
      }
    });

    it('waits for cloud-init, then for the lock, and installs only what is missing', async () => {
      const holder = await holdLocks(dir, HOLD_SECONDS);
      const result = await runStep(systemPackagesStep(['libtcmalloc-minimal4', PROBE_PACKAGE], { lockWaitSeconds: 60 }), env);
      holder.kill();
      assert.equal(result.code, 0, result.output);
      assert.ok(probeInstalled(env), result.output);
      // Installed only after the holder let go: the step waited rather than failed.
      assert.ok(result.seconds >= HOLD_SECONDS - 1, `took ${result.seconds} s, the lock was held ${HOLD_SECONDS} s`);
      const cloudInitDone = result.output.indexOf('fake cloud-init: done');
      assert.ok(cloudInitDone >= 0 && cloudInitDone < result.output.indexOf('Get:'), result.output);
      // Nothing left to install: a second run does not call apt at all.
      const again = await runStep(systemPackagesStep(['libtcmalloc-minimal4', PROBE_PACKAGE]), env);
      assert.equal(again.code, 0, again.output);
      assert.doesNotMatch(again.output, /Reading package lists/);
    });
  },
);
