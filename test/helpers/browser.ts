import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it when missing. */
export const CHROMIUM = process.env.HOOKGRAPH_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab (its own sessionStorage); console errors and failed requests are collected on it. */
  newPage(): Promise<Page & { problems: string[] }>;
  /** Saves a PNG under test-results/ (git-ignored); returns its path. */
  screenshot(page: Page, name: string, options?: { selector?: string; fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

/**
 * Headless Chromium with a fresh profile and no outside network (the machine
 * has none): background services off. Playwright refuses `--user-data-dir`
 * in args, so the fresh profile goes through launchPersistentContext.
 * Closed automatically when the test file ends.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  let closed = false;
  const handle: TestBrowser = {
    context,
    async newPage() {
      const page = (await context.newPage()) as Page & { problems: string[] };
      page.problems = [];
      page.on('console', (message) => {
        if (message.type() === 'error') page.problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
      return page;
    },
    async screenshot(page, name, options = {}) {
      const dir = path.resolve('test-results');
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${name}.png`);
      if (options.selector) await page.locator(options.selector).screenshot({ path: file });
      else await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
      return file;
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
  after(() => handle.close());
  return handle;
}
