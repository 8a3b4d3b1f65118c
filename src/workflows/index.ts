// Workflow entry for the worker's bundle: deterministic code only, activity types only.
export { fineTune } from './fine-tune';
export { reapStrays } from './reaper';
