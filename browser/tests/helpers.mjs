// Shared helpers for Candor's browser tests (not a test file itself: node --test only picks up
// files named *.test.mjs in this folder).
//
// The server is started by browser/run.sh, which passes its address in CANDOR_URL and the owner's
// one-time setup link in CANDOR_SETUP_LINK.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The site under test, without a trailing slash. */
export const BASE = (process.env.CANDOR_URL || '').replace(/\/+$/, '');
if (!BASE) {
  throw new Error('CANDOR_URL is not set: run the browser tests with `bash browser/run.sh` from the repo root');
}

/** The repository root (browser/tests/ is two levels down). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Debian's chromium; Playwright never downloads a browser of its own here. */
export const CHROMIUM = process.env.CANDOR_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Launches Debian's chromium through playwright-core. */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}

/** Absolute URL on the site under test for a path like "/s/encryption". */
export function url(p) {
  return BASE + p;
}

/** The path (with query) of a page's current URL. */
export function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

/**
 * axe-core's browser bundle. The site's CSP is `script-src 'none'`, so page.addScriptTag is
 * blocked; page.evaluate runs the source through the DevTools protocol, which CSP does not govern.
 */
export const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core with its default rules on the page as it is now and returns its results. */
export async function runAxe(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) {
    await page.evaluate(AXE_SOURCE);
  }
  return page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
}

/** One line per violating element: rule id, impact, target selector, what is wrong. */
export function describeViolations(violations, where) {
  const lines = [];
  for (const v of violations) {
    for (const n of v.nodes) {
      const target = n.target.map((t) => (Array.isArray(t) ? t.join(' >> ') : t)).join(' | ');
      const why = (n.failureSummary || '').replace(/\s+/g, ' ').trim();
      lines.push(`  [${v.impact}] ${v.id} on ${where}\n      target: ${target}\n      html:   ${n.html.replace(/\s+/g, ' ').slice(0, 200)}\n      why:    ${why.slice(0, 300)}\n      help:   ${v.help} (${v.helpUrl})`);
    }
  }
  return lines.join('\n');
}

/** axe impacts that fail a test; "moderate" and "minor" are only reported. */
export const FAILING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Runs axe on `page` as it is now: fails (assert) on any serious or critical violation, listing
 * them; reports lesser ones as TAP diagnostics of test context `t`. `where` names the page.
 */
export async function assertNoSeriousAxeViolations(t, page, where) {
  const { violations } = await runAxe(page);
  const minor = violations.filter((v) => !FAILING_IMPACTS.has(v.impact));
  if (minor.length > 0) {
    // TAP diagnostics are one line each.
    t.diagnostic('axe, not failing (moderate/minor):');
    for (const line of describeViolations(minor, where).split('\n')) t.diagnostic(line);
  }
  const bad = violations.filter((v) => FAILING_IMPACTS.has(v.impact));
  if (bad.length > 0) {
    const text = describeViolations(bad, where);
    console.error(`\naxe found serious/critical violations on ${where}:\n${text}\n`);
    assert.fail(`${bad.length} serious/critical axe rule(s) violated on ${where}:\n${text}`);
  }
}
