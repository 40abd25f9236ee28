/**
 * `type: pool` entries of `providers:` (issue 15 item 3): several providers of one model used as one.
 *
 * ```yaml
 * providers:
 *   east: { type: openai, base_url: https://east.openai.azure.com/openai/v1/ }
 *   west: { type: openai, base_url: https://west.openai.azure.com/openai/v1/ }
 *   azure:
 *     type: pool
 *     members: [east, west]
 * ```
 *
 * Read after every other provider, since members are named. The pool becomes a ProviderConfig of its
 * members' type (so capabilities, the key's family and the render estimate are theirs) with `pool.members`
 * set, the members' quotas summed (the engine's lanes for the pool), and the first member's prices unless it
 * has its own `pricing:`. Everything else (URL, auth, deployments) belongs to each member.
 */
import type { ParsedNode, YAMLMap } from 'yaml';
import type { Diagnostic, Location } from '../core/diagnostic.ts';
import { entriesOf, resolveNode } from '../manifest/yaml-document.ts';
import type { YamlDocument } from '../manifest/yaml-document.ts';
import { isBadPointer, pointerOf } from '../manifest/schema-diagnostics.ts';
import type { GatewayConfig, ProviderConfig } from './types.ts';

export interface PendingPool {
  readonly name: string;
  readonly keyNode: ParsedNode;
  readonly node: YAMLMap;
}

/** Fields a pool takes; the rest are its members'. */
const POOL_FIELDS = new Set(['type', 'members', 'pricing']);

/** Resolves each pool into `providers` (or `broken`), reporting every problem at its position. */
export function readPools(input: {
  readonly doc: YamlDocument;
  readonly pools: readonly PendingPool[];
  readonly providers: Map<string, ProviderConfig>;
  readonly broken: Set<string>;
  readonly bad: ReadonlySet<string>;
  readonly diagnostics: Diagnostic[];
  readonly loc: (node: ParsedNode | null | undefined) => Location;
}): void {
  const { doc, providers, broken, bad, diagnostics, loc } = input;
  const poolNames = new Set(input.pools.map((p) => p.name));
  for (const pool of input.pools) {
    const pointer = pointerOf('providers', pool.name);
    const entries = entriesOf(pool.node);
    const before = diagnostics.length;
    const error = (message: string, at: ParsedNode): void => {
      diagnostics.push({ severity: 'error', message, location: loc(at) });
    };
    for (const [field, pair] of entries) {
      if (!POOL_FIELDS.has(field)) {
        error(
          `Expected only \`members\` and \`pricing\` for \`type: pool\` (set \`${field}\` on its members), but found \`${field}\``,
          pair.key as ParsedNode,
        );
      }
    }
    const membersPair = entries.get('members');
    const membersNode = resolveNode(doc, membersPair?.value);
    if (membersPair === undefined) {
      error(
        `Expected pool \`${pool.name}\` to have \`members\` (the providers it spreads jobs over), but it is missing`,
        pool.keyNode,
      );
    }
    const members: ProviderConfig[] = [];
    if (membersNode !== undefined && !isBadPointer(bad, `${pointer}/members`)) {
      const names = membersNode.toJS(doc) as string[];
      const items = (membersNode as unknown as { items?: ParsedNode[] }).items ?? [];
      names.forEach((member, i) => {
        const at = resolveNode(doc, items[i]) ?? membersNode;
        if (names.indexOf(member) !== i) {
          error(`Expected each member of pool \`${pool.name}\` once, but \`${member}\` is listed twice`, at);
        } else if (poolNames.has(member)) {
          error(
            `Expected the members of pool \`${pool.name}\` to be providers, but \`${member}\` is a pool`,
            at,
          );
        } else if (broken.has(member)) {
          // Its own problem is reported where it is defined.
        } else if (!providers.has(member)) {
          error(
            `Expected the members of pool \`${pool.name}\` to be providers defined under \`providers:\`, but \`${member}\` is not one (${[...providers.keys()].join(', ')})`,
            at,
          );
        } else {
          members.push(providers.get(member)!);
        }
      });
      const first = members[0];
      for (const m of members.slice(1)) {
        if (first !== undefined && m.type !== first.type) {
          error(
            `Expected the members of pool \`${pool.name}\` to be of one type (a pool spreads one model's jobs), but \`${first.name}\` is ${first.type} and \`${m.name}\` is ${m.type}`,
            membersNode,
          );
          break;
        }
      }
    }
    const badInside = [...bad].some((p) => p.startsWith(`${pointer}/`));
    const first = members[0];
    if (diagnostics.length > before || badInside || first === undefined) {
      broken.add(pool.name);
      continue;
    }
    const pricingNode = resolveNode(doc, entries.get('pricing')?.value);
    const pricing =
      pricingNode === undefined
        ? first.pricing
        : Object.fromEntries(
            Object.entries(pricingNode.toJS(doc) as Record<string, { usd_per_second: number }>).map(
              ([model, p]) => [model, { usdPerSecond: p.usd_per_second }],
            ),
          );
    // A remix the pool takes must be one every member can take (it goes to whichever holds the parent).
    const gateways = members.map((m) => m.gateway).filter((g): g is GatewayConfig => g !== undefined);
    const gateway =
      gateways.length === 0
        ? undefined
        : { remix: gateways.every((g) => g.remix), extend: gateways.every((g) => g.extend) };
    providers.set(pool.name, {
      name: pool.name,
      type: first.type,
      baseUrl: undefined,
      auth: first.auth,
      deployments: {},
      quota: {
        createsPerMinute: members.reduce((sum, m) => sum + m.quota.createsPerMinute, 0),
        maxInFlight: members.reduce((sum, m) => sum + m.quota.maxInFlight, 0),
      },
      pricing,
      renderSecondsPerSecond: first.renderSecondsPerSecond,
      ...(first.api !== undefined ? { api: first.api } : {}),
      ...(gateway !== undefined ? { gateway } : {}),
      pool: { members },
      location: loc(pool.keyNode),
    });
  }
}
