// What differs per provider comes from the provider's capabilities (src/providers/<name>/capabilities.ts):
// every provider declares each of them, the spec's providers and the capabilities' agree, and no file of
// src/ outside src/providers/ tests a provider's name. One exception: src/run-spec/schema.ts, whose zod
// discriminated union on `provider` and its aws-only refinements (zones in the region, an S3 store) are the
// spec's shape itself, narrowed by the union's tag, not provider behaviour read elsewhere.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/common/package-root';
import {
  capabilitiesOf,
  findProviderTraits,
  PROVIDER_CAPABILITIES,
  providerTraits,
  routeByProvider,
  type ProviderCapabilities,
} from '../src/providers/capabilities';
import { PYTORCH_CPU_INDEX } from '../src/recipes/recipe-shape';
import { RECIPE_DEFINITIONS } from '../src/recipes/recipe';
import { loadRunSpec } from '../src/run-spec/load';
import { runSpecSchema, type RunSpec } from '../src/run-spec/schema';

const SRC = join(packageRoot(), 'src');
/** The spec's union itself (see the header): the only place outside src/providers/ that may branch on the name. */
const EXEMPT = new Set(['run-spec/schema.ts']);

/** One spec of each provider, from the examples users start from. */
async function exampleSpecs(): Promise<RunSpec[]> {
  return Promise.all(
    ['examples/local-tiny.yaml', 'examples/distilbert-squad.yaml'].map((file) => loadRunSpec(join(packageRoot(), file))),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const NAME = `['"\`](?:aws|local)['"\`]`;
/** A provider name compared (either side), switch-cased, or a switch on a provider or its name. */
const NAME_TESTS = [
  new RegExp(`[!=]==?\\s*${NAME}`),
  new RegExp(`${NAME}\\s*[!=]==?`),
  new RegExp(`\\bcase\\s+${NAME}\\s*:`),
  /\bswitch\s*\(\s*[\w.?]*\bprovider(?:\.name)?\s*\)/,
];

/** Code without its comments, so that a comment may still say what a provider does. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The lines of a file that test a provider's name, as `file:line: text`. */
export function nameTests(file: string, text: string): string[] {
  return withoutComments(text)
    .split('\n')
    .flatMap((line, i) => (NAME_TESTS.some((re) => re.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

function srcNameTests(filter: (file: string) => boolean): string[] {
  return sourceFiles(SRC)
    .map((path) => relative(SRC, path))
    .filter(filter)
    .flatMap((file) => nameTests(file, readFileSync(join(SRC, file), 'utf8')));
}

describe('provider capabilities', () => {
  it('the spec names exactly the providers that declare capabilities, each under its own name', () => {
    const specProviders = runSpecSchema.def.options.map((option) => option.shape.provider.value).sort();
    assert.deepEqual(Object.keys(PROVIDER_CAPABILITIES).sort(), specProviders);
    for (const [name, caps] of Object.entries(PROVIDER_CAPABILITIES)) assert.equal(caps.name, name);
  });

  it('every provider defines every capability, and each reads its own spec', async () => {
    const specs = await exampleSpecs();
    assert.deepEqual(specs.map((s) => s.provider).sort(), Object.keys(PROVIDER_CAPABILITIES).sort());
    for (const spec of specs) {
      const caps = PROVIDER_CAPABILITIES[spec.provider] as ProviderCapabilities;
      for (const [field, value] of Object.entries(caps)) assert.notEqual(value, undefined, `${spec.provider}.${field}`);
      for (const [field, value] of Object.entries(capabilitiesOf(spec)))
        assert.notEqual(value, undefined, `${spec.provider}: ${field} of its spec`);
      const run = capabilitiesOf(spec);
      assert.ok(run.instanceTypes.length > 0, `${spec.provider} names the node types it launches`);
      assert.ok(run.watch.missesToLose >= 1 && run.watch.probeTimeoutMs > 0 && run.watch.everyMs > 0);
      assert.ok(run.description.startsWith(spec.provider), run.description);
      assert.ok(run.baseRecipe.folders.includes('common') && run.baseRecipe.name === 'base');
      assert.deepEqual(providerTraits(spec.provider).watch, run.watch);
    }
  });

  it('each provider says what differs: preflight, shared CPUs, AMX, store region, market, prices', async () => {
    const [local, aws] = await exampleSpecs();
    assert.ok(local?.provider === 'local' && aws?.provider === 'aws');
    const l = capabilitiesOf(local);
    const a = capabilitiesOf(aws);
    assert.deepEqual([l.hasPreflight, l.nodesShareCpus, l.checksAmx, l.storeRegion, l.mpiInterface], [false, true, false, null, 'lo']);
    assert.deepEqual([a.hasPreflight, a.nodesShareCpus, a.storeRegion, a.mpiInterface], [true, false, aws.aws.region, null]);
    assert.equal(a.checksAmx, aws.aws.requireAmx);
    assert.equal(capabilitiesOf({ ...aws, aws: { ...aws.aws, requireAmx: false } }).checksAmx, false);
    assert.equal(capabilitiesOf({ ...aws, aws: { ...aws.aws, market: 'spot-then-on-demand' } }).plannedMarket, 'spot');
    assert.equal(capabilitiesOf({ ...aws, aws: { ...aws.aws, market: 'on-demand' } }).plannedMarket, 'on-demand');
    assert.deepEqual(capabilitiesOf({ ...local, local: { pricePerHourUsd: 1.5 } }).pricePerHourUsd, { local: 1.5 });
    assert.deepEqual(a.instanceTypes, aws.aws.instanceTypes);
    assert.ok(a.watch.probeTimeoutMs > l.watch.probeTimeoutMs, 'a probe over the internet waits longer than one over loopback');
  });

  it("adapts a preset's recipe to the provider's nodes once, never twice", () => {
    const tiny = RECIPE_DEFINITIONS['tiny-qa'];
    assert.equal(PROVIDER_CAPABILITIES.local.adaptRecipe(tiny), tiny);
    const onEc2 = PROVIDER_CAPABILITIES.aws.adaptRecipe(tiny);
    assert.equal(onEc2.systemPackages[0], 'python3-venv');
    assert.deepEqual(onEc2.pipArgs, ['--extra-index-url', PYTORCH_CPU_INDEX]);
    assert.deepEqual(PROVIDER_CAPABILITIES.aws.adaptRecipe(onEc2), onEc2);
    assert.deepEqual(tiny.pipArgs, [], "the preset's own definition is left as it was");
  });

  it("routes by the spec's provider, each route given that provider's spec", async () => {
    const specs = await exampleSpecs();
    const routed = specs.map((spec) =>
      routeByProvider(spec, { local: (s) => `local ${s.local.pricePerHourUsd}`, aws: (s) => `aws ${s.aws.region}` }),
    );
    assert.deepEqual(
      routed,
      specs.map((s) => (s.provider === 'aws' ? `aws ${s.aws.region}` : `local ${s.local.pricePerHourUsd}`)),
    );
  });

  it('finds the traits of a name from an older record, and none for a name it does not know', () => {
    assert.equal(findProviderTraits('local')?.nodesShareCpus, true);
    assert.equal(findProviderTraits('gcp'), undefined);
    assert.equal(findProviderTraits('constructor'), undefined);
  });
});

describe('provider names outside src/providers/', () => {
  it('the check finds every form of a name test, and not a name used as a key or a value', () => {
    const flagged = [
      "if (spec.provider === 'aws') {",
      "const x = 'local' !== provider;",
      'return p.provider == "aws" ? 1 : 2;',
      "    case 'local':",
      'switch (spec.provider) {',
      'switch (provider.name) {',
    ];
    for (const line of flagged) assert.equal(nameTests('x.ts', line).length, 1, line);
    const allowed = [
      "provider: 'aws',",
      "routeByProvider(spec, { local: () => a, aws: (s) => b(s.aws.region) })",
      "// before this, spec.provider === 'aws' was tested here",
      "/* a provider === 'local' check */ const y = 1;",
      "const url = 'https://x.test/local'; const z = kind === 'lo';",
    ];
    for (const line of allowed) assert.deepEqual(nameTests('x.ts', line), [], line);
  });

  it('the check reads real files: it finds the name tests the providers keep to themselves', () => {
    const inside = srcNameTests((file) => file.startsWith('providers/'));
    assert.ok(inside.some((hit) => hit.startsWith('providers/aws/preflight-report.ts:')), inside.join('\n'));
    assert.ok(srcNameTests((file) => EXEMPT.has(file)).length > 0, 'the exemption covers a file that needs it');
  });

  it('no file of src/ outside src/providers/ (and the spec union) tests a provider name', () => {
    const files = sourceFiles(SRC);
    assert.ok(files.length > 100, `walked ${files.length} files`);
    const outside = srcNameTests((file) => !file.startsWith('providers/') && !EXEMPT.has(file));
    assert.deepEqual(outside, [], `read the provider's capabilities (src/providers/capabilities.ts) instead:\n${outside.join('\n')}`);
  });
});
