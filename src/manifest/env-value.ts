/**
 * The value of environment variable `name`, looked up as an own property of `env` only: `${env:toString}`,
 * `${env:constructor}` or `${env:__proto__}` name variables nobody set, not members every object inherits
 * (which once reached the analysis cache as a function and crashed its hashing).
 */
export function envValue(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  if (!Object.hasOwn(env, name)) return undefined;
  const value: unknown = env[name];
  return typeof value === 'string' ? value : undefined;
}
