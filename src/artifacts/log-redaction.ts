// Secrets out of a log before it leaves the node's disk: the values the worker knows (its HF token, its AWS
// keys), and whatever looks like one (hub tokens, AWS key ids, secret keys and session tokens after their
// names, bearer tokens). The same marker as the redacting logger's.
import { REDACTED } from '../codec/redacting-logger';

/** Shapes of secrets, whoever's they are (a token in a recipe's own output, another account's key). */
const SECRET_SHAPES: RegExp[] = [
  // Hugging Face user and org tokens.
  /\bhf_[A-Za-z0-9]{20,}\b/g,
  /\bapi_org_[A-Za-z0-9]{20,}\b/g,
  // AWS access key ids (long-term AKIA, temporary ASIA).
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
];

/** `NAME=value`, `NAME: value`, `"name": "value"`: the value goes, the name stays (it says what was there). */
const NAMED_SECRET =
  /((?:aws_secret_access_key|aws_session_token|secret_access_key|session_token|hf_token|hugging_face_hub_token|huggingface_token|api[_-]?key|password)["']?\s*[=:]\s*["']?)([^\s"',;]+)/gi;
const BEARER = /(\bBearer\s+)([A-Za-z0-9._~+/=-]{8,})/g;

/** Values shorter than this are not matched literally: a short "secret" would blank out ordinary words. */
const MIN_KNOWN_SECRET_LENGTH = 8;

/** The worker's own secrets, from its environment and deps: matched literally wherever they appear. */
export function knownSecrets(env: NodeJS.ProcessEnv, extra: Array<string | undefined> = []): string[] {
  const names = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID'];
  return [...names.map((name) => env[name]), ...extra].filter(
    (value): value is string => typeof value === 'string' && value.length >= MIN_KNOWN_SECRET_LENGTH,
  );
}

export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  // Longest first: a secret that contains another must go whole.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  for (const shape of SECRET_SHAPES) out = out.replace(shape, REDACTED);
  out = out.replace(NAMED_SECRET, (_match, name: string, value: string) =>
    value === REDACTED ? `${name}${value}` : `${name}${REDACTED}`,
  );
  return out.replace(BEARER, (_match, prefix: string) => `${prefix}${REDACTED}`);
}
