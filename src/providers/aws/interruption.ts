// EC2 spot interruption notice, read on the node itself: IMDSv2 spot/instance-action answers 404 until
// the two-minute notice, then 200.
export const IMDS_NOTICE_COMMAND = [
  `token=$(curl -s -m 2 -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')`,
  `code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/spot/instance-action)`,
  `if [ "$code" = 200 ]; then echo interruption-notice; fi`,
].join('; ');
