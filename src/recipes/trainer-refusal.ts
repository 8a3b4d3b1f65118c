// The trainers' refusal (exit 65, EX_DATAERR, with one `train_cls: ...` or `train_qa: ...` line): data or
// a model the task cannot use, e.g. a question-answering model given to classification. Named by field
// from where the line says the problem is; no retry can fix it.
import type { SpecProblem } from '../common/errors';
import { TASK_LIST } from '../run-spec/tasks';
import { REMOTE } from './remote-paths';

/**
 * sysexits' EX_DATAERR: every recipes/common script (trainers, check_data.py, fetch_hub.py) exits with it when the
 * data, the model or the repo cannot be used; no retry can fix that.
 */
export const DATA_ERROR_EXIT = 65;

/** `<trainer>: <reason>`, for every trainer in the task table (its PROGRAM, the refusal prefix). */
const REFUSAL_LINE = new RegExp(`^(?:${TASK_LIST.map((task) => task.refusalPrefix).join('|')}): (.*)$`);

export function trainerRefusal(outputTail: string): SpecProblem {
  const line = outputTail
    .split('\n')
    .map((l) => REFUSAL_LINE.exec(l.trim())?.[1])
    .filter((l): l is string => l !== undefined)
    .pop();
  const reason = line ?? `the trainer refused the data or the model (exit ${DATA_ERROR_EXIT})`;
  const path = reason.startsWith(`${REMOTE.inputs}/train.`)
    ? 'data.train'
    : reason.startsWith(`${REMOTE.inputs}/validation.`)
      ? 'data.validation'
      : 'model';
  return { path, message: reason };
}
