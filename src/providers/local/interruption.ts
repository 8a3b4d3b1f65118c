// Spot interruptions on the local provider: like EC2's two-minute notice, a notice appears on the node
// (at /run/tuneforge-node/spot-notice inside it) before the node is killed.
import { NODE_ETC_MOUNT } from './lab';

export const NOTICE_FILE = 'spot-notice';

/** What a node runs to report a pending interruption: prints "interruption-notice" when there is one. */
export const LOCAL_NOTICE_COMMAND = `test -f ${NODE_ETC_MOUNT}/${NOTICE_FILE} && echo interruption-notice || true`;
