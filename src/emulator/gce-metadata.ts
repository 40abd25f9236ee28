/**
 * The few paths of the Google Compute Engine metadata server that Google's Application Default Credentials
 * read (google-auth-library through gcp-metadata), so a `vertex-veo` project authenticates against the
 * emulator with no key file and no Google host: run the CLI with `GCE_METADATA_HOST=127.0.0.1:PORT` and ADC
 * finds "a metadata server", as on a Google Cloud VM, and takes the service account's token from here.
 * Every answer carries `Metadata-Flavor: Google`; a request without that header is refused as the real one is.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const GCE_METADATA_PREFIX = '/computeMetadata/v1';

export interface MetadataAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The project the emulated VM lives in (only read when the config names none). */
const PROJECT = 'emulator-project';

export function answerGceMetadata(path: string, headers: IncomingHttpHeaders, token: string): MetadataAnswer {
  const flavor = { 'metadata-flavor': 'Google' };
  const text = (status: number, body: string): MetadataAnswer => ({
    status,
    headers: { ...flavor, 'content-type': 'application/text' },
    body,
  });
  if (headers['metadata-flavor'] !== 'Google') return text(403, 'Missing required header: "Metadata-Flavor"');
  const rest = path.slice(GCE_METADATA_PREFIX.length);
  switch (rest.replace(/\/$/, '')) {
    case '/instance':
      return text(200, 'attributes/\nhostname\nid\nservice-accounts/\nzone\n');
    case '/instance/service-accounts/default/token':
      return {
        status: 200,
        headers: { ...flavor, 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }),
      };
    case '/instance/service-accounts/default/email':
      return text(200, `emulator@${PROJECT}.iam.gserviceaccount.com`);
    case '/project/project-id':
      return text(200, PROJECT);
    case '/universe/universe-domain':
      return text(200, 'googleapis.com');
    default:
      return text(404, 'Not Found');
  }
}
