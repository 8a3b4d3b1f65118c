// `tuneforge setup-namespace`: the operator step that registers tuneforge's search attributes on the namespace,
// so that workers (and the CLI's `list` filters) need no operator rights.
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { registerSearchAttributes } from '../../worker/search-attributes';
import { withClient, type ClientSettings } from '../connection';

export interface NamespaceSetup {
  namespace: string;
  /** Registered by this call. */
  added: string[];
  /** There already. */
  present: string[];
}

export async function setupNamespace(client: Client, namespace: string): Promise<NamespaceSetup> {
  const added = await registerSearchAttributes(client.connection, namespace);
  const present = Object.values(SEARCH_ATTRIBUTES)
    .map((key) => key.name)
    .filter((name) => !added.includes(name));
  return { namespace, added, present };
}

export function formatNamespaceSetup(setup: NamespaceSetup): string {
  if (setup.added.length === 0)
    return `Namespace ${setup.namespace} has all ${setup.present.length} tuneforge search attributes; nothing to do`;
  return `Registered ${setup.added.length} search attribute(s) on namespace ${setup.namespace}: ${setup.added.join(', ')}`;
}

/** The verb, declared here so that main.ts carries one line for it. */
export function addSetupNamespaceCommand(program: Command, settings: ClientSettings): void {
  program
    .command('setup-namespace')
    .description("operator step: register tuneforge's search attributes on the namespace (workers only check them)")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(settings, async (client) => {
        const setup = await setupNamespace(client, settings.namespace);
        console.log(opts.json ? JSON.stringify(setup) : formatNamespaceSetup(setup));
      });
    });
}
