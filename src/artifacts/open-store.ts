// Opens a run's artifact store from its URI.
import type { S3Client } from '@aws-sdk/client-s3';
import { capabilitiesOf } from '../providers/capabilities';
import type { RunSpec } from '../run-spec/schema';
import type { ArtifactStore } from './artifact-store';
import { parseArtifactUri } from './artifact-uri';
import { createFolderStore } from './folder-store';
import { createS3Client, defaultS3Region } from './s3-client';
import { createS3Store } from './s3-store';

/** The region a run's bucket must be in: the one its provider names (the run's own on aws), else the environment's. */
export function storeRegion(spec: RunSpec): string {
  return capabilitiesOf(spec).storeRegion ?? defaultS3Region();
}

export type StoreOpener = (uri: string, region: string) => ArtifactStore;

/** Opens stores, one S3 client per region for the life of the process. */
export function createStoreOpener(makeClient: (region: string) => S3Client = createS3Client): StoreOpener {
  const clients = new Map<string, S3Client>();
  return (uri, region) => {
    const location = parseArtifactUri(uri);
    if (location.kind === 'file') return createFolderStore(location.path);
    let client = clients.get(region);
    if (!client) {
      client = makeClient(region);
      clients.set(region, client);
    }
    return createS3Store({ client, bucket: location.bucket, prefix: location.prefix, region });
  };
}
