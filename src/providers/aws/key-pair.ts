// The cluster's EC2 key pair: the operator's public key imported under a per-cluster name that also
// names the key, so a changed key file gets a new pair instead of silently mismatching the old one.
import {
  DeleteKeyPairCommand,
  DescribeKeyPairsCommand,
  ImportKeyPairCommand,
  type Filter,
  type KeyPairInfo,
} from '@aws-sdk/client-ec2';
import type { ClusterRef } from '../provider';
import { call, callIgnoringMissing, type AwsContext, sendOptions } from './context';
import { isEc2Error } from './errors';
import { publicKeyId } from './ssh-keys';
import { clusterFilter, clusterResourceName, clusterTags, tagSpecification } from './tags';

export function keyPairName(clusterId: string, publicKey: string): string {
  return clusterResourceName(clusterId, publicKeyId(publicKey));
}

async function describeKeyPairs(ctx: AwsContext, filters: Filter[]): Promise<KeyPairInfo[]> {
  const { KeyPairs: keyPairs = [] } = await call(ctx, 'DescribeKeyPairs', () =>
    ctx.ec2.send(new DescribeKeyPairsCommand({ Filters: filters }), sendOptions(ctx)),
  );
  return keyPairs;
}

export async function keyPairExists(ctx: AwsContext, keyName: string): Promise<boolean> {
  return (await describeKeyPairs(ctx, [{ Name: 'key-name', Values: [keyName] }])).length > 0;
}

/** Imports the key pair unless it exists; returns its name. */
export async function ensureKeyPair(ctx: AwsContext, cluster: ClusterRef, publicKey: string): Promise<string> {
  const keyName = keyPairName(cluster.clusterId, publicKey);
  if (await keyPairExists(ctx, keyName)) return keyName;
  try {
    await call(ctx, 'ImportKeyPair', () =>
      ctx.ec2.send(
        new ImportKeyPairCommand({
          KeyName: keyName,
          PublicKeyMaterial: Buffer.from(publicKey, 'utf8'),
          TagSpecifications: [tagSpecification('key-pair', clusterTags(cluster))],
        }),
        sendOptions(ctx),
      ),
    );
  } catch (error) {
    if (!isEc2Error(error, 'duplicate')) throw error;
  }
  return keyName;
}

export async function deleteClusterKeyPairs(ctx: AwsContext, clusterId: string): Promise<void> {
  for (const keyPair of await describeKeyPairs(ctx, [clusterFilter(clusterId)])) {
    const keyName = keyPair.KeyName;
    if (keyName === undefined) continue;
    await callIgnoringMissing(ctx, 'DeleteKeyPair', () =>
      ctx.ec2.send(new DeleteKeyPairCommand({ KeyName: keyName }), sendOptions(ctx)),
    );
  }
}
