// Names defined once: task queue, workflow type, query and signal names, UI address.
export const TASK_QUEUE = 'tuneforge';
export const WORKFLOW_TYPE = 'fineTune';
/** Default schedule id: `<prefix>-<spec name>`; a scheduled run's workflow id is the schedule id and its time. */
export const SCHEDULE_ID_PREFIX = 'scheduled';
/** The reaper's schedule id is `<prefix>-<task queue>`: each deployment sharing a namespace sweeps its own providers. */
export const REAPER_SCHEDULE_PREFIX = 'tuneforge-reaper';
export const PROGRESS_QUERY = 'progress';
export const TRAINING_PROGRESS_SIGNAL = 'trainingProgress';
export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_UI_URL = 'http://localhost:8233';

export const STEP_NAMES = [
  'provision-master',
  'install-deps',
  'bake-image',
  'launch-workers',
  'wire-ssh',
  'sanity-run',
  'distributed-train',
  'teardown',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export function workflowUiUrl(uiBase: string, namespace: string, workflowId: string): string {
  return `${uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
