// Shared by the browser tests: Debian's Chromium (never a downloaded browser) driven by
// playwright-core, and a tiny step runner that prints "N passed, M failed".
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// The flags the machine notes ask for: no sandbox (root), no GPU, and nothing that reaches out
// to the network on its own (this machine's network is closed).
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// A fresh --user-data-dir per run (launchPersistentContext passes it), removed at close.
export async function launch({ viewport = { width: 1440, height: 900 } } = {}) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'bhe-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.BHE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timezoneId: 'UTC',
    locale: 'en-US',
  });
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

// Collects what must never happen on the page: script errors, console errors, and requests to
// anything but the exporter itself (the page must be self-contained).
export function watchPage(page, base) {
  const problems = [];
  const origin = new URL(base).origin;
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin + '/') && !u.startsWith('data:')) problems.push('external request: ' + u);
  });
  return problems;
}

export function makeRunner() {
  let passed = 0;
  let failed = 0;
  return {
    async step(name, fn) {
      const t0 = Date.now();
      try {
        await fn();
        passed++;
        console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}\n${(e && e.stack) || e}`);
        throw e;
      }
    },
    finish() {
      console.log(`${passed} passed, ${failed} failed`);
      return failed === 0;
    },
    counts: () => ({ passed, failed }),
  };
}

// Waits until the page has finished at least `n` successful refreshes in total.
export async function waitForRefreshes(page, n, timeout) {
  await page.waitForFunction((k) => Number(document.body.dataset.refreshes || 0) >= k, n,
    timeout ? { timeout } : undefined);
}

export async function refreshCount(page) {
  return page.evaluate(() => Number(document.body.dataset.refreshes || 0));
}

// What the operator sees in each server row of the current page.
export async function visibleRows(page) {
  return page.evaluate(() => [...document.querySelectorAll('#groups tr.row')].map((tr) => ({
    pool: tr.dataset.pool,
    settings: tr.dataset.settings,
    server: tr.dataset.server,
    state: tr.dataset.state,
    stateText: tr.querySelector('.st-text').textContent,
    badgeColor: getComputedStyle(tr.querySelector('.badge')).backgroundColor,
    address: tr.querySelector('.addr').textContent,
    reason: tr.querySelector('.reason').textContent,
    details: tr.querySelector('.details').textContent,
    hint: tr.querySelector('.hint').textContent,
    since: tr.querySelector('.c-since').innerText,
    last: tr.querySelector('.c-last').innerText,
    timings: tr.querySelector('.c-time').innerText,
    expanded: tr.querySelector('.tog').getAttribute('aria-expanded') === 'true',
  })));
}

export async function fetchDoc(base) {
  const res = await fetch(new URL('backend-health', base + '/'));
  if (!res.ok) throw new Error('backend-health answered ' + res.status);
  return res.json();
}

export function flatten(doc) {
  const out = [];
  for (const p of doc.backendAddressPools) {
    for (const c of p.backendHttpSettingsCollection) {
      for (const s of c.servers) {
        out.push({ pool: p.backendAddressPool.name, settings: c.backendHttpSettings.name, server: s.address, s, c });
      }
    }
  }
  return out;
}

export const tripleKey = (r) => JSON.stringify([r.pool, r.settings, r.server]);
