/**
 * Everything a command may touch of its process, passed in so tests can run commands in-process and so
 * core modules never read `process.env` or print.
 */
export interface CliContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
  /** Removes every known secret (API keys, tokens) from text before it is printed. */
  redact(text: string): string;
}

/** Names of environment variables whose values are secrets and must never be printed or written. */
export const SECRET_ENV_VARS = [
  'OPENAI_API_KEY',
  'AZURE_OPENAI_API_KEY',
  'AZURE_CLIENT_SECRET',
  'SORA_EMULATOR_API_KEY',
  'RUNWAYML_API_SECRET',
  'FAL_KEY',
  'SORA_BUILD_CACHE_KEY',
  'AZURE_STORAGE_CONNECTION_STRING',
];

export function makeRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const values = secrets
    .filter((s): s is string => s !== undefined && s.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const v of values) out = out.split(v).join('[redacted]');
    // Bearer tokens that were never in the environment (e.g. Entra ID access tokens).
    return (
      out
        .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, '$1[redacted]')
        // A storage account key or SAS signature quoted from somewhere else than our environment.
        .replace(/((?:AccountKey|SharedAccessSignature)=|[?&]sig=)[^;&\s"']+/g, '$1[redacted]')
    );
  };
}

export function processContext(): CliContext {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: controller.signal,
    redact: makeRedactor(SECRET_ENV_VARS.map((n) => process.env[n])),
  };
}
