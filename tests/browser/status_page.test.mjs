// The status page of a running exporter, in Debian's headless Chromium:
//   node status_page.test.mjs BASE_URL SCREENSHOT.png EXPECT.json
// EXPECT.json (written by run_status_page_test.py once /backend-health has settled):
//   { rows: [{pool, settings, server, state, reason}], hostilePool }
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  fetchDoc, flatten, launch, makeRunner, refreshCount, tripleKey, visibleRows, waitForRefreshes,
  watchPage,
} from './lib.mjs';

const [base, screenshot, expectPath] = process.argv.slice(2);
if (!base || !screenshot || !expectPath) {
  console.error('usage: node status_page.test.mjs BASE_URL SCREENSHOT.png EXPECT.json');
  process.exit(2);
}
const expected = JSON.parse(await readFile(expectPath, 'utf8'));
const LABEL = { healthy: 'Healthy', unhealthy: 'Unhealthy', unknown: 'Unknown' };
const count = (st) => expected.rows.filter((r) => r.state === st).length;

const run = makeRunner();
// A short viewport so the filtered page scrolls (the scroll position must survive refreshes).
const browser = await launch({ viewport: { width: 1440, height: 640 } });
const { page } = browser;
const problems = watchPage(page, base);

const q = (v) => JSON.stringify(v); // a CSS string literal
function rowLocator(pool, settings, server) {
  return page.locator(`#groups tr.row[data-pool=${q(pool)}][data-settings=${q(settings)}][data-server=${q(server)}]`);
}
function groupLocator(pool, settings) {
  return page.locator(`section.group[data-pool=${q(pool)}][data-settings=${q(settings)}]`);
}

