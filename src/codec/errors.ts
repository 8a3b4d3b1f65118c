// The codec's error classes; each stable `name` says what went wrong, the fields say with what (never key bytes).

/** The key configuration (environment variable or key file) is unusable. */
export class CodecKeyConfigError extends Error {
  override readonly name = 'CodecKeyConfigError';
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}

/** A payload cannot be decrypted: its key id is unknown, or it fails authentication. */
export class PayloadDecryptError extends Error {
  override readonly name = 'PayloadDecryptError';
  constructor(
    readonly keyId: string | undefined,
    readonly problem: 'unknown-key-id' | 'missing-key-id' | 'too-short' | 'authentication-failed',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
