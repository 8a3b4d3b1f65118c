// Where tuneforge keeps things in the node user's home; one definition for every step.
export const REMOTE_ROOT = 'tuneforge';
export const REMOTE = {
  root: REMOTE_ROOT,
  recipe: `${REMOTE_ROOT}/recipe`,
  venv: `${REMOTE_ROOT}/venv`,
  python: `${REMOTE_ROOT}/venv/bin/python`,
  assets: `${REMOTE_ROOT}/assets`,
  /** Content-addressed copies of a run's data files and model folder: `<data>/<sha256>/data.<ext>`, `<models>/<sha256>/`. */
  data: `${REMOTE_ROOT}/data`,
  models: `${REMOTE_ROOT}/models`,
  /** Hub dataset repos as the master downloaded them, by commit: `<datasets>/hub-<commit>/`. */
  datasets: `${REMOTE_ROOT}/datasets`,
  /** The run's inputs as the trainer reads them: links into data/ and models/, rewritten at each staging. */
  inputs: `${REMOTE_ROOT}/inputs`,
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
