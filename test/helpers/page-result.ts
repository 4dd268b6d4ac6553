/**
 * Browser tests whose page publishes what it computed as `window.__result`: launch headless Chromium, open a page,
 * wait for the result (or give up after `timeoutMs` and return undefined), collect uncaught page errors.
 */
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from '../../src/parity/runtimes.js';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH(), headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
}

export async function pageResult<T>(browser: Browser, url: string, timeoutMs = 180_000): Promise<{ result: T | undefined; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: timeoutMs, polling: 500 })
      .catch(() => undefined);
    const result = await page.evaluate(() => (window as unknown as { __result?: unknown }).__result) as T | undefined;
    return { result, errors };
  } finally {
    await page.close();
  }
}
