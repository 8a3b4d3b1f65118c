// The activity proxies, one per profile of activity-profiles.ts.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ACTIVITY_PROFILES } from './activity-profiles';

export const steps = {
  provisioning: proxyActivities<Activities>(ACTIVITY_PROFILES.provisioning),
  install: proxyActivities<Activities>(ACTIVITY_PROFILES.install),
  bake: proxyActivities<Activities>(ACTIVITY_PROFILES.bake),
  wiring: proxyActivities<Activities>(ACTIVITY_PROFILES.wiring),
  sanity: proxyActivities<Activities>(ACTIVITY_PROFILES.sanity),
  teardown: proxyActivities<Activities>(ACTIVITY_PROFILES.teardown),
  logs: proxyActivities<Activities>(ACTIVITY_PROFILES.logs),
  delivery: proxyActivities<Activities>(ACTIVITY_PROFILES.delivery),
  notify: proxyActivities<Activities>(ACTIVITY_PROFILES.notify),
  training: (timeoutMinutes: number) => proxyActivities<Activities>(ACTIVITY_PROFILES.training(timeoutMinutes)),
};
