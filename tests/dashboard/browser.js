/* What every browser test starts with: Debian's chromium through Playwright, a fresh
 * profile under KK_TMP, a 1280x860 window in Chinese and the city's time zone. */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

/* The context and its first page; options are added to the context's (acceptDownloads). */
async function openBrowser(env, options) {
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(env.KK_TMP, 'chromium-')), Object.assign({
    executablePath: env.KK_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  }, options || {}));
  const page = context.pages()[0] || (await context.newPage());
  return { context, page };
}

module.exports = { openBrowser };
