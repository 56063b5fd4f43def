// The public status page in a browser: the banner and the 90-day bars show, a day's details
// appear when it gets keyboard focus (and are in the page's text for screen readers), and axe
// finds nothing serious on the status pages, in light and dark colour schemes, with a day's
// tooltip open.
//
// The demo has no status page of its own, so the test first fills the server's database with
// a small one (crates/candor-web/examples/status_seed.rs, one transaction) and waits for the
// server's content watcher to show it, as it shows a change made by another instance.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { launch, url, REPO_ROOT, assertNoSeriousAxeViolations } from './helpers.mjs';

const DATA = process.env.CANDOR_BROWSER_DATA;
const COMPONENTS = 6;

/** Builds (when missing) and runs the seeding example against the server's database. */
function seed() {
  assert.ok(DATA, 'CANDOR_BROWSER_DATA (the server\'s data directory) is set by browser/run.sh');
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target');
  const bin = path.join(target, 'debug', 'examples', 'status_seed');
  if (!existsSync(bin)) {
    execFileSync('cargo', ['build', '-q', '-p', 'candor-web', '--example', 'status_seed'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  execFileSync(bin, [`sqlite://${path.join(DATA, 'candor.db')}`, String(COMPONENTS), '2'], { stdio: 'inherit' });
}

let browser;
before(async () => {
  seed();
  // The content watcher looks every 5 s.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const html = await (await fetch(url('/status'))).text();
    if (html.includes('Service 01')) break;
    assert.ok(Date.now() < deadline, 'the seeded status page never showed on /status');
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await launch();
}, { timeout: 600_000 });
after(async () => {
  await browser?.close();
});

/** The focused element's tag, class and its tooltip's text and box. */
function focusedDay(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const tip = el?.querySelector('span');
    const box = tip?.getBoundingClientRect();
    return {
      isDay: !!el?.closest('.uptime-bar') && el.tagName === 'LI',
      text: tip?.textContent ?? '',
      width: box?.width ?? 0,
      height: box?.height ?? 0,
    };
  });
}

test('status: banner, bars, and a day\'s details on keyboard focus', { timeout: 120_000 }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    const res = await page.goto(url('/status'));
    assert.equal(res.status(), 200);
    const banner = page.locator('.status-banner');
    // At least the seeded open minor incident; an incident another test left open may be worse.
    assert.match(await banner.innerText(), /Minor service disruption|Partial system outage|Major system outage/, 'the banner says how things are (an open incident)');
    // The demo's own components are there too (seeded at first start).
    assert.ok(await page.locator('.uptime-bar').count() >= COMPONENTS, 'a bar for each seeded component');
    assert.equal(await page.locator('.uptime-bar').first().locator('li').count(), 90, '90 days a bar');
    const bar = page.getByRole('list', { name: 'Service 01: the last 90 days' });
    assert.equal(await bar.count(), 1, 'a bar is a list named after its component');

    // No tooltip before anything has focus.
    const firstTip = page.locator('.uptime-bar li span').first();
    assert.ok((await firstTip.boundingBox()).width <= 1, 'the details are hidden until focus');

    // Tab from the top of the page until a day has focus.
    let day = null;
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      const f = await focusedDay(page);
      if (f.isDay) {
        day = f;
        break;
      }
    }
    assert.ok(day, 'a day of the first bar is reachable with Tab');
    assert.match(day.text, /^\d{1,2} [A-Z][a-z]+ \d{4}: (\d{1,3}\.\d\d% uptime, [a-z ]+|no data)$/, `the day says its date, uptime and worst status: "${day.text}"`);
    assert.ok(day.width > 50 && day.height > 10, 'the details show as a tooltip while the day has focus');
    await page.keyboard.press('Tab');
    const next = await focusedDay(page);
    assert.ok(next.isDay && next.text !== day.text, 'Tab moves to the next day, which shows its own date');
    // The screen-reader text is the day's own content: its accessible name.
    const name = await page.evaluate(() => document.activeElement.textContent);
    assert.equal(name, next.text);
    await assertNoSeriousAxeViolations(t, page, '/status with a day focused');

    // The last day of a bar keeps its tooltip inside the page.
    await page.locator('.uptime-bar').first().locator('li').last().focus();
    const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scroll with the last day's tooltip open (${overflow}px)`);
  } finally {
    await context.close();
  }
});

test('status: no sideways scroll on a phone with a tooltip open', { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  try {
    await page.goto(url('/status'));
    for (const n of [0, 45, 89]) {
      await page.locator('.uptime-bar').first().locator('li').nth(n).focus();
      const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth);
      assert.ok(overflow <= 0, `day ${n + 1}: no sideways scroll at 360 px (${overflow}px)`);
    }
  } finally {
    await context.close();
  }
});

test('status: axe on the status pages and the home page\'s banner', { timeout: 180_000 }, async (t) => {
  for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    try {
      for (const p of ['/status', '/status/notices', '/status/history', '/status/incidents/1', '/status/maintenance/1', '/']) {
        const res = await page.goto(url(p));
        assert.equal(res.status(), 200, `GET ${p}`);
        await assertNoSeriousAxeViolations(t, page, `${p} (${scheme})`);
      }
      assert.match(await page.locator('.home-status').innerText(), /Minor service disruption|Partial system outage|Major system outage/, 'the home page shows the overall status');
      await page.locator('.home-status a').click();
      await page.waitForURL((u) => u.pathname === '/status');
    } finally {
      await context.close();
    }
  }
});
