import type { Page } from 'playwright-core';

/** A person in a real browser: opens the authorization URL, signs in when asked, and approves; resolves once the browser is back at the client's callback. */
export async function approveInPage(page: Page, url: string, username: string, password: string, clientName: string): Promise<void> {
  await page.goto(url);
  if (await page.isVisible('#username')) {
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  }
  await page.waitForSelector(`text=${clientName} wants to act for you`);
  await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[value=approve]')]);
}
