// What the chaos worker process and the chaos runner tell each other through files and its output.

/** The chaos worker prints this (then the task queue) once it polls. */
export const READY_LINE = 'chaos worker polling task queue';

/** What the worker writes to `<CHAOS_FLAG>.killed` just before it kills itself. */
export interface KillRecord {
  activity: string;
  attempt: number;
  /**
   * 'timer': CHAOS_KILL_AFTER_MS passed while the step ran; 'trigger': the CHAOS_KILL_TRIGGER file appeared;
   * 'work-done': the step's work ended first.
   */
  mode: 'timer' | 'trigger' | 'work-done';
  afterMs: number;
  /** Epoch ms of the kill. */
  at: number;
  pid: number;
}

/** One line of `<CHAOS_STARTED_DIR>/<activity>`, appended when an activity attempt starts. */
export interface StartRecord {
  activity: string;
  attempt: number;
  /** Epoch ms. */
  at: number;
  pid: number;
}
