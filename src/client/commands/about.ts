// Commands about tuneforge itself rather than a run: its version, the spec's JSON Schema, shell completion.
import { Argument, type Command } from 'commander';
import { specJsonSchemaText } from '../../run-spec/json-schema';
import { completionScript, SHELLS, type Shell } from '../completion';
import { formatVersion, versionInfo } from '../version';

export function addAboutCommands(program: Command): void {
  const print = (line: string) => console.log(line);
  program
    .command('schema')
    .description("print the run spec's JSON Schema (generated from the validator; docs/spec.schema.json holds a copy)")
    .option('--json', 'print JSON (it always does: accepted as on every command)')
    .action(() => {
      process.stdout.write(specJsonSchemaText());
    });

  program
    .command('completion')
    .description('print a shell completion script (bash: source <(tuneforge completion bash))')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .option('--json', 'print JSON: the shell and its script')
    .action((shell: Shell, opts: { json?: boolean }) => {
      const script = completionScript(program, shell);
      if (opts.json) return print(JSON.stringify({ shell, script }));
      process.stdout.write(script);
    });

  program
    .command('version')
    .description('print the version and build details (the same as --version)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const info = versionInfo();
      print(opts.json ? JSON.stringify(info) : formatVersion(info));
    });
}
