/**
 * Shared helpers for the browser flows: Debian's Chromium driven by playwright-core (no browser
 * download), screenshots under test-artifacts/screenshots/, timing lines for the report.
 *
 * Run with `npm run test:e2e` (node:test). Every spec reads its target from the environment and
 * skips, saying why, when it is not there.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, "..", "..");
export const SCREENSHOTS = process.env.OPENCLAW_SCREENSHOTS ?? join(REPO_ROOT, "test-artifacts", "screenshots");

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The first missing variable as a skip reason, or false when all are set. */
export function missing(names: string[], what: string): string | false {
  const absent = names.filter((n) => !process.env[n]);
  return absent.length ? `${absent.join(", ")} not set: ${what}` : false;
}

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.OPENCLAW_CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_FLAGS,
  });
}

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 }, colorScheme: "light" };
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  colorScheme: "dark",
};

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** A figure for the report: pytest collects these lines. */
export function metric(name: string, value: number, unit: string): void {
  console.log(`METRIC ${name}=${Math.round(value)} ${unit}`);
}

/**
 * Milliseconds from the start of navigation until `selector` is visible and enabled. With no
 * `url` the page reloads (going to the same URL with a hash would not load the document again).
 */
export async function timeToReady(page: Page, url: string | null, selector: string): Promise<number> {
  if (url === null) await page.reload();
  else await page.goto(url);
  await page.locator(selector).first().waitFor({ state: "visible" });
  await page.waitForFunction((s) => {
    const el = document.querySelector(s);
    return !!el && !(el as HTMLInputElement).disabled;
  }, selector);
  return page.evaluate(() => performance.now());
}

/**
 * Sign in with the keyboard alone. If the account still has its temporary password, choose
 * `newPassword` on the screen that follows.
 */
export async function signIn(page: Page, username: string, password: string, newPassword?: string): Promise<void> {
  await page.getByLabel("Username", { exact: true }).fill("");
  await page.getByLabel("Username", { exact: true }).focus();
  await page.keyboard.type(username);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  const chat = page.getByRole("textbox", { name: "Message" });
  const choose = page.getByRole("heading", { name: "Choose a new password" });
  await chat.or(choose).first().waitFor();
  if (await choose.isVisible()) {
    if (!newPassword) throw new Error("the account asks for a new password; set OPENCLAW_E2E_NEW_PASSWORD");
    await page.getByLabel("New password", { exact: true }).fill(newPassword);
    await page.getByLabel("Repeat it", { exact: true }).fill(newPassword);
    await page.keyboard.press("Enter");
    await chat.waitFor();
  }
}

/**
 * The agent's state as `GET /api/agent` reports it, asked from inside the signed-in page (its
 * config.json names the API, its stored session holds the token), not from what the page shows.
 */
export async function agentState(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const config = (await (await fetch(new URL("config.json", document.baseURI), { cache: "no-store" })).json()) as {
      apiUrl: string;
      deployment: string;
    };
    const deployment = config.deployment?.trim() || "default";
    const saved = JSON.parse(localStorage.getItem(`openclaw:${deployment}:auth`) ?? "{}") as { tokens?: { accessToken?: string } };
    const response = await fetch(`${config.apiUrl.replace(/\/+$/, "")}/api/agent`, {
      headers: { Authorization: `Bearer ${saved.tokens?.accessToken ?? ""}` },
      cache: "no-store",
    });
    if (!response.ok) throw new Error(`GET /api/agent answered HTTP ${response.status}`);
    return ((await response.json()) as { state: string }).state;
  });
}
