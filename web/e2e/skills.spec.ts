/**
 * The Skills page through the local target: upload a skill archive, see the running agent load
 * it (its own report), a hostile archive refused beside the form, turn the skill off and remove it.
 * Started by tests/web/test_skills_web_e2e.py, which makes the archives and wakes the agent.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { DESKTOP, env, launch, missing, screenshot, signIn, timeToReady } from "./lib.ts";

const skip = missing(
  ["OPENCLAW_WEB_URL", "OPENCLAW_E2E_USERNAME", "OPENCLAW_E2E_PASSWORD", "OPENCLAW_E2E_SKILL_ARCHIVE", "OPENCLAW_E2E_HOSTILE_ARCHIVE"],
  "run tests/web/test_skills_web_e2e.py (it starts the local target and makes the archives)",
);

describe("skills through the local target", { skip }, () => {
  let browser: Browser;
  let page: Page;

  before(async () => {
    browser = await launch();
    const context = await browser.newContext(DESKTOP);
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  it("signs in and opens the Skills page", async () => {
    await timeToReady(page, env("OPENCLAW_WEB_URL"), "#username");
    await signIn(page, env("OPENCLAW_E2E_USERNAME"), env("OPENCLAW_E2E_PASSWORD"), process.env.OPENCLAW_E2E_NEW_PASSWORD);
    await page.getByRole("link", { name: "Skills" }).click();
    await page.getByRole("heading", { name: "Skills" }).first().waitFor();
  });

  it("refuses a hostile archive beside the form", async () => {
    const form = page.getByRole("form", { name: "Add a skill" });
    await form.getByLabel(/Skill archive/).setInputFiles(env("OPENCLAW_E2E_HOSTILE_ARCHIVE"));
    await form.getByRole("button", { name: "Add skill" }).click();
    const alert = form.getByRole("alert");
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? "", /leaves its folder/);
  });

  it("uploads a skill and sees the running agent load it", async () => {
    const form = page.getByRole("form", { name: "Add a skill" });
    await form.getByLabel(/Skill archive/).setInputFiles(env("OPENCLAW_E2E_SKILL_ARCHIVE"));
    await form.getByRole("button", { name: "Add skill" }).click();
    const item = page.getByRole("listitem", { name: "web-notes" });
    await item.waitFor();
    await item.getByText("loaded by the agent").waitFor({ timeout: 90_000 });
    await screenshot(page, "skills");
  });

  it("turns it off and removes it after a confirmation", async () => {
    const item = page.getByRole("listitem", { name: "web-notes" });
    await item.getByRole("checkbox", { name: "On" }).uncheck();
    await item.getByText("off", { exact: true }).waitFor();
    await item.getByRole("button", { name: "Remove" }).click();
    await item.getByRole("button", { name: "Yes, remove" }).click();
    await item.waitFor({ state: "detached" });
    await page.getByText("No skills of yours yet.").waitFor();
  });
});
