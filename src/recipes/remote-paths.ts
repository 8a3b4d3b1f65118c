// Where tuneforge keeps things in the node user's home; one definition for every step.
export const REMOTE_ROOT = 'tuneforge';
export const REMOTE = {
  root: REMOTE_ROOT,
  recipe: `${REMOTE_ROOT}/recipe`,
  venv: `${REMOTE_ROOT}/venv`,
  python: `${REMOTE_ROOT}/venv/bin/python`,
  assets: `${REMOTE_ROOT}/assets`,
  jobs: `${REMOTE_ROOT}/jobs`,
  sanityOutput: `${REMOTE_ROOT}/sanity`,
  trainOutput: `${REMOTE_ROOT}/output`,
  depsMarker: (fingerprint: string) => `${REMOTE_ROOT}/.deps-${fingerprint}`,
  hostfile: 'hosts',
  clusterKey: '.ssh/tuneforge_cluster_ed25519',
  sshConfig: '.ssh/config',
  knownHosts: '.ssh/known_hosts',
  authorizedKeys: '.ssh/authorized_keys',
} as const;
