/**
 * The Content-Security-Policy the reference single-page application satisfies (the browser test
 * serves the built SPA under exactly this policy and fails on any violation): scripts and styles
 * only from the site's own files (no inline code, no eval), DOM sinks behind Trusted Types, network
 * calls only to the site (its `/api/*` and `/config.json`) and the sign-in service's token endpoint,
 * no framing, no plugins, forms posting only to the site.
 */

/** The directives, in the order they are written. `authOrigin` is the origin of the OAuth token endpoint. */
export function webAppContentSecurityPolicy(authOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    `connect-src 'self' ${authOrigin}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}
