// Headless Debian chromium driven by playwright-core, for tests that look at the Temporal Web UI.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DEFAULT_UI_URL } from '../../src/common/names';

/** The browser: Debian's chromium package (scripts/setup.sh installs it with TUNEFORGE_SETUP_BROWSER=1). */
export const CHROMIUM_PATH = process.env.TUNEFORGE_CHROMIUM ?? '/usr/bin/chromium';

/** The Web UI's base address, as the CLI prints links to it. */
export const UI_BASE = (process.env.TEMPORAL_UI_URL ?? DEFAULT_UI_URL).replace(/\/$/, '');

// Nothing outside this machine is reachable: keep chromium from trying (QUIC, updates, sync, field trials).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Why a browser test cannot run here, or undefined when it can. In CI (CI=true) a missing chromium is
 * not a reason to skip: the test runs and fails, so a lost browser never passes unnoticed.
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.CI === 'true') return undefined;
  return `no chromium at ${CHROMIUM_PATH} (TUNEFORGE_SETUP_BROWSER=1 bash scripts/setup.sh installs it)`;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh profile (user-data dir) and one page with the given viewport; close() removes the profile. */
export async function openBrowser(viewport = { width: 1280, height: 800 }): Promise<BrowserSession> {
  const profile = await mkdtemp(join(tmpdir(), 'tuneforge-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: 30_000,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const opened = context;
    return {
      context: opened,
      page,
      close: async () => {
        await opened.close().catch(() => undefined);
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await context?.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A screenshot of the whole page. The Web UI scrolls inside its own container, not the document, so
 * Playwright's fullPage alone stops at the viewport: grow the viewport by what that container
 * (#content-wrapper in UI 2.54) hides, then give the viewport its size back.
 */
export async function fullPageScreenshot(page: Page, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const viewport = page.viewportSize();
  // The UI's scroll container (in-page code as a string: this project compiles without the DOM typings).
  const hidden = await page.evaluate<number>(
    `(() => { const el = document.getElementById('content-wrapper'); return el ? el.scrollHeight - el.clientHeight : 0; })()`,
  );
  if (!viewport || hidden <= 0) {
    await page.screenshot({ path, fullPage: true });
    return;
  }
  await page.setViewportSize({ width: viewport.width, height: viewport.height + Math.min(hidden, 10_000) });
  try {
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    await page.screenshot({ path, fullPage: true });
  } finally {
    await page.setViewportSize(viewport);
  }
}
