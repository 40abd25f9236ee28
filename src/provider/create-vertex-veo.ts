import { GoogleAuth } from 'google-auth-library';
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
  /**
   * Obtain a token now through Application Default Credentials, so that missing credentials stop the command
   * once, before anything is sent, rather than failing every shot. The same client then serves the SDK.
   * @default false
   */
  readonly checkAuth?: boolean;
}

/** Vertex AI's OAuth scope (the SDK's own default). */
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * A `type: vertex-veo` provider from its config: project from `project:` else GOOGLE_CLOUD_PROJECT (refused
 * before anything is sent when neither says), region from `location:` else GOOGLE_CLOUD_LOCATION else
 * us-central1, `base_url` else the SDK's regional default.
 */
export async function createVertexVeoProvider(options: CreateVertexVeoOptions): Promise<VertexVeoProvider> {
  const { config, env } = options;
  const project = config.vertex?.project ?? nonEmpty(env['GOOGLE_CLOUD_PROJECT']);
  if (project === undefined) {
    throw new ProviderError({
      kind: 'invalid-request',
      message: `${config.name}: a vertex-veo provider needs \`project\` (the Google Cloud project) in sora.config.yaml or GOOGLE_CLOUD_PROJECT`,
      delivered: 'no',
    });
  }
  const redactor = new SecretRedactor();
  let googleAuthOptions = options.googleAuthOptions;
  if (options.checkAuth === true && googleAuthOptions === undefined) {
    const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM] });
    try {
      const client = await auth.getClient();
      redactor.add((await client.getAccessToken()).token ?? undefined);
      googleAuthOptions = { authClient: client };
    } catch (error) {
      throw new ProviderError({
        kind: 'auth',
        message: redactor.redact(
          `${config.name}: no Google credentials (${error instanceof Error ? error.message : String(error)}). ` +
            'Run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a key file, or ' +
            'run where the metadata server gives a service account token',
        ),
        delivered: 'no',
      });
    }
  }
  return new VertexVeoProvider({
    name: config.name,
    project,
    location: config.vertex?.location ?? nonEmpty(env['GOOGLE_CLOUD_LOCATION']) ?? VERTEX_DEFAULT_LOCATION,
    baseUrl: config.baseUrl,
    ...(googleAuthOptions !== undefined && { googleAuthOptions }),
    clock: options.clock,
    redactor,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
