/// <reference lib="dom" />
/**
 * A real headless Chromium for the console's end-to-end tests (Debian's /usr/bin/chromium driven by
 * playwright-core), and the in-page checks they share: keyboard reach, visible focus, colour contrast,
 * Content-Security-Policy violations, dialogs, screenshots.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(__dirname, '..', 'artifacts');

/** Launches headless Chromium; says how to install it when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page with its watchers: any dialog (alert/confirm), CSP violation or uncaught error is recorded. */
export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  dialogs: string[];
  cspViolations: string[];
  pageErrors: string[];
}

/** Opens a fresh context (its own sessionStorage) and page. */
export async function openPage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
  const page = await context.newPage();
  // Fail fast and clearly rather than at Jest's 30 s test timeout.
  page.setDefaultTimeout(10_000);
  const watched: ConsolePage = { context, page, dialogs: [], cspViolations: [], pageErrors: [] };
  page.on('dialog', (dialog) => {
    watched.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (err) => watched.pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) watched.cspViolations.push(msg.text());
  });
  // Injected by the browser itself, so the page's CSP does not apply to it.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Refused to load (CSP ${e.violatedDirective}): ${e.blockedURI}`);
    });
  });
  return watched;
}

/** Signs in on /console with the keyboard only: the token field has focus on arrival. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.locator('#signin-token:focus').waitFor();
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.locator('#whoami').waitFor();
}

/** Waits until the live event stream is connected. */
export async function waitForLive(page: Page): Promise<void> {
  await page.locator('#stream-status[data-state="live"]').waitFor();
}

/** Saves a full-page screenshot under test/artifacts/ (git-ignored) for reviewers. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

/** What pressing Tab through the page found. */
export interface KeyboardReport {
  /** How many controls (radio groups counted once) are on the page. */
  controls: number;
  /** Controls that Tab never reached, described. */
  unreached: string[];
  /** Controls that had focus without a visible indicator (outline or box-shadow). */
  noVisibleFocus: string[];
}

/**
 * Presses Tab from the top of the page until focus has gone round once, and reports which visible controls
 * were never reached and which showed no focus indicator. A radio group is one stop, as in every browser.
 */
export async function tabThroughPage(page: Page): Promise<KeyboardReport> {
  const controls = await page.evaluate(() => {
    const selector = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
    const keys = new Set<string>();
    let n = 0;
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(selector))) {
      const offscreenSkip = el.classList.contains('skip-link');
      if (!offscreenSkip && !el.checkVisibility({ checkVisibilityCSS: true })) continue;
      const key = el instanceof HTMLInputElement && el.type === 'radio' ? `radio:${el.name}` : `el:${n++}`;
      el.dataset.kb = key;
      keys.add(key);
    }
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
    return [...keys];
  });

  const reached = new Set<string>();
  const noVisibleFocus: string[] = [];
  for (let i = 0; i < controls.length + 15; i += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return undefined;
      const style = getComputedStyle(el);
      // Focus on a part inside a native control (a date field's calendar button) leaves the host unmatched by
      // :focus; the browser draws that part's own focus ring.
      const insideNativePart = !el.matches(':focus');
      const visible = insideNativePart || (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
      const name = `${el.tagName.toLowerCase()}#${el.id || ''} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40)}"`;
      return { key: el.dataset.kb, visible, name };
    });
    if (!focused?.key) continue;
    if (!focused.visible) noVisibleFocus.push(focused.name);
    reached.add(focused.key);
  }
  const unreached = await page.evaluate((missing) => {
    return missing.map((key) => {
      const el = document.querySelector<HTMLElement>(`[data-kb="${key}"]`);
      return el ? `${el.tagName.toLowerCase()}#${el.id || ''} "${(el.textContent || '').trim().slice(0, 40)}"` : key;
    });
  }, controls.filter((key) => !reached.has(key)));
  return { controls: controls.length, unreached, noVisibleFocus: [...new Set(noVisibleFocus)] };
}

/**
 * Elements whose text contrasts less than WCAG 2.2 AA asks (4.5:1, or 3:1 for large text) with the
 * background behind them. Text that is visually hidden (screen-reader only) is skipped.
 */
export async function contrastFailures(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (c: string): [number, number, number, number] | undefined => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : undefined;
    };
    const luminance = ([r, g, b]: number[]) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r ?? 0) + 0.7152 * ch(g ?? 0) + 0.0722 * ch(b ?? 0);
    };
    const background = (el: Element | null): number[] => {
      for (let node = el; node; node = node.parentElement) {
        const bg = parse(getComputedStyle(node).backgroundColor);
        if (bg && bg[3] > 0.5) return bg;
      }
      return [255, 255, 255, 1];
    };
    const failures: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
      const hasText = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
      if (!hasText || !el.checkVisibility({ checkVisibilityCSS: true })) continue;
      if (el.closest('.visually-hidden, .skip-link, noscript, option, datalist')) continue;
      const style = getComputedStyle(el);
      const fg = parse(style.color);
      if (!fg) continue;
      const l1 = luminance(fg);
      const l2 = luminance(background(el));
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) failures.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}" ${ratio.toFixed(2)}:1`);
    }
    return failures;
  });
}

/** Whether the page scrolls sideways (it must not, down to 320 CSS pixels). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
}
