// What a run's folder in the artifact store holds, by key.
export const MODEL_KEY = 'model';
export const EVALUATION_KEY = 'evaluation';
export const RUN_RECORD_KEY = 'run.json';
/** The delivered model's card, in Hugging Face's format, so the folder is ready for push_to_hub. */
export const MODEL_CARD_KEY = `${MODEL_KEY}/README.md`;
/** Written by the trainer next to its output, uploaded into EVALUATION_KEY. */
export const EVALUATION_FILES = ['eval_results.json', 'eval_predictions.json'];
/** Each node's job logs, secrets redacted: `logs/<node>/<job>.log` (uploaded while training and before teardown). */
export const LOGS_KEY = 'logs';
export const LOG_SUFFIX = '.log';
export function nodeLogKey(node: string, job: string): string {
  return `${LOGS_KEY}/${node}/${job}${LOG_SUFFIX}`;
}
