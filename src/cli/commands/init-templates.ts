/**
 * What `sora-build init` writes: a config that offers every provider type (the chosen one live, the others
 * as commented blocks to copy from) and a starter storyboard in the chosen type's models. A type missing here
 * is a type error: every provider type must be offered.
 */
import type { ProviderType } from '../../config/types.ts';

interface Starter {
  /** The provider entry under `providers:`, indented two spaces, without a trailing newline. */
  readonly block: string;
  /** The entry's name under `providers:` when it is not the type. */
  readonly name?: string;
  /** The starter storyboard's model, size and seconds (a model this type's table knows). */
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  /** The starter storyboard ends with a remix (only where the API can remix). */
  readonly remix: boolean;
  /** What the user must set before building, for the "Next:" line; undefined: nothing. */
  readonly needs: string | undefined;
}

export const STARTERS: Readonly<Record<ProviderType, Starter>> = {
  emulator: {
    block: `  emulator:
    type: emulator              # embedded, offline placeholder videos: free, good for checking timing`,
    model: 'sora-2',
    size: '1280x720',
    seconds: 4,
    remix: true,
    needs: undefined,
  },
  openai: {
    block: `  openai:
    type: openai                # OpenAI, Azure OpenAI v1 or a compatible gateway (openai SDK)
    base_url: https://RESOURCE.openai.azure.com/openai/v1/
    auth: api-key               # reads AZURE_OPENAI_API_KEY or OPENAI_API_KEY from the environment
    pricing: { sora-2: { usd_per_second: 0.10 } }`,
    model: 'sora-2',
    size: '1280x720',
    seconds: 4,
    remix: true,
    needs: 'set base_url in sora.config.yaml and AZURE_OPENAI_API_KEY or OPENAI_API_KEY',
  },
  'azure-sora1': {
    block: `  azure-sora1:
    type: azure-sora1           # Azure OpenAI's Sora 1 video generation jobs API
    base_url: https://RESOURCE.openai.azure.com/openai/v1/
    auth: api-key               # AZURE_OPENAI_API_KEY; or entra (@azure/identity)`,
    model: 'sora',
    size: '1280x720',
    seconds: 5,
    remix: false,
    needs: 'set base_url in sora.config.yaml and AZURE_OPENAI_API_KEY',
  },
  'vertex-veo': {
    block: `  veo:
    type: vertex-veo            # Veo 3.1 on Google Vertex AI (@google/genai); Application Default Credentials
    project: my-gcp-project     # default GOOGLE_CLOUD_PROJECT
    location: us-central1       # default GOOGLE_CLOUD_LOCATION, else us-central1
    pricing: { veo-3.1-fast-generate-001: { usd_per_second: 0.15 } }  # an example: check Google's price`,
    name: 'veo',
    model: 'veo-3.1-fast-generate-001',
    size: '1280x720',
    seconds: 4,
    remix: false,
    needs: 'set project in sora.config.yaml and sign in (gcloud auth application-default login)',
  },
  runway: {
    block: `  runway:
    type: runway                # Runway's API (@runwayml/sdk): gen4.5, gen4_turbo, veo3.1, veo3.1_fast
    # base_url: https://api.dev.runwayml.com   # the default; reads RUNWAYML_API_SECRET
    quota: { creates_per_minute: 5, max_in_flight: 1 }   # Tier 1; set your tier's concurrency
    pricing: { veo3.1_fast: { usd_per_second: 0.15 } }  # an example: check your Runway price`,
    model: 'veo3.1_fast',
    size: '1280x720',
    seconds: 4,
    remix: false,
    needs: 'export RUNWAYML_API_SECRET',
  },
  fal: {
    block: `  fal:
    type: fal                   # fal.ai's queue (@fal-ai/client); a model is an endpoint id
    # base_url: https://queue.fal.run          # the default; reads FAL_KEY
    quota: { creates_per_minute: 10, max_in_flight: 2 }  # a new account's concurrency
    pricing: { fal-ai/veo3.1/fast: { usd_per_second: 0.15 } }  # an example (with audio): check fal's price`,
    model: 'fal-ai/veo3.1/fast',
    size: '1280x720',
    seconds: 4,
    remix: false,
    needs: 'export FAL_KEY',
  },
};

/** The config with `type`'s provider chosen and live, and every other type offered as a commented block. */
export function configTemplate(type: ProviderType): string {
  const blocks = (Object.keys(STARTERS) as ProviderType[]).map((t) =>
    t === type ? STARTERS[t].block : commentOut(STARTERS[t].block),
  );
  return `# sora-build project configuration: names providers, never secrets.
version: 1
${`provider: ${STARTERS[type].name ?? type}`.padEnd(32)}# --provider NAME overrides
providers:
${blocks.join('\n')}
out_dir: out
cache_dir: .sora-build
`;
}

export function storyboardTemplate(type: ProviderType): string {
  const s = STARTERS[type];
  return `# A starter storyboard. Build it with \`npx sora-build build\`; edit it under \`npx sora-build watch\`.
version: 1
defaults:
  model: ${s.model}
  size: ${s.size}
  seconds: ${s.seconds}
vars:
  look: 35mm film, golden hour, shallow depth of field
shots:
  harbor:
    prompt: Wide establishing shot of a misty harbor at dawn, \${look}.
  lighthouse:
    prompt: Slow dolly-in on a lighthouse on a rocky point as the fog lifts, \${look}.
${
  s.remix
    ? `  lighthouse-night:
    remix_of: lighthouse
    prompt: The same shot at night, the beam sweeping through light rain.
`
    : `  lighthouse-night:
    prompt: The lighthouse at night, the beam sweeping through light rain, \${look}.
`
}`;
}

function commentOut(block: string): string {
  return block
    .split('\n')
    .map((line) => `  # ${line.slice(2)}`)
    .join('\n');
}
