// One S3 client per region; AWS_ENDPOINT_URL_S3 (moto in tests, an S3-compatible store) forces path-style
// addressing, which such endpoints need.
import { S3Client } from '@aws-sdk/client-s3';

export function createS3Client(region: string, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || undefined;
  return new S3Client({
    region,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    followRegionRedirects: true,
    maxAttempts: 4,
  });
}

export function defaultS3Region(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
}
