/**
 * Keeps secrets out of error text. A provider knows its API key from the start but learns Entra ID tokens
 * as it goes, so secrets are added as they appear; every ProviderError message and cause is passed through
 * `redact` before it leaves the provider.
 */
export class SecretRedactor {
  #secrets: string[] = [];

  /** Remembers `secret` (ignored when shorter than 4 characters: too likely to match ordinary text). */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < 4 || this.#secrets.includes(secret)) return;
    this.#secrets.push(secret);
    // Longest first, so a secret that contains another is removed whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    // Bearer credentials we never saw (a gateway echoing a header, a token from another process).
    out = out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[redacted]');
    // OpenAI-style keys, including the partly masked echo in "Incorrect API key provided: sk-…".
    return out.replace(/\bsk-[A-Za-z0-9_*-]{8,}/g, 'sk-[redacted]');
  }
}
