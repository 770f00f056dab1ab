/** What the local stack child process (local-stack.ts) tells the test process. */
import type { WebAppRuntimeConfig } from '../../lib/web-app/runtime-config';

/** The child prints this, then `LocalStackInfo` as JSON, on one line once everything listens. */
export const READY_MARKER = 'LOCAL_STACK_READY ';

export interface LocalStackInfo {
  /** The CloudFront stand-in: the site, `/config.json` and `/api/*`. */
  readonly siteOrigin: string;
  /** The Cognito stand-in (issuer, sign-in pages, token endpoint). */
  readonly providerOrigin: string;
  /** Test controls: `POST /expire-access-tokens`, `/revoke-refresh-tokens`, `/fail-next-api-request?status=503`. */
  readonly controlOrigin: string;
  readonly tableName: string;
  /** The `/config.json` the site serves. */
  readonly config: WebAppRuntimeConfig;
}
