// The trainers' refusal (exit 65, EX_DATAERR, with one `train_cls: ...` or `train_qa: ...` line): data or
// a model the task cannot use, e.g. a question-answering model given to classification. Named by field
// from where the line says the problem is; no retry can fix it.
import type { SpecProblem } from '../common/errors';
import { REMOTE } from './remote-paths';

export const TRAINER_DATA_ERROR_EXIT = 65;

const REFUSAL_LINE = /^train_(?:cls|qa): (.*)$/;

export function trainerRefusal(outputTail: string): SpecProblem {
  const line = outputTail
    .split('\n')
    .map((l) => REFUSAL_LINE.exec(l.trim())?.[1])
    .filter((l): l is string => l !== undefined)
    .pop();
  const reason = line ?? `the trainer refused the data or the model (exit ${TRAINER_DATA_ERROR_EXIT})`;
  const path = reason.startsWith(`${REMOTE.inputs}/train.`)
    ? 'data.train'
    : reason.startsWith(`${REMOTE.inputs}/validation.`)
      ? 'data.validation'
      : 'model';
  return { path, message: reason };
}
