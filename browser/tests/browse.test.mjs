// A visitor browses the public trust center: home → a security-control page → Compliance.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, url, pathOf } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('browse: home → Encryption card → Compliance in the main nav', { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  try {
    const res = await page.goto(url('/'));
    assert.equal(res.status(), 200, 'GET / should answer 200');
    const h1 = page.locator('h1');
    assert.equal(await h1.count(), 1, 'the home page has exactly one h1');
    assert.match(await h1.innerText(), /Corvellan/, 'the home page h1 names the company');

    // A security-control card: the "Encryption" card's title link.
    const card = page.locator('.cards .card').filter({ has: page.getByRole('link', { name: 'Encryption', exact: true }) });
    assert.equal(await card.count(), 1, 'one security-control card is titled "Encryption"');
    await card.getByRole('link', { name: 'Encryption', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/s/encryption');
    assert.equal(pathOf(page), '/s/encryption');
    assert.equal((await page.locator('h1').innerText()).trim(), 'Encryption', 'the control page h1 is its title');
    assert.ok(await page.getByRole('heading', { level: 2, name: 'Encryption in transit' }).isVisible(),
      'the Encryption page lists its "Encryption in transit" control');

    // Main navigation → Compliance.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Compliance', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/compliance');
    assert.equal((await page.locator('h1').innerText()).trim(), 'Compliance');
    assert.equal(await nav.getByRole('link', { name: 'Compliance', exact: true }).getAttribute('aria-current'), 'page',
      'the nav marks Compliance as the current page');

    const names = (await page.locator('.cert-list .cert h2').allInnerTexts()).map((s) => s.trim());
    for (const expected of ['SOC 2 Type II', 'ISO/IEC 27001:2022']) {
      assert.ok(names.includes(expected), `the Compliance page lists "${expected}" (found: ${names.join('; ')})`);
    }
    const statuses = (await page.locator('.cert-list .cert .status').allInnerTexts()).map((s) => s.trim());
    assert.ok(statuses.includes('Expired'), `one certification reads "Expired" (statuses: ${statuses.join('; ')})`);
    const expired = page.locator('.cert-list .cert').filter({ has: page.locator('.status', { hasText: /^Expired$/ }) });
    assert.ok(await expired.first().isVisible(), 'the expired certification is visible');
  } finally {
    await context.close();
  }
});
