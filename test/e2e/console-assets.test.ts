/**
 * The console's files as served: the strict Content-Security-Policy is on, the page has no inline script or
 * style for it to block, and the script has no way to turn data into markup or code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../support/test-app';

const PUBLIC = join(__dirname, '..', '..', 'gateway', 'public');

describe('console assets', () => {
  let gk: TestApp;

  beforeAll(async () => {
    gk = await startTestApp({ parts: [] });
  });

  afterAll(async () => {
    await gk?.stop();
  });

  it('serves the page under a strict CSP, never cached', async () => {
    for (const path of ['/console', '/console/']) {
      const res = await fetch(`${gk.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(await res.text()).toContain('<script type="module" src="/console/app.js"></script>');
    }
  });

  it('serves the script and styles with their types, and nothing else from the folder', async () => {
    const js = await fetch(`${gk.url}/console/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const css = await fetch(`${gk.url}/console/app.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const traversal = await fetch(`${gk.url}/console/..%2f..%2fpackage.json`);
    expect(traversal.status).toBe(404);
    expect(await traversal.text()).not.toContain('gatekeeper');
    expect((await fetch(`${gk.url}/console/nothing-here.js`)).status).toBe(404);
  });

  it('tells a signed-in member of staff who they are, and the server’s zone and clock', async () => {
    const token = await gk.addStaff({ id: 'akhan', name: 'Ali Khan', email: 'ali@example.org', roles: ['agent'] });
    expect((await fetch(`${gk.url}/console/me`)).status).toBe(401);
    const res = await fetch(`${gk.url}/console/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const me = (await res.json()) as Record<string, unknown>;
    expect(me).toEqual({ id: 'akhan', name: 'Ali Khan', roles: ['agent'], timeZone: 'Europe/London', now: expect.any(String) });
  });

  it('has no inline script, inline style or inline handler in the page', () => {
    const html = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it('never turns data into markup or code in the script', () => {
    const js = readFileSync(join(PUBLIC, 'app.js'), 'utf8');
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'createContextualFragment', 'DOMParser']) {
      expect(js).not.toContain(sink);
    }
    // Timers take functions, never strings of code.
    expect(js).not.toMatch(/setTimeout\(\s*['"`]/);
    // The token is never put in a URL.
    expect(js).not.toMatch(/[?&](token|access_token)=/);
  });
});
