import type { Clock } from '../core/clock.ts';
import type { ProviderConfig } from '../config/types.ts';
import { SecretRedactor } from './redact.ts';
import { ProviderError } from './types.ts';
import { VERTEX_DEFAULT_LOCATION, VertexVeoProvider } from './vertex-veo-provider.ts';
import type { VertexVeoProviderOptions } from './vertex-veo-provider.ts';

export interface CreateVertexVeoOptions {
  readonly config: ProviderConfig;
  /** Read for GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION; credentials are the SDK's (ADC), never read here. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  /** Replaces Application Default Credentials (tests: an auth client holding a ready token). */
  readonly googleAuthOptions?: VertexVeoProviderOptions['googleAuthOptions'];
}

/**
 * A `type: vertex-veo` provider from its config: project from `project:` else GOOGLE_CLOUD_PROJECT (refused
 * before anything is sent when neither says), region from `location:` else GOOGLE_CLOUD_LOCATION else
 * us-central1, `base_url` else the SDK's regional default.
 */
export function createVertexVeoProvider(options: CreateVertexVeoOptions): VertexVeoProvider {
  const { config, env } = options;
  const project = config.vertex?.project ?? nonEmpty(env['GOOGLE_CLOUD_PROJECT']);
  if (project === undefined) {
    throw new ProviderError({
      kind: 'invalid-request',
      message: `${config.name}: a vertex-veo provider needs \`project\` (the Google Cloud project) in sora.config.yaml or GOOGLE_CLOUD_PROJECT`,
      delivered: 'no',
    });
  }
  return new VertexVeoProvider({
    name: config.name,
    project,
    location: config.vertex?.location ?? nonEmpty(env['GOOGLE_CLOUD_LOCATION']) ?? VERTEX_DEFAULT_LOCATION,
    baseUrl: config.baseUrl,
    ...(options.googleAuthOptions !== undefined && { googleAuthOptions: options.googleAuthOptions }),
    clock: options.clock,
    redactor: new SecretRedactor(),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
