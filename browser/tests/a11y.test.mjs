// axe-core (default rules) on every public page, in light and dark colour schemes, and on the
// sign-in page. A violation of impact "serious" or "critical" fails the test; lesser ones are
// reported as diagnostics.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, assertNoSeriousAxeViolations } from './helpers.mjs';

/** Every <loc> in /sitemap.xml, as a path on the site under test (its origin may differ). */
async function sitemapPaths() {
  const res = await fetch(BASE + '/sitemap.xml');
  assert.equal(res.status, 200, 'GET /sitemap.xml should answer 200');
  const xml = await res.text();
  const locs = [...xml.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)].map((m) =>
    m[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'"));
  assert.ok(locs.length > 0, 'the sitemap lists at least one page');
  const paths = locs.map((loc) => {
    const u = new URL(loc, BASE);
    return u.pathname + u.search;
  });
  // The demo's main pages, so that a shrunken sitemap cannot quietly shrink this test.
  for (const p of ['/', '/controls', '/compliance', '/s/encryption', '/subprocessors', '/policies', '/faq']) {
    assert.ok(paths.includes(p), `the sitemap lists ${p} (it lists: ${paths.join(' ')})`);
  }
  return paths;
}

const pages = [...new Set([...(await sitemapPaths()), '/search?q=encryption', '/no-such-page'])];
const expectedStatus = (p) => (p === '/no-such-page' ? 404 : 200);

let browser;
const contexts = {};
before(async () => {
  browser = await launch();
  contexts.light = await browser.newContext({ colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  contexts.dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
});
after(async () => {
  await browser?.close();
});

/** Loads `path` in the given colour scheme, runs axe, fails on serious/critical violations. */
async function check(t, scheme, path, status) {
  const page = await contexts[scheme].newPage();
  try {
    const res = await page.goto(BASE + path, { waitUntil: 'load' });
    assert.equal(res.status(), status, `GET ${path} should answer ${status}`);
    const matches = await page.evaluate(() => window.matchMedia('(prefers-color-scheme: dark)').matches);
    assert.equal(matches, scheme === 'dark', `the page should see prefers-color-scheme: ${scheme}`);
    await assertNoSeriousAxeViolations(t, page, `${path} (${scheme})`);
  } finally {
    await page.close();
  }
}

// Two pages at a time (one renderer each): about twice as fast on a two-core machine.
describe('axe-core, default rules, no serious or critical violations', { concurrency: 2 }, () => {
  for (const scheme of ['light', 'dark']) {
    for (const path of pages) {
      test(`axe ${scheme}: ${path}`, { timeout: 60_000 }, (t) => check(t, scheme, path, expectedStatus(path)));
    }
  }
  test('axe light: /admin/login (sign-in page)', { timeout: 60_000 }, (t) => check(t, 'light', '/admin/login', 200));
  test('axe dark: /admin/login (sign-in page)', { timeout: 60_000 }, (t) => check(t, 'dark', '/admin/login', 200));
  test('axe light: /admin/forgot (password reset request)', { timeout: 60_000 }, (t) => check(t, 'light', '/admin/forgot', 200));
  test('axe dark: /admin/forgot (password reset request)', { timeout: 60_000 }, (t) => check(t, 'dark', '/admin/forgot', 200));
  for (const scheme of ['light', 'dark']) {
    test(`axe ${scheme}: /documents/request (access request form)`, { timeout: 60_000 }, (t) => check(t, scheme, '/documents/request', 200));
    test(`axe ${scheme}: /viewer/signin (viewer sign-in)`, { timeout: 60_000 }, (t) => check(t, scheme, '/viewer/signin', 200));
    // An emailed link that does not work gets its own page (the link page without its button).
    test(`axe ${scheme}: /documents/verify/<unknown> (a link that does not work)`, { timeout: 60_000 }, (t) => check(t, scheme, '/documents/verify/not-a-real-link', 404));
    test(`axe ${scheme}: /viewer/login/<unknown> (a sign-in link that does not work)`, { timeout: 60_000 }, (t) => check(t, scheme, '/viewer/login/not-a-real-link', 404));
    test(`axe ${scheme}: /subscribe (subscription form)`, { timeout: 60_000 }, (t) => check(t, scheme, '/subscribe', 200));
    test(`axe ${scheme}: /subscriptions/confirm/<unknown> (a link that does not work)`, { timeout: 60_000 }, (t) => check(t, scheme, '/subscriptions/confirm/not-a-real-link', 404));
  }
});
