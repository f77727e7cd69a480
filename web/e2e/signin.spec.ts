/**
 * Sign-in flows against a real Cognito API (moto's stand-in in CI, started by
 * tests/web/test_signin_e2e.py): wrong password, first sign-in with a new password, staying
 * signed in across a reload, the message limit, phone + dark theme, an expired session, sign-out.
 *
 * Needs OPENCLAW_WEB_URL (the served build), OPENCLAW_E2E_USERNAME, OPENCLAW_E2E_TEMP_PASSWORD
 * (a user still in FORCE_CHANGE_PASSWORD) and OPENCLAW_E2E_NEW_PASSWORD.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DESKTOP, PHONE, env, launch, metric, missing, screenshot, timeToReady } from "./lib.ts";

const skip = missing(
  ["OPENCLAW_WEB_URL", "OPENCLAW_E2E_USERNAME", "OPENCLAW_E2E_TEMP_PASSWORD", "OPENCLAW_E2E_NEW_PASSWORD"],
  "run tests/web/test_signin_e2e.py (it serves the build against moto's Cognito), or point these at a deployment with a fresh user",
);

describe("sign-in in Chromium", { skip }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const url = () => env("OPENCLAW_WEB_URL");
  const username = () => env("OPENCLAW_E2E_USERNAME");

  before(async () => {
    browser = await launch();
    context = await browser.newContext(DESKTOP);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(url()).origin });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  it("shows the sign-in form quickly", async () => {
    const ms = await timeToReady(page, url(), "#username");
    metric("signin_interactive_ms", ms, "ms");
    await screenshot(page, "signin");
  });

  it("says clearly when the password is wrong", async () => {
    await page.getByLabel("Username", { exact: true }).fill(username());
    await page.getByLabel("Password", { exact: true }).fill("definitely-Wrong-1!");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.equal((await alert.textContent())?.trim(), "Incorrect username or password.");
    await screenshot(page, "signin-wrong-password");
  });

  it("asks for a new password on first sign-in, refuses a weak one, then opens the chat", async () => {
    await page.getByLabel("Password", { exact: true }).fill(env("OPENCLAW_E2E_TEMP_PASSWORD"));
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await screenshot(page, "new-password");

    await page.getByLabel("New password", { exact: true }).fill("weak");
    await page.getByLabel("Repeat it", { exact: true }).fill("weak");
    await page.keyboard.press("Enter");
    await page.getByRole("alert").filter({ hasText: "does not meet the pool's rules" }).waitFor();

    const strong = env("OPENCLAW_E2E_NEW_PASSWORD");
    await page.getByLabel("New password", { exact: true }).fill(strong);
    await page.getByLabel("Repeat it", { exact: true }).fill(strong);
    await page.keyboard.press("Enter");
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    assert.match(page.url(), /#\/c\/web-/);
    await screenshot(page, "chat-signed-in");
  });

  it("keeps a 100 KB paste and explains the limit instead of sending it", async () => {
    const box = page.getByRole("textbox", { name: "Message" });
    const paste = "0123456789abcdef".repeat(6400); // 102,400 characters
    await page.evaluate((text) => navigator.clipboard.writeText(text), paste);
    await box.focus();
    await page.keyboard.press("ControlOrMeta+V");
    await page.getByRole("alert").filter({ hasText: "This message is 102,400 characters; the limit is 32,000." }).waitFor();
    assert.equal((await box.inputValue()).length, paste.length);
    assert.equal(await page.getByRole("button", { name: "Send message" }).isDisabled(), true);
    await page.keyboard.press("Enter");
    assert.equal((await box.inputValue()).length, paste.length, "Enter must not send or clear text over the limit");
    await screenshot(page, "chat-limit");
    await box.fill("");
  });

  it("stays signed in across a reload", async () => {
    const ms = await timeToReady(page, null, "#composer");
    metric("chat_interactive_after_reload_ms", ms, "ms");
    assert.equal(await page.getByRole("heading", { name: "Sign in" }).count(), 0);
  });

  it("works on a phone screen in the dark theme, with the menu usable from the keyboard", async () => {
    const state = await context.storageState();
    const phone = await browser.newContext({ ...PHONE, storageState: state });
    phone.setDefaultTimeout(10_000);
    const small = await phone.newPage();
    await small.goto(url());
    const box = small.getByRole("textbox", { name: "Message" });
    await box.waitFor();
    const bg = await small.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, "rgb(22, 23, 27)", "dark theme background");
    const sidebar = small.locator("#sidebar");
    assert.equal(await sidebar.isVisible(), false, "the sidebar is a closed drawer on a phone");
    const width = await small.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways scrolling (page is ${width}px wide)`);
    await screenshot(small, "phone-dark-chat");

    await small.getByRole("button", { name: "Open menu" }).focus();
    await small.keyboard.press("Enter");
    await sidebar.waitFor({ state: "visible" });
    await small.waitForFunction(() => getComputedStyle(document.querySelector("#sidebar")!).transform === "none");
    assert.equal(await small.evaluate(() => document.activeElement?.textContent?.includes("New conversation")), true);
    await screenshot(small, "phone-dark-menu");
    for (let i = 0; i < 12; i++) {
      await small.keyboard.press("Tab"); // the page behind the drawer is inert: Tab never lands there
      assert.equal(await small.evaluate(() => !!document.activeElement?.closest(".main-column")), false);
    }
    await small.keyboard.press("Escape");
    await sidebar.waitFor({ state: "hidden" });
    assert.equal(await small.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Open menu");
    await phone.close();
  });

  it("signs out and stays signed out after a reload", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.getByLabel("Username", { exact: true }).inputValue(), username());
    const saved = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith(":auth")));
    assert.deepEqual(saved, []);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await screenshot(page, "signed-out");
  });

  it("signs in again with the new password, then treats a refused refresh as an expired session", async () => {
    await page.getByLabel("Password", { exact: true }).fill(env("OPENCLAW_E2E_NEW_PASSWORD"));
    await page.keyboard.press("Enter");
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    await page.getByRole("textbox", { name: "Message" }).fill("a draft that must survive");
    // Age the saved session and spoil its refresh token: Cognito now refuses to renew it.
    await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.endsWith(":auth"))!;
      const saved = JSON.parse(localStorage.getItem(key)!);
      saved.tokens.expiresAt = Date.now() - 1000;
      saved.tokens.refreshToken = "revoked-refresh-token";
      localStorage.setItem(key, JSON.stringify(saved));
    });
    await page.reload();
    await page.getByText("Your session has expired").waitFor();
    await screenshot(page, "session-expired");
    await page.getByLabel("Password", { exact: true }).fill(env("OPENCLAW_E2E_NEW_PASSWORD"));
    await page.keyboard.press("Enter");
    const box = page.getByRole("textbox", { name: "Message" });
    await box.waitFor();
    assert.equal(await box.inputValue(), "a draft that must survive");
  });
});
