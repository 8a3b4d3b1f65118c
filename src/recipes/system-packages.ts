// The system-package step of install-deps on a fresh node: wait for first-boot work to let go of apt,
// then install only what is missing, under whichever name the release gives a package.
import { shellJoin, shellQuote } from '../remote/shell-quote';

/**
 * How long apt waits for the dpkg lock (and install-deps retries `apt-get update` on the lists lock):
 * on a fresh Ubuntu instance cloud-init and unattended-upgrades hold it for minutes.
 */
export const APT_LOCK_WAIT_SECONDS = 900;
/** cloud-init normally finishes within minutes; a hung one must not hold a run forever. */
export const CLOUD_INIT_WAIT_SECONDS = 1800;
const UPDATE_RETRY_SECONDS = 3;

/**
 * The names a package may be installed under. Ubuntu 24.04 and Debian 13 renamed libraries for 64-bit
 * time_t (libtcmalloc-minimal4 became libtcmalloc-minimal4t64): apt still installs the old name, which
 * the new package provides, but dpkg-query finds nothing under it, so a check by the old name alone
 * would call the package missing on every run.
 */
export function installedNames(pkg: string): string[] {
  return pkg.startsWith('lib') && !pkg.endsWith('t64') ? [pkg, `${pkg}t64`] : [pkg];
}

export interface PackageStepOptions {
  /** Seconds apt waits for a lock held by another process. */
  lockWaitSeconds?: number;
}

/**
 * Bash (run under `set -euo pipefail`) that waits for cloud-init where there is one, then installs the
 * missing packages with apt, waiting for the dpkg and lists locks instead of failing on them. It runs
 * apt directly as root and through `sudo -n` otherwise.
 */
export function systemPackagesStep(packages: readonly string[], options: PackageStepOptions = {}): string {
  const lockWait = options.lockWaitSeconds ?? APT_LOCK_WAIT_SECONDS;
  const checks = packages.map((pkg) => `installed ${shellJoin(installedNames(pkg))} || echo ${shellQuote(pkg)}`);
  // apt 2.6 applies DPkg::Lock::Timeout to the dpkg lock only: `apt-get update` fails at once on the
  // lists lock, so update is retried while the failure is a lock and the wait has time left.
  return `as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
installed() { for name in "$@"; do dpkg-query -W -f='\${Status}' "$name" 2> /dev/null | grep -q 'install ok installed' && return 0; done; return 1; }
apt_update() {
  local deadline=$((SECONDS + ${lockWait})) out
  until out=$(as_root apt-get -q -o DPkg::Lock::Timeout=${lockWait} update 2>&1); do
    echo "$out" >&2
    if ! grep -q -e 'Could not get lock' -e 'Unable to lock' <<< "$out" || [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    echo "apt lists locked by another process; retrying in ${UPDATE_RETRY_SECONDS} s" >&2
    sleep ${UPDATE_RETRY_SECONDS}
  done
  echo "$out"
}
if command -v cloud-init > /dev/null 2>&1; then
  echo 'waiting for cloud-init to finish first boot'
  timeout ${CLOUD_INIT_WAIT_SECONDS} cloud-init status --wait > /dev/null || echo "cloud-init status ended with exit $?; going on"
fi
missing=$(${checks.length > 0 ? checks.join('; ') : 'true'})
if [ -n "$missing" ]; then
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=${lockWait} $missing
fi`;
}
