// Layout on a narrow phone (360 px: no horizontal page scroll) and full-page screenshots of the
// home page at desktop and phone widths, saved under target/screenshots/ for people to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { launch, url, REPO_ROOT } from './helpers.mjs';

const SHOTS = path.join(REPO_ROOT, 'target', 'screenshots');

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

for (const p of ['/', '/s/encryption']) {
  test(`layout 360px: ${p} has no horizontal page scroll`, { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    try {
      const res = await page.goto(url(p));
      assert.equal(res.status(), 200);
      const m = await page.evaluate(() => {
        const de = document.documentElement;
        // The widest elements sticking out past the viewport, to say what to fix.
        const wide = [...document.body.querySelectorAll('*')]
          .map((el) => ({ el, right: el.getBoundingClientRect().right }))
          .filter((x) => x.right > de.clientWidth + 0.5)
          .sort((a, b) => b.right - a.right)
          .slice(0, 5)
          .map((x) => `${x.el.tagName.toLowerCase()}${x.el.id ? '#' + x.el.id : ''}${x.el.className && typeof x.el.className === 'string' ? '.' + x.el.className.trim().split(/\s+/).join('.') : ''} (right edge ${Math.round(x.right)}px)`);
        return { scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, innerWidth: window.innerWidth, wide };
      });
      assert.equal(m.innerWidth, 360, 'the viewport is 360 CSS pixels wide');
      assert.ok(m.scrollWidth <= 360,
        `${p} at 360px: document scrollWidth is ${m.scrollWidth} (> 360), so the page scrolls sideways; widest elements: ${m.wide.join(', ') || 'none found'}`);
    } finally {
      await context.close();
    }
  });
}

const shots = [
  { name: 'home.png', viewport: { width: 1280, height: 800 } },
  { name: 'home-mobile.png', viewport: { width: 375, height: 812 }, mobile: true },
];
for (const s of shots) {
  test(`screenshot: home page at ${s.viewport.width}px → target/screenshots/${s.name}`, { timeout: 60_000 }, async () => {
    mkdirSync(SHOTS, { recursive: true });
    const context = await browser.newContext({ viewport: s.viewport, ...(s.mobile ? { isMobile: true, hasTouch: true } : {}), deviceScaleFactor: 1 });
    const page = await context.newPage();
    try {
      const res = await page.goto(url('/'));
      assert.equal(res.status(), 200);
      const file = path.join(SHOTS, s.name);
      const png = await page.screenshot({ path: file, fullPage: true });
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the screenshot is a PNG');
      // Full-page: taller than one screen, and exactly as wide as the viewport.
      const width = png.readUInt32BE(16);
      const height = png.readUInt32BE(20);
      assert.equal(width, s.viewport.width, `${s.name} is ${s.viewport.width}px wide`);
      assert.ok(height > s.viewport.height, `${s.name} covers the full page (height ${height}px)`);
      assert.ok(statSync(file).size > 10_000, `${s.name} was written and is not blank`);
    } finally {
      await context.close();
    }
  });
}
