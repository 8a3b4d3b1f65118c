// Spot interruptions on the local provider: like EC2's two-minute notice, a notice appears on the node
// (at /run/tuneforge-node/spot-notice inside it) before the node is killed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LAB_ROOT, DEFAULT_PIP_CACHE, NODE_ETC_MOUNT, labLayout } from './lab';

export const NOTICE_FILE = 'spot-notice';

/** What a node runs to report a pending interruption: prints "interruption-notice" when there is one. */
export const LOCAL_NOTICE_COMMAND = `test -f ${NODE_ETC_MOUNT}/${NOTICE_FILE} && echo interruption-notice || true`;

export async function sendInterruptionNotice(clusterId: string, nodeName: string, labRoot = DEFAULT_LAB_ROOT): Promise<void> {
  const node = labLayout(labRoot, DEFAULT_PIP_CACHE).cluster(clusterId).node(nodeName);
  await writeFile(join(node.etc, NOTICE_FILE), `${JSON.stringify({ action: 'terminate', time: new Date().toISOString() })}\n`);
}
