// cloud-init user data that installs the node's pinned SSH host key before sshd first starts.
import type { HostKeyPair } from './ssh-keys';

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

/**
 * Base64 user data (RunInstances wants it encoded). `ssh_deletekeys` drops host keys baked into
 * the image (a worker launched from the master's image would otherwise share its keys) and
 * `ssh_genkeytypes: []` stops cloud-init from generating others, so the pinned key is the only one.
 */
export function hostKeyUserData(hostKey: HostKeyPair): string {
  const cloudConfig = [
    '#cloud-config',
    'ssh_deletekeys: true',
    'ssh_genkeytypes: []',
    'ssh_keys:',
    '  ed25519_private: |',
    indent(hostKey.privateKey, 4),
    `  ed25519_public: ${hostKey.publicKey}`,
    '',
  ].join('\n');
  return Buffer.from(cloudConfig, 'utf8').toString('base64');
}
