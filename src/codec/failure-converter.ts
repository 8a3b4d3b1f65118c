// Loaded by path (client, worker and workflow bundle): failure messages and stacks travel as encoded payloads.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
