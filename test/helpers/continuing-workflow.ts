// A workflow for follower tests: answers the run's progress query, waits for `advance`, then continues as new
// until its last generation, which returns a result naming that generation.
import { condition, continueAsNew, defineSignal, setHandler, workflowInfo } from '@temporalio/workflow';
import { progressQuery, type RunProgress } from '../../src/workflows/definitions';

export const advanceSignal = defineSignal('advance');
export const STEPS_PER_GENERATION = 10;

export interface ContinuingInput {
  generation: number;
  last: number;
}

export async function continuingRun(input: ContinuingInput): Promise<{ workflowId: string; generation: number }> {
  const step = input.generation * STEPS_PER_GENERATION;
  const progress: RunProgress = {
    runName: 'continuing',
    provider: 'local',
    recipe: 'tiny-qa',
    stage: 'distributed-train',
    steps: [],
    nodes: [],
    training: {
      stage: 'distributed-train',
      step,
      maxSteps: (input.last + 1) * STEPS_PER_GENERATION,
      loss: 1,
      lastCheckpoint: null,
    },
    recoveries: [],
  };
  let advanced = false;
  setHandler(progressQuery, () => progress);
  setHandler(advanceSignal, () => void (advanced = true));
  await condition(() => advanced);
  if (input.generation < input.last)
    await continueAsNew<typeof continuingRun>({ generation: input.generation + 1, last: input.last });
  return { workflowId: workflowInfo().workflowId, generation: input.generation };
}
