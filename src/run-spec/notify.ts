// The spec's `notify` block: where a run's end is announced (a webhook URL, or the name of a worker
// environment variable that holds one, so the URL never enters the workflow's history). A webhook URL is a
// secret (Slack's and most others carry their token in the path), so no message here ever repeats it.
// Pure: the workflow validates specs with it.
import { z } from 'zod';

/** A URL written in the spec, or `{ fromEnv: NAME }`: the worker reads NAME from its own environment when it sends. */
export type WebhookTarget = string | { fromEnv: string };

const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_URL_LENGTH = 2048;

/**
 * Why a webhook URL cannot be used, or undefined when it can. https only, except http to a loopback address
 * (a test's server, a relay on the worker's own host): plain http to any other host would send the token in
 * clear. Credentials in the URL are refused everywhere: fetch() refuses to send them, and they would be one
 * more secret in the spec. The messages never include the URL.
 */
export function webhookUrlProblem(value: string): string | undefined {
  if (value.length > MAX_URL_LENGTH) return `is longer than ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL: write https://host/path (the value is not shown: webhook URLs hold secrets)';
  }
  if (url.username !== '' || url.password !== '')
    return 'must not hold credentials (user:password@): put the token where the service documents it, e.g. in the path';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return isLoopbackHost(url.hostname)
      ? undefined
      : 'must be https:// (http:// is allowed only to localhost or 127.0.0.1, for tests: it would send the token in clear)';
  return `must be an https:// URL, not ${url.protocol.slice(0, 16)}`;
}

/** localhost, 127.0.0.0/8 and ::1: addresses that never leave the host. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function webhookProblem(target: WebhookTarget): string | undefined {
  if (typeof target === 'string') return webhookUrlProblem(target);
  return ENV_NAME_PATTERN.test(target.fromEnv)
    ? undefined
    : 'fromEnv must name an environment variable (letters, digits and _, not starting with a digit)';
}

/**
 * The string branch accepts any string and the block's refinement checks it: a refinement inside the union
 * would fail the whole union, and the union's problem would quote its input (the URL) back.
 */
export const notifySchema = z
  .strictObject({
    webhook: z.union([z.string(), z.strictObject({ fromEnv: z.string() })]),
  })
  .superRefine((notify, ctx) => {
    const message = webhookProblem(notify.webhook);
    if (message) ctx.addIssue({ code: 'custom', path: ['webhook'], message });
  });

export type NotifySettings = z.output<typeof notifySchema>;

/** Scheme and host only: what plan, describe and run.json show of a webhook. */
export function redactedWebhook(target: WebhookTarget): string {
  if (typeof target !== 'string') return `$${target.fromEnv} (from the worker's environment)`;
  try {
    const url = new URL(target);
    return `${url.protocol}//${url.host}/[redacted]`;
  } catch {
    return '[redacted]';
  }
}

/** The spec with its webhook URL redacted: for every copy of the spec that leaves the workflow (run.json, plan). */
export function withRedactedNotify<S extends { notify?: NotifySettings | undefined }>(spec: S): S {
  if (!spec.notify || typeof spec.notify.webhook !== 'string') return spec;
  return { ...spec, notify: { ...spec.notify, webhook: redactedWebhook(spec.notify.webhook) } };
}
