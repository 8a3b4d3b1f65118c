// A local node is an sshd in its own mount, pid, uts and ipc namespaces; SIGKILL of its unshare parent
// ends every process of the node at once.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_ETC_MOUNT, NODE_HOME } from './lab';

export interface NodeProcessSpec {
  hostname: string;
  etcDir: string;
  hostsFile: string;
  home: { kind: 'bind'; dir: string } | { kind: 'overlay'; lower: string; upper: string; work: string };
  labRoot: string;
  logFile: string;
  tmpSizeMiB: number;
  /** Seconds the node waits before starting sshd: a modelled slow boot (0: none). */
  bootDelaySeconds?: number;
}

export interface NodeProcess {
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is never taken for the node. */
  startTime: string;
}

// Runs as the namespace's first process. Bind mounts come first, then the lab folder is hidden so a
// node cannot see other nodes' homes, then private /tmp and /dev/shm.
const NODE_INIT_SCRIPT = `
set -eu
hostname "$1"
mount --bind "$2" ${NODE_ETC_MOUNT}
mount --bind "$3" /etc/hosts
if [ "$4" = bind ]; then
  mount --bind "$5" ${NODE_HOME}
else
  mount -t overlay overlay -o "lowerdir=$5,upperdir=$6,workdir=$7" ${NODE_HOME}
fi
case "$8" in /tmp/*) ;; *) mount -t tmpfs -o size=1m,mode=0755 tmpfs "$8" ;; esac
mount -t tmpfs -o "size=$9m,mode=1777" tmpfs /tmp
mount -t tmpfs -o "size=$9m,mode=1777" tmpfs /dev/shm
sleep "\${10}"
exec /usr/sbin/sshd -D -e -f ${NODE_ETC_MOUNT}/sshd_config
`;

export async function startNodeProcess(spec: NodeProcessSpec): Promise<NodeProcess> {
  const home =
    spec.home.kind === 'bind' ? ['bind', spec.home.dir, '-', '-'] : ['overlay', spec.home.lower, spec.home.upper, spec.home.work];
  const args = [
    '--mount',
    '--pid',
    '--uts',
    '--ipc',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--propagation',
    'private',
    '/bin/sh',
    '-c',
    NODE_INIT_SCRIPT,
    'tuneforge-node',
    spec.hostname,
    spec.etcDir,
    spec.hostsFile,
    ...home,
    spec.labRoot,
    String(spec.tmpSizeMiB),
    String(spec.bootDelaySeconds ?? 0),
  ];
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn('unshare', args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start node ${spec.hostname}`);
    child.unref();
    return { pid, startTime: await processStartTime(pid) };
  } finally {
    closeSync(log);
  }
}

export async function processStartTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") "; start time is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

export async function isNodeProcessAlive(proc: NodeProcess): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${proc.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state === 'Z') return false;
    return (await processStartTime(proc.pid)) === proc.startTime;
  } catch {
    return false;
  }
}

/** The node's init process (pid 1 inside its namespace): /proc/<pid>/root shows the node's own mounts. */
export async function nodeInitPid(proc: NodeProcess): Promise<number | undefined> {
  try {
    const children = (await readFile(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8')).trim();
    const first = children.split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

const KILL_WAIT_MS = 10_000;

export async function killNodeProcess(proc: NodeProcess): Promise<void> {
  if (!(await isNodeProcessAlive(proc))) return;
  const inner = await nodeInitPid(proc);
  try {
    process.kill(proc.pid, 'SIGKILL');
    if (inner !== undefined) process.kill(inner, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  const deadline = Date.now() + KILL_WAIT_MS;
  while ((await isNodeProcessAlive(proc)) || (inner !== undefined && (await pidExists(inner)))) {
    if (Date.now() > deadline) throw new Error(`node process ${proc.pid} did not exit after SIGKILL`);
    await sleep(50);
  }
}

async function pidExists(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
