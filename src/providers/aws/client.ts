// Builds the EC2 client every AWS verb uses; the SDK's own retries are off because they would
// also retry capacity errors (HTTP 500) and RunInstances, which need the provider's own policy.
import { EC2Client } from '@aws-sdk/client-ec2';

export interface Ec2ClientConfig {
  region: string;
  /** Overrides the EC2 endpoint (moto in tests); AWS_ENDPOINT_URL_EC2 also works through the SDK. */
  endpoint?: string;
}

export type Ec2ClientFactory = (config: Ec2ClientConfig) => EC2Client;

export const createEc2Client: Ec2ClientFactory = ({ region, endpoint }) =>
  new EC2Client({ region, ...(endpoint === undefined ? {} : { endpoint }), maxAttempts: 1 });
