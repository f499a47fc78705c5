/**
 * Twilio request signatures (`X-Twilio-Signature`). Twilio signs the URL it requested — the public one,
 * `https://…` — plus the sorted form parameters, with the account's auth token. Behind a TLS-terminating
 * proxy the app itself sees `http://internal:3000/voice/incoming`, so the URL is rebuilt from the configured
 * `PUBLIC_URL` and the request's original path and query string, never from the request's own protocol and
 * host (which a client controls anyway).
 *
 * The functions are small and pure, as in twilio-node's own `webhooks.ts`; the check at the bottom binds
 * them to the configured token and URL. The HMAC comparison itself is the twilio library's (constant time,
 * and it tries the with/without-default-port variants Twilio may have signed).
 */
import { timingSafeEqual } from 'node:crypto';

import twilio from 'twilio';

import { VoiceConfigError } from './errors';

/** The form parameters of a webhook: a name's values as one string, or several for a repeated name. */
export type WebhookParams = Record<string, string | string[]>;

/** `PUBLIC_URL` taken apart: `https://example.org/gatekeeper/` → origin `https://example.org`, prefix `/gatekeeper`. */
export interface PublicBase {
  origin: string;
  pathPrefix: string;
}

const parsedBases = new Map<string, PublicBase>();

/**
 * Splits `PUBLIC_URL` into its origin and path prefix (without a trailing slash). Remembered per value:
 * it is asked for on every webhook and every rendered action URL, and there is one `PUBLIC_URL`.
 * @throws VoiceConfigError `invalid-public-url` when it is not an absolute http(s) URL.
 */
export function splitPublicUrl(publicUrl: string): PublicBase {
  const known = parsedBases.get(publicUrl);
  if (known !== undefined) return known;
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new VoiceConfigError('invalid-public-url', 'PUBLIC_URL must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VoiceConfigError('invalid-public-url', 'PUBLIC_URL must be an absolute http(s) URL');
  }
  // `url.origin` drops userinfo, which Twilio does sign when it is in the configured webhook URL.
  const auth = url.username !== '' ? `${url.username}${url.password !== '' ? `:${url.password}` : ''}@` : '';
  const base = { origin: `${url.protocol}//${auth}${url.host}`, pathPrefix: url.pathname.replace(/\/+$/, '') };
  if (parsedBases.size < 16) parsedBases.set(publicUrl, base);
  return base;
}

/**
 * The URLs Twilio may have signed for a request the app received at `originalUrl` (path plus query string,
 * exactly as received). The first is `PUBLIC_URL` + `originalUrl`: a proxy that publishes the app under a
 * path prefix (`https://example.org/gatekeeper`) and strips it forwards `/voice/incoming`. The second covers
 * a proxy that forwards the prefix unchanged, so the app already sees `/gatekeeper/voice/incoming`.
 */
export function signedUrlCandidates(publicUrl: string, originalUrl: string): string[] {
  // Webhooks come to a handful of paths (query strings aside): remembered per PUBLIC_URL and path.
  const key = `${publicUrl} ${originalUrl}`;
  const known = rememberedCandidates.get(key);
  if (known !== undefined) return known;
  const candidates = buildCandidates(publicUrl, originalUrl);
  if (rememberedCandidates.size >= MAX_REMEMBERED_CANDIDATES) rememberedCandidates.clear();
  rememberedCandidates.set(key, candidates);
  return candidates;
}

/** At most this many (URL, path) pairs are remembered; query strings with per-call values would grow it. */
const MAX_REMEMBERED_CANDIDATES = 256;
const rememberedCandidates = new Map<string, string[]>();

function buildCandidates(publicUrl: string, originalUrl: string): string[] {
  const { origin, pathPrefix } = splitPublicUrl(publicUrl);
  const path = originalUrl.startsWith('/') ? originalUrl : `/${originalUrl}`;
  const candidates = [`${origin}${pathPrefix}${path}`];
  if (pathPrefix !== '' && (path === pathPrefix || path.startsWith(`${pathPrefix}/`) || path.startsWith(`${pathPrefix}?`))) {
    candidates.push(`${origin}${path}`);
  }
  return candidates;
}

/**
 * The signature Twilio sends for a request to `url` with these form parameters. Used by tests and the
 * benchmark to sign requests exactly as Twilio does.
 */
export function expectedSignature(authToken: string, url: string, params: WebhookParams): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/**
 * Whether `signature` is Twilio's signature of this request.
 * @param input.originalUrl the path and query string the app received (express's `req.originalUrl`).
 * @param input.params the parsed form parameters (an empty object for a request without a body).
 */
export function isValidTwilioSignature(input: {
  authToken: string;
  publicUrl: string;
  originalUrl: string;
  signature: string;
  params: WebhookParams;
}): boolean {
  return signedUrlCandidates(input.publicUrl, input.originalUrl).some((url) => {
    try {
      // The URL exactly as configured is what Twilio signs in practice: one HMAC. Only when that does not
      // match does validateRequest try the variants (with and without the default port, URL-normalised),
      // each a URL parse and another HMAC.
      if (sameSignature(input.signature, twilio.getExpectedTwilioSignature(input.authToken, url, input.params))) return true;
      return twilio.validateRequest(input.authToken, input.signature, url, input.params);
    } catch {
      // validateRequest re-parses the URL with `new URL()`; a malformed request path must fail closed.
      return false;
    }
  });
}

/** Constant-time comparison of two signatures (their length, fixed by the algorithm, is no secret). */
function sameSignature(received: string, expected: string): boolean {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Options of {@link twilioSignatureCheck}. */
export interface TwilioSignatureOptions {
  /** `TWILIO_AUTH_TOKEN`: the account's auth token. Required. */
  authToken: string;
  /** `PUBLIC_URL`: the base URL Twilio requests (scheme, host and any path prefix). Required. */
  publicUrl: string;
}

/** What {@link twilioSignatureCheck} finds: Twilio's request, no signature at all, or a wrong one. */
export type SignatureVerdict = 'valid' | 'missing' | 'invalid';

/**
 * Builds the check that lets only requests signed by Twilio through. Framework-free (it reads a header
 * value, the path and query string as received, and the parsed form), so the HTTP layer decides how a
 * refusal is answered: `missing` → 400 `missing-signature`, `invalid` → 403 `invalid-signature`.
 * @throws VoiceConfigError when the auth token is empty or `PUBLIC_URL` is not a URL (at start-up, not per request).
 */
export function twilioSignatureCheck(
  options: TwilioSignatureOptions,
): (signature: string | string[] | undefined, originalUrl: string, params: WebhookParams) => SignatureVerdict {
  if (options.authToken === '') {
    throw new VoiceConfigError('missing-auth-token', 'TWILIO_AUTH_TOKEN is required for the voice webhooks');
  }
  splitPublicUrl(options.publicUrl);
  return (signature, originalUrl, params) => {
    // Node lower-cases header names; a repeated header arrives as one comma-joined string.
    if (typeof signature !== 'string' || signature === '') return 'missing';
    const ok = isValidTwilioSignature({ authToken: options.authToken, publicUrl: options.publicUrl, originalUrl, signature, params });
    return ok ? 'valid' : 'invalid';
  };
}
