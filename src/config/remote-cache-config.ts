/**
 * Reads `cache.remote` from a parsed `sora.config.yaml` (after the schema has checked its shape): the rules a
 * schema cannot say. The config names the container and account, never a secret: an `account_url` carrying a
 * query (a SAS token is a bearer secret) is refused, so a key can never be committed with the config.
 */
import { isMap } from 'yaml';
import type { ParsedNode } from 'yaml';
import type { Diagnostic, Location } from '../core/diagnostic.ts';
import { isBadPointer } from '../manifest/schema-diagnostics.ts';
import { entriesOf, resolveNode } from '../manifest/yaml-document.ts';
import type { YamlDocument } from '../manifest/yaml-document.ts';
import type { RemoteCacheConfig } from './types.ts';

export function readRemoteCache(input: {
  readonly doc: YamlDocument;
  /** The `cache:` value of the config's top-level map. */
  readonly cacheNode: ParsedNode | undefined;
  readonly bad: ReadonlySet<string>;
  readonly diagnostics: Diagnostic[];
  readonly loc: (node: ParsedNode | null | undefined) => Location;
}): RemoteCacheConfig | undefined {
  const { doc, bad, diagnostics, loc } = input;
  const cache = resolveNode(doc, input.cacheNode);
  if (!isMap(cache) || isBadPointer(bad, '/cache/remote')) return undefined;
  const pair = entriesOf(cache).get('remote');
  const remote = resolveNode(doc, pair?.value);
  if (pair === undefined || !isMap(remote)) return undefined;
  const entries = entriesOf(remote);
  const text = (name: string): string | undefined => {
    const node = resolveNode(doc, entries.get(name)?.value);
    return node === undefined ? undefined : String(node.toJS(doc));
  };
  const container = text('container');
  if (container === undefined) return undefined;
  const urlNode = resolveNode(doc, entries.get('account_url')?.value);
  const accountUrl = text('account_url');
  if (accountUrl !== undefined) {
    const problem = accountUrlProblem(accountUrl);
    if (problem !== undefined) {
      diagnostics.push({ severity: 'error', message: problem, location: loc(urlNode) });
      return undefined;
    }
  }
  return { type: 'azure-blob', container, accountUrl, location: loc(pair.key as ParsedNode) };
}

function accountUrlProblem(text: string): string | undefined {
  if (!URL.canParse(text)) {
    return `Expected \`account_url\` to be a URL such as https://ACCOUNT.blob.core.windows.net, but found ${JSON.stringify(text)}`;
  }
  const url = new URL(text);
  if (url.search !== '' || url.username !== '' || url.password !== '') {
    // Not echoed: the query may be the very secret that must not be shown.
    return 'Expected `account_url` without a query or credentials (a SAS token is a secret: give AZURE_STORAGE_CONNECTION_STRING in the environment instead, or use Entra ID)';
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    return `Expected \`account_url\` to be an https:// URL (http:// only on loopback, for Azurite), but found ${JSON.stringify(text)}`;
  }
  return undefined;
}
