// What a recipe is: what a node needs installed. Its own module, importing only the spec's names, so a
// provider can declare its base recipe and its nodes' additions (src/providers/*/capabilities.ts) without
// importing the recipe table, which reads the providers' capabilities.
import type { RecipeName } from '../run-spec/schema';

export interface Recipe {
  /** The preset, or `base` for a spec that names none. */
  name: RecipeName | 'base';
  /** Folders under recipes/ uploaded to the master (and so baked into the image). */
  folders: string[];
  /** Relative to recipes/. */
  requirements: string;
  /** Debian/Ubuntu packages the nodes need; installed with sudo only where missing. */
  systemPackages: string[];
  /** Extra pip arguments, e.g. the PyTorch CPU index on EC2. */
  pipArgs: string[];
  /** Environment for every training process (exported by mpirun to all ranks). */
  trainEnv: Record<string, string>;
  /** Arguments after the venv python that make the offline assets, if the recipe has any. */
  prepareAssets?: string[];
}

/** PyTorch's CPU-only wheels: without it pip takes torch's multi-GB CUDA build from PyPI. */
export const PYTORCH_CPU_INDEX = 'https://download.pytorch.org/whl/cpu';
