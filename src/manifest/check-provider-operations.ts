/**
 * Shots the chosen provider cannot build because of how it is configured, rather than what its model can do
 * (that is the capability table's, checked in analyze-manifest.ts): a gateway (`gateway:` in
 * sora.config.yaml) that cannot remix or extend. Refused before any call, at the `remix_of`/`extend_of` that
 * asks for it: sending the request would pay for the parent and then fail on the child, or worse, a gateway
 * could coerce it into something else.
 */
import type { Diagnostic } from '../core/diagnostic.ts';
import type { ProviderConfig } from '../config/types.ts';
import type { ShotConfig } from './types.ts';

/** One error per remix/extension the provider of its shot is configured not to take. */
export function checkProviderOperations(
  shots: Iterable<ShotConfig>,
  providerOf: (shot: ShotConfig) => ProviderConfig,
): Diagnostic[] {
  const problems: Diagnostic[] = [];
  for (const shot of shots) {
    const provider = providerOf(shot);
    const gateway = provider.gateway;
    if (gateway === undefined) continue;
    const link =
      shot.remixOf !== undefined
        ? { field: 'remix_of', verb: 'remix', parent: shot.remixOf, allowed: gateway.remix }
        : shot.extendOf !== undefined
          ? { field: 'extend_of', verb: 'extend', parent: shot.extendOf, allowed: gateway.extend }
          : undefined;
    if (link === undefined || link.allowed) continue;
    problems.push({
      severity: 'error',
      message:
        `Expected provider \`${provider.name}\` to ${link.verb} \`${link.parent}\`, but it is an OpenAI-compatible ` +
        `gateway configured without ${link.verb} (\`gateway.${link.verb}\` is false); make \`${shot.id}\` a new ` +
        `shot, or set \`gateway.${link.verb}: true\` if the gateway's model can ${link.verb}`,
      location: shot.fieldLocations[link.field as 'remix_of' | 'extend_of'] ?? shot.location,
    });
  }
  return problems;
}