try {
  await run.step('page loads from the exporter and renders its data', async () => {
    const res = await page.goto(base + '/');
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^text\/html/);
    await waitForRefreshes(page, 1);
    assert.equal(await page.title(), 'Backend Health');
    await page.getByRole('heading', { level: 1, name: 'Backend Health' }).waitFor();
    const live = page.getByRole('status');
    assert.match(await live.textContent(), /Auto-refresh every 5 s/);
    assert.equal(await live.getAttribute('aria-live'), 'polite');
  });

  await run.step('every server: state (text and colour), reason, details, hint, since, last probe, timings', async () => {
    // Compare with the very document the page rendered: pause, refresh once, keep its response.
    await page.getByRole('button', { name: 'Pause auto-refresh' }).click();
    const n = await refreshCount(page);
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/backend-health'),
      page.getByRole('button', { name: 'Refresh now' }).click(),
    ]);
    const doc = await response.json();
    await waitForRefreshes(page, n + 1);
    const byKey = new Map(flatten(doc).map((r) => [tripleKey(r), r.s]));
    const rows = await visibleRows(page);
    await page.getByRole('button', { name: 'Resume auto-refresh' }).click();
    assert.equal(rows.length, expected.rows.length, 'one row per server, all on page 1');
    for (const e of expected.rows) {
      const key = tripleKey(e);
      const row = rows.find((r) => tripleKey(r) === key);
      assert.ok(row, 'no row for ' + key);
      const json = byKey.get(key);
      assert.equal(row.state, e.state, key);
      assert.equal(row.stateText, LABEL[e.state], key);
      assert.equal(row.address, e.server, key);
      assert.equal(row.details, json.details, key);
      if (e.reason) {
        assert.equal(row.reason, e.reason, key);
        assert.ok(json.hint && json.hint.length > 20, 'the exporter gives a hint for ' + e.reason);
        assert.equal(row.hint, json.hint, key);
      } else {
        assert.equal(row.reason, '', key);
        assert.equal(row.hint, '\u2014', key);
      }
      assert.match(row.since, /(ago|just now)\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, key);
      if (e.reason === 'not_yet_probed') {
        assert.match(row.last, /^never\nno probe completed yet/, key);
        assert.equal(row.timings.trim(), '\u2014', key);
      } else {
        assert.match(row.last, /(ago|just now)\n(\u2713 success|\u2715 failed)/, key);
        assert.match(row.timings, /^[\d.]+ m?s/, key);
      }
    }
    const colours = new Set(['healthy', 'unhealthy', 'unknown']
      .map((st) => rows.find((r) => r.state === st).badgeColor));
    assert.equal(colours.size, 3, 'three states, three colours: ' + [...colours].join(' '));
  });

  await run.step('summary lines per pool/settings and for the whole exporter', async () => {
    const sum = (pool, settings) => groupLocator(pool, settings).locator('.gsum').textContent();
    assert.equal(await sum('shop', 'shop-http'), '1 of 3 healthy \u00B7 2 unhealthy');
    assert.equal(await sum('api', 'missing'),
      '0 of 1 healthy \u00B7 all unhealthy: clients get 502 Bad Gateway');
    assert.equal(await sum('names', 'names-http'), '1 of 3 healthy \u00B7 1 unhealthy, 1 unknown');
    assert.match(await sum('later', 'daily'), /^0 of 1 healthy \u00B7 all unknown: .*502 Bad Gateway$/);
    assert.match(await groupLocator('api', 'missing').locator('.gmeta').textContent(),
      /^Http \u00B7 port \d+ \u00B7 probe missing \u00B7 path \/missing$/);
    const totals = await page.locator('#totals').textContent();
    assert.ok(totals.startsWith(`${expected.rows.length} servers in 6 pools`), totals);
    assert.ok(totals.endsWith(`${count('healthy')} healthy \u00B7 ${count('unhealthy')} unhealthy \u00B7 ` +
      `${count('unknown')} unknown`), totals);
    assert.match(await page.locator('#headline').textContent(),
      /^\d+ of \d+ pool\/settings pairs have no healthy server: clients get 502 Bad Gateway$/);
    // The filter buttons carry the counts.
    for (const st of ['healthy', 'unhealthy', 'unknown']) {
      assert.equal(await page.locator(`[data-count="${st}"]`).textContent(), String(count(st)));
    }
  });

  await run.step('names from the config are text, never markup', async () => {
    const h2 = groupLocator(expected.hostilePool, 'shop-http').locator('h2');
    assert.equal(await h2.textContent(), expected.hostilePool + '\u203Ashop-http');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('img, b').count(), 0);
  });

  await run.step('accessible structure: table headers, labelled controls, live status', async () => {
    const groups = await page.locator('section.group').count();
    assert.equal(await page.getByRole('table').count(), groups);
    assert.equal(await page.getByRole('columnheader', { name: 'State' }).count(), groups);
    assert.equal(await page.getByRole('rowheader').count(), expected.rows.length);
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
    await page.getByRole('combobox', { name: 'Rows per page' }).waitFor();
    assert.equal(await page.getByRole('radiogroup', { name: 'State' }).or(page.getByRole('group', { name: 'State' })).count(), 1);
  });

  let openKey = null;
  let scrolledTo = 0;
  await run.step('filter by state: only unhealthy rows; search narrows further', async () => {
    await page.getByRole('radio', { name: /^Unhealthy/ }).check();
    let rows = await visibleRows(page);
    assert.equal(rows.length, count('unhealthy'));
    assert.ok(rows.every((r) => r.state === 'unhealthy' && r.stateText === 'Unhealthy'));
    assert.match(page.url(), /#state=unhealthy$/);

    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'q', '"/" focuses the search');
    await page.keyboard.type('api mismatch');
    await page.waitForFunction(() => document.querySelectorAll('#groups tr.row').length === 2);
    rows = await visibleRows(page);
    assert.deepEqual(rows.map((r) => r.reason).sort(), ['http_body_mismatch', 'http_status_mismatch']);
    await page.getByRole('searchbox', { name: 'Search' }).fill('api');
    await page.waitForFunction(() => document.querySelectorAll('#groups tr.row').length === 5);
    assert.match(page.url(), /#state=unhealthy&q=api$/);

    // Open one row's details (the hint in full, the last probe) and scroll down a little.
    const row = rowLocator('api', 'missing', '127.0.0.1');
    await row.getByRole('button', { name: 'Show probe details of 127.0.0.1' }).click();
    const more = page.locator('tr.more');
    assert.equal(await more.count(), 1);
    const doc = await fetchDoc(base);
    const json = flatten(doc).find((r) => r.pool === 'api' && r.settings === 'missing').s;
    assert.equal(await more.locator('.hint-full').textContent(), json.hint);
    assert.match(await more.textContent(), /HTTP status404/);
    openKey = 'api/missing';
    await page.evaluate(() => window.scrollTo(0, 120));
    scrolledTo = await page.evaluate(() => window.scrollY);
    assert.ok(scrolledTo > 0, 'the filtered page is taller than the viewport');
  });

  async function assertFilteredView(what) {
    assert.ok(await page.getByRole('radio', { name: /^Unhealthy/ }).isChecked(), what + ': filter kept');
    assert.equal(await page.getByRole('searchbox', { name: 'Search' }).inputValue(), 'api', what + ': search kept');
    const rows = await visibleRows(page);
    assert.equal(rows.length, 5, what);
    assert.ok(rows.every((r) => r.state === 'unhealthy' && r.pool === 'api'), what);
    const open = rows.filter((r) => r.expanded);
    assert.deepEqual(open.map((r) => r.pool + '/' + r.settings), [openKey], what + ': expanded row kept');
    assert.equal(await page.locator('tr.more').count(), 1, what);
    assert.match(page.url(), /#state=unhealthy&q=api$/, what);
  }

  await run.step('auto-refresh keeps filter, search, expanded row, focus and scroll', async () => {
    const toggle = rowLocator('api', 'missing', '127.0.0.1').locator('button.tog');
    await toggle.focus();
    await page.evaluate((y) => window.scrollTo(0, y), scrolledTo);
    const before = await refreshCount(page);
    await waitForRefreshes(page, before + 1, 15000);
    await assertFilteredView('after auto-refresh');
    assert.equal(await page.evaluate(() => window.scrollY), scrolledTo, 'scroll kept');
    assert.ok(await toggle.evaluate((el) => el === document.activeElement), 'focus kept');
  });

  await run.step('a page reload keeps them too (URL hash, session storage)', async () => {
    await page.reload();
    await waitForRefreshes(page, 1);
    await assertFilteredView('after reload');
    const y = await page.evaluate(() => window.scrollY);
    assert.ok(Math.abs(y - scrolledTo) <= 2, `scroll restored: ${y} vs ${scrolledTo}`);
  });

  await run.step('pause stops auto-refresh; resume refreshes at once', async () => {
    const pause = page.getByRole('button', { name: 'Pause auto-refresh' });
    await pause.click();
    const resume = page.getByRole('button', { name: 'Resume auto-refresh' });
    assert.equal(await resume.getAttribute('aria-pressed'), 'true');
    assert.match(await page.getByRole('status').textContent(), /^Auto-refresh paused/);
    const n = await refreshCount(page);
    await page.waitForTimeout(6500);
    assert.equal(await refreshCount(page), n, 'no refresh while paused');
    await resume.click();
    await waitForRefreshes(page, n + 1, 5000);
    assert.match(await page.getByRole('status').textContent(), /^Auto-refresh every 5 s/);
  });

  await run.step('clearing the filter shows every server again', async () => {
    await page.getByRole('radio', { name: /^All/ }).check();
    await page.getByRole('searchbox', { name: 'Search' }).fill('');
    await page.waitForFunction((n) => document.querySelectorAll('#groups tr.row').length === n, expected.rows.length);
    assert.ok(!page.url().includes('#'), page.url());
    await page.getByRole('button', { name: 'Collapse all' }).click();
    assert.equal(await page.locator('tr.more').count(), 0);
  });

  await run.step('the summary links each pool/settings with no healthy server to its table', async () => {
    await page.locator('#summary').getByRole('button', { name: 'later \u203A daily' }).click();
    const focused = await page.evaluate(() => {
      const sec = document.activeElement.closest('section.group');
      return sec && [sec.dataset.pool, sec.dataset.settings, document.activeElement.tagName];
    });
    assert.deepEqual(focused, ['later', 'daily', 'H2']);
    assert.ok(await groupLocator('later', 'daily').isVisible());
  });

  // HTTPS: the presented chain one click away. With TLS probing in the build, the exporter's own
  // chain (leaf + root) is shown; without it, the same view is checked on a chain added to the
  // exporter's real document in flight (route), so the view is tested either way.
  await run.step('FQDN server probed at two addresses: a "1/2" badge and a row per address; draining marked', async () => {
    const row = rowLocator('names', 'names-http', 'multi.test');
    const badge = row.locator('.members');
    assert.equal(await badge.isVisible(), true);
    assert.equal(await badge.textContent(), '1/2');
    assert.equal(await badge.getAttribute('title'), '1 of 2 addresses healthy');
    // A single-address server has no badge.
    assert.equal(await rowLocator('names', 'names-http', 'good.test').locator('.members').isVisible(), false);
    await row.getByRole('button', { name: 'Show probe details of multi.test' }).click();
    const table = page.getByRole('table', { name: 'Addresses of multi.test' });
    await table.waitFor();
    const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.deepEqual(cells.map((c) => c.slice(0, 3)), [
      ['127.0.0.1', '\u25CF Healthy', ''],
      ['127.0.0.2', '\u2715 Unhealthy', 'tcp_connect_error'],
    ]);
    assert.match(cells[1][3], /^Connect to 127\.0\.0\.2:\d+ failed: connection refused/);
    await row.getByRole('button', { name: 'Hide probe details of multi.test' }).click();

    const drain = rowLocator('shop', 'shop-http', '127.0.0.3').locator('.drain');
    assert.equal(await drain.isVisible(), true);
    assert.equal(await drain.textContent(), 'Draining');
    assert.equal(await rowLocator('shop', 'shop-http', '127.0.0.2').locator('.drain').isVisible(), false);
  });

  await run.step('HTTPS server: certificate chain one click away', async () => {
    const doc = await fetchDoc(base);
    const withTls = flatten(doc).filter((r) => r.s.lastProbe && r.s.lastProbe.tls);
    let target;
    let chain;
    if (withTls.length) {
      target = withTls.find((r) => r.settings === 'tls-ok') || withTls[0];
      chain = target.s.lastProbe.tls.chain;
      console.log(`     real chain from the exporter: ${chain.length} certificates on ${target.pool}/${target.settings}`);
    } else {
      console.log('     no TLS data in /backend-health yet (TLS probing not in this build): chain view checked on injected data');
      const now = Date.now();
      const iso = (ms) => new Date(ms).toISOString().slice(0, 19) + 'Z';
      chain = [
        { position: 0, subject: 'CN=localhost <script>window.__xss=2</script>', issuer: 'CN=BHE Test Intermediate', notBefore: iso(now - 86400e3), notAfter: iso(now + 5 * 86400e3), isCA: false },
        { position: 1, subject: 'CN=BHE Test Intermediate', issuer: 'CN=BHE Test Root CA', notBefore: iso(now - 400 * 86400e3), notAfter: iso(now - 3 * 86400e3), isCA: true },
        { position: 2, subject: 'CN=BHE Test Root CA', issuer: 'CN=BHE Test Root CA', notBefore: iso(now - 400 * 86400e3), notAfter: iso(now + 900 * 86400e3), isCA: true },
      ];
      await page.route((url) => url.pathname.endsWith('/backend-health'), async (route) => {
        const response = await route.fetch();
        const json = await response.json();
        for (const p of json.backendAddressPools) {
          for (const c of p.backendHttpSettingsCollection) {
            if (p.backendAddressPool.name !== 'tls' || c.backendHttpSettings.name !== 'tls-ok') continue;
            const s = c.servers[0];
            s.lastProbe = s.lastProbe || { time: new Date().toISOString(), success: false, result: s.reason, details: s.details, address: '127.0.0.1', httpStatus: 0, dnsStale: false, durationSeconds: { dns: 0, connect: 0.0002, tls: 0.003, http: 0, total: 0.0032 } };
            s.lastProbe.tls = { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', chain };
          }
        }
        await route.fulfill({ response, json });
      });
      const n = await refreshCount(page);
      await page.getByRole('button', { name: 'Refresh now' }).click();
      await waitForRefreshes(page, n + 1);
      target = { pool: 'tls', settings: 'tls-ok', server: '127.0.0.1' };
    }
    const row = rowLocator(target.pool, target.settings, target.server);
    const button = row.getByRole('button', { name: `Certificate chain (${chain.length})` });
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    await button.click();
    assert.equal(await button.getAttribute('aria-expanded'), 'true');
    const table = page.getByRole('table', { name: 'Certificate chain presented by ' + target.server });
    await table.waitFor();
    const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.equal(cells.length, chain.length);
    chain.forEach((c, i) => {
      assert.equal(cells[i][0], String(c.position));
      assert.equal(cells[i][1], c.subject);
      assert.equal(cells[i][2], c.issuer);
      assert.ok(cells[i][3].startsWith(c.notAfter.slice(0, 10)), cells[i][3]);
      assert.equal(cells[i][4], c.isCA ? 'CA' : 'end entity');
    });
    // No check_revocation on these settings: no revocation column.
    assert.equal(await table.getByRole('columnheader', { name: 'Revocation' }).count(), 0);
    assert.ok(cells.every((row) => row.length === 5), JSON.stringify(cells));
    if (!withTls.length) {
      assert.match(cells[1][3], /expired \d+d \d+h ago/);
      assert.match(cells[0][3], /\(in 4d 23h\)|\(in 5d 0h\)/);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.locator('#groups script').count(), 0);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log('     screenshot: ' + screenshot);
    await page.unrouteAll({ behavior: 'wait' });
  });

  // check_revocation: each certificate of the verified path shows its revocation state, with the
  // answer that decided as its title; revoked and unknown stand out. The states are put on the
  // exporter's real document in flight (the revocation e2e test checks the exporter's own).
  await run.step('certificate chain view: revocation state per certificate', async () => {
    const states = ['revoked (OCSP)', 'unknown', 'no revocation information'];
    await page.route((url) => url.pathname.endsWith('/backend-health'), async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      for (const p of json.backendAddressPools) {
        for (const c of p.backendHttpSettingsCollection) {
          if (p.backendAddressPool.name !== 'tls' || c.backendHttpSettings.name !== 'tls-ok') continue;
          const s = c.servers[0];
          if (!s.lastProbe || !s.lastProbe.tls) continue;
          s.lastProbe.tls.chain.forEach((cert, i) => {
            cert.revocation = i < states.length ? states[i] : null;
            cert.revocationDetails = i === 0 ? 'OCSP http://127.0.0.1:9/: revoked at 2026-01-01T00:00:00Z, reason keyCompromise (1) <b>x</b>' : '';
          });
        }
      }
      await route.fulfill({ response, json });
    });
    const n = await refreshCount(page);
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await waitForRefreshes(page, n + 1);
    const table = page.getByRole('table', { name: 'Certificate chain presented by 127.0.0.1' });
    if (await table.count() === 0) {
      await rowLocator('tls', 'tls-ok', '127.0.0.1').getByRole('button', { name: /^Certificate chain/ }).click();
    }
    await table.getByRole('columnheader', { name: 'Revocation' }).waitFor();
    const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => {
      const td = tr.cells[5];
      return [td.textContent, td.className, td.getAttribute('title')];
    }));
    assert.equal(cells[0][0], 'revoked (OCSP)');
    assert.equal(cells[0][1], 'bad');
    assert.match(cells[0][2], /reason keyCompromise \(1\) <b>x<\/b>$/); // text, never markup
    if (cells.length > 1) {
      assert.deepEqual(cells[1].slice(0, 2), ['unknown', 'warn']);
    }
    if (cells.length > 3) assert.equal(cells[3][0], 'not checked');
    await page.unrouteAll({ behavior: 'wait' });
  });

  await run.step('no script errors, console errors or requests outside the exporter', async () => {
    assert.deepEqual(problems, []);
  });
} catch (e) {
  // reported by the step runner
} finally {
  await browser.close();
}
process.exit(run.finish() ? 0 : 1);
