// Turns a plain value parser into a commander option parser whose errors exit with the invalid-input code (2).
import { InvalidArgumentError } from 'commander';
import { EXIT } from '../exit-codes';

export function optionParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      // Commander prints "error: option '...' argument '...' is invalid. <message>" and exits with exitCode.
      const invalid = new InvalidArgumentError(err instanceof Error ? err.message : String(err));
      invalid.exitCode = EXIT.invalidInput;
      throw invalid;
    }
  };
}
