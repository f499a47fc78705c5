import fc from 'fast-check';
import twilio from 'twilio';

import { VoiceConfigError } from '../../channels/voice/errors';
import { expectedSignature, isValidTwilioSignature, signedUrlCandidates, splitPublicUrl } from '../../channels/voice/signature';

const TOKEN = 'test-auth-token-0123456789abcdef';
const PARAMS = { CallSid: 'CA0123456789abcdef0123456789abcdef', From: '+447700900123', To: '+441632960000' };

describe('signedUrlCandidates', () => {
  it('joins PUBLIC_URL and the original path with its query string', () => {
    expect(signedUrlCandidates('https://gk.example.org', '/voice/incoming')).toEqual(['https://gk.example.org/voice/incoming']);
    expect(signedUrlCandidates('https://gk.example.org/', '/voice/gather?then=route')).toEqual([
      'https://gk.example.org/voice/gather?then=route',
    ]);
  });

  it('keeps a port given in PUBLIC_URL', () => {
    expect(signedUrlCandidates('https://gk.example.org:8443', '/voice/incoming')).toEqual(['https://gk.example.org:8443/voice/incoming']);
  });

  it('adds the path prefix a proxy strips, and also tries the path as forwarded with the prefix', () => {
    expect(signedUrlCandidates('https://example.org/gatekeeper', '/voice/incoming')).toEqual([
      'https://example.org/gatekeeper/voice/incoming',
    ]);
    expect(signedUrlCandidates('https://example.org/gatekeeper/', '/gatekeeper/voice/incoming?x=1')).toEqual([
      'https://example.org/gatekeeper/gatekeeper/voice/incoming?x=1',
      'https://example.org/gatekeeper/voice/incoming?x=1',
    ]);
  });

  it('refuses a PUBLIC_URL that is not an http(s) URL', () => {
    expect(() => splitPublicUrl('gk.example.org')).toThrow(VoiceConfigError);
    expect(() => splitPublicUrl('ftp://gk.example.org')).toThrow(VoiceConfigError);
  });
});

describe('isValidTwilioSignature', () => {
  const publicUrl = 'https://gk.example.org';

  it('accepts what the twilio library signs for the public URL, whatever the app itself was reached by', () => {
    const signature = twilio.getExpectedTwilioSignature(TOKEN, 'https://gk.example.org/voice/incoming', PARAMS);
    expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/incoming', signature, params: PARAMS })).toBe(true);
  });

  it('accepts the signature of the URL with the default port spelled out (Twilio signs either form)', () => {
    const signature = expectedSignature(TOKEN, 'https://gk.example.org:443/voice/incoming', PARAMS);
    expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/incoming', signature, params: PARAMS })).toBe(true);
  });

  it('covers the query string: a signature of the bare path does not validate a request with a query, and vice versa', () => {
    const withQuery = expectedSignature(TOKEN, 'https://gk.example.org/voice/gather?then=route', PARAMS);
    const bare = expectedSignature(TOKEN, 'https://gk.example.org/voice/gather', PARAMS);
    expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/gather?then=route', signature: withQuery, params: PARAMS })).toBe(true);
    expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/gather?then=route', signature: bare, params: PARAMS })).toBe(false);
    expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/gather', signature: withQuery, params: PARAMS })).toBe(false);
  });

  it('refuses an http signature when PUBLIC_URL is https (the scheme is part of what is signed)', () => {
    const signature = expectedSignature(TOKEN, 'http://gk.example.org/voice/incoming', PARAMS);
    expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/incoming', signature, params: PARAMS })).toBe(false);
  });

  it('refuses a signature for another path, another host or another token', () => {
    const otherPath = expectedSignature(TOKEN, 'https://gk.example.org/voice/status', PARAMS);
    const otherHost = expectedSignature(TOKEN, 'https://evil.example.org/voice/incoming', PARAMS);
    const otherToken = expectedSignature('another-token', 'https://gk.example.org/voice/incoming', PARAMS);
    for (const signature of [otherPath, otherHost, otherToken, '', 'not-base64!']) {
      expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/incoming', signature, params: PARAMS })).toBe(false);
    }
  });

  it('fails closed on a request path the URL parser rejects', () => {
    const signature = expectedSignature(TOKEN, 'https://gk.example.org/voice/incoming', PARAMS);
    expect(isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '//[bad', signature, params: PARAMS })).toBe(false);
  });

  it('detects any tampered parameter (property)', () => {
    const value = fc.string({ maxLength: 40 });
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,15}$/), value, { minKeys: 1, maxKeys: 8 }), value, (params, replacement) => {
        const url = 'https://gk.example.org/voice/incoming';
        const signature = expectedSignature(TOKEN, url, params);
        const ok = isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/incoming', signature, params });
        const key = Object.keys(params)[0] as string;
        const tampered = { ...params, [key]: replacement };
        const stillOk = isValidTwilioSignature({ authToken: TOKEN, publicUrl, originalUrl: '/voice/incoming', signature, params: tampered });
        return ok && stillOk === (replacement === params[key]);
      }),
      { numRuns: 200 },
    );
  });
});
