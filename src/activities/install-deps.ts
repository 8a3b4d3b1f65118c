// install-deps: the recipe's files, a virtualenv with its pinned packages and its offline assets on
// the master, as a detached job (a restarted worker re-attaches). A marker named by the recipe
// fingerprint makes a second call a no-op.
import { buildRecipeBundle } from '../recipes/recipe-bundle';
import { recipeFor, type Recipe } from '../recipes/recipe';
import { REMOTE } from '../recipes/remote-paths';
import { jobLogTail } from '../remote/remote-job';
import { sh, shellJoin } from '../remote/shell-quote';
import { remoteCommandFailed } from '../common/errors';
import { systemPackagesStep } from '../recipes/system-packages';
import { targetFor, type ActivityDeps } from './deps';
import { followJob } from './follow-job';
import { keepAlive } from './keep-alive';
import type { InstallResult, NodeRecord, RunContext } from './types';

export interface InstallInput extends RunContext {
  master: NodeRecord;
  fingerprint: string;
}

export function createInstallActivities(deps: ActivityDeps) {
  return {
    async installDeps(input: InstallInput): Promise<InstallResult> {
      const target = await targetFor(deps, input, input.master);
      const marker = REMOTE.depsMarker(input.fingerprint);
      const probe = await deps.remote.run(target, sh`test -f ${marker}`, { label: 'check installed dependencies' });
      if (probe.exitCode === 0) return { fingerprint: input.fingerprint, skipped: true };

      const recipe = recipeFor(input.spec);
      const bundle = await buildRecipeBundle(recipe);
      if (bundle.fingerprint !== input.fingerprint) {
        throw new Error(
          `recipe files changed during the run (fingerprint ${bundle.fingerprint}, expected ${input.fingerprint}); start a new run`,
        );
      }
      await keepAlive(() =>
        deps.remote.check(
          target,
          sh`rm -rf ${REMOTE.recipe}.new && mkdir -p ${REMOTE.recipe}.new && tar -xzf - -C ${REMOTE.recipe}.new && rm -rf ${REMOTE.recipe} && mv ${REMOTE.recipe}.new ${REMOTE.recipe}`,
          { label: 'upload recipe', stdin: bundle.archive },
        ),
      );
      const jobId = `install-${input.fingerprint.slice(0, 12)}`;
      const { exitCode } = await followJob(deps, target, {
        jobId,
        command: installScript(recipe, marker),
        stage: 'install-deps',
      });
      if (exitCode !== 0) {
        const outputTail = await jobLogTail(deps.remote, target, jobId);
        throw remoteCommandFailed({ node: input.master.name, label: 'install dependencies', exitCode, outputTail });
      }
      return { fingerprint: input.fingerprint, skipped: false };
    },
  };
}

export function installScript(recipe: Recipe, marker: string): string {
  const pipArgs = recipe.pipArgs.length > 0 ? ` ${shellJoin(recipe.pipArgs)}` : '';
  const assets = recipe.prepareAssets ? `HF_HUB_OFFLINE=1 ${REMOTE.python} ${shellJoin(recipe.prepareAssets)}` : 'true';
  return `set -euo pipefail
${systemPackagesStep(recipe.systemPackages)}
python=$(command -v python3.11 || command -v python3)
if [ ! -x ${REMOTE.python} ]; then "$python" -m venv ${REMOTE.venv}; fi
${REMOTE.python} -m pip install --disable-pip-version-check --progress-bar off -q${pipArgs} -r ${REMOTE.recipe}/${recipe.requirements}
${assets}
touch ${marker}
echo dependencies installed`;
}
