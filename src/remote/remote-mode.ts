/**
 * Which remote-cache mode a build runs in, from `--remote-cache`, the config and the environment (a pure
 * decision; the CLI passes the facts).
 *
 * The default: with `cache.remote` configured and SORA_BUILD_CACHE_KEY set, CI runners (`CI` set, as every CI
 * service does) read and write, and every other machine (a laptop) only reads. That is the pattern the
 * README recommends: the runners fill the cache from reviewed branches, and laptops, whose role may not even
 * allow writing, take what is there without publishing experiments. Without the key, the remote cache is off:
 * entries cannot be checked without it, and an unchecked entry is exactly what a poisoner would write.
 */
export type RemoteCacheFlag = 'read' | 'readwrite' | 'off';
export const REMOTE_CACHE_FLAGS: readonly RemoteCacheFlag[] = ['read', 'readwrite', 'off'];

export type RemoteModeDecision =
  | { readonly mode: 'off'; readonly note: string | null }
  | { readonly mode: 'read' | 'readwrite' }
  /** A request that cannot be honoured: a usage error (exit 2). */
  | { readonly mode: 'error'; readonly message: string };

export function decideRemoteMode(facts: {
  readonly flag: RemoteCacheFlag | undefined;
  readonly configured: boolean;
  /** SORA_BUILD_CACHE_KEY is set and not empty. */
  readonly hasKey: boolean;
  /** Connection by `account_url`, or AZURE_STORAGE_CONNECTION_STRING is set. */
  readonly hasAccount: boolean;
  /** The CI environment variable is set (and not "false"/"0"). */
  readonly ci: boolean;
}): RemoteModeDecision {
  const { flag, configured, hasKey, hasAccount, ci } = facts;
  if (flag === 'off') return { mode: 'off', note: null };
  if (!configured) {
    if (flag === undefined) return { mode: 'off', note: null };
    return {
      mode: 'error',
      message: `--remote-cache=${flag} needs \`cache.remote\` in sora.config.yaml (see the README, "Team cache")`,
    };
  }
  const missing = [
    ...(hasKey ? [] : ['SORA_BUILD_CACHE_KEY (the key entries are signed with)']),
    ...(hasAccount ? [] : ['AZURE_STORAGE_CONNECTION_STRING (or `account_url` in cache.remote)']),
  ];
  if (missing.length > 0) {
    const what = missing.join(' and ');
    if (flag !== undefined) {
      return { mode: 'error', message: `--remote-cache=${flag} needs ${what} in the environment` };
    }
    return { mode: 'off', note: `the remote cache is off: ${what} is not set` };
  }
  return { mode: flag ?? (ci ? 'readwrite' : 'read') };
}
