// All step activities, built from one set of dependencies.
import { createArtifactActivities } from './artifacts';
import { createBakeActivities } from './bake-image';
import type { ActivityDeps } from './deps';
import { createTrainActivities } from './distributed-train';
import { createInstallActivities } from './install-deps';
import { createLaunchActivities } from './launch-workers';
import { createNotifyActivities } from './notify';
import { createPromoteActivities } from './promote-model';
import { createPreflightActivities } from './preflight';
import { createProvisionActivities } from './provision-master';
import { createReaperActivities } from './reaper';
import { createReplaceActivities, createReplaceMasterActivities } from './replace-nodes';
import { createSanityActivities } from './sanity-run';
import { createStandbyActivities } from './use-standby';
import { createTeardownActivities } from './teardown';
import { createLogActivities } from './upload-logs';
import { createWireActivities } from './wire-ssh';
import { createInputActivities } from './run-inputs';
import { createHubModelActivities } from './hub-model';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createArtifactActivities(deps),
    ...createPromoteActivities(deps),
    ...createInputActivities(deps),
    ...createHubModelActivities(deps),
    ...createPreflightActivities(deps),
    ...createProvisionActivities(deps),
    ...createInstallActivities(deps),
    ...createBakeActivities(deps),
    ...createLaunchActivities(deps),
    ...createWireActivities(deps),
    ...createSanityActivities(deps),
    ...createTrainActivities(deps),
    ...createLogActivities(deps),
    ...createTeardownActivities(deps),
    ...(deps.reaper === undefined ? {} : createReaperActivities(deps.reaper)),
    ...createReplaceActivities(deps),
    ...createReplaceMasterActivities(deps),
    ...createStandbyActivities(deps),
    ...createNotifyActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
