/**
 * The chat's controls through the local target: Stop ends a reply being written (it stays,
 * marked Stopped, and the next message is answered), a file attached reaches the agent (it reads
 * it with its own tool), a conversation renamed and one deleted stay so after a reload.
 *
 * Needs OPENCLAW_WEB_URL, OPENCLAW_E2E_USERNAME and OPENCLAW_E2E_PASSWORD; run by
 * tests/web/test_chat_controls_e2e.py, which starts the local target and wakes the agent first.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { DESKTOP, env, launch, missing, screenshot, signIn } from "./lib.ts";

const skip = missing(
  ["OPENCLAW_WEB_URL", "OPENCLAW_E2E_USERNAME", "OPENCLAW_E2E_PASSWORD"],
  "run tests/web/test_chat_controls_e2e.py (it starts the local target), or point these at a running one",
);
const REPLY_MS = 240_000;
const WORDS = Array.from({ length: 120 }, (_, i) => `word${i}`);
/** The offline model streams this reply slowly: one word every 400 ms, 48 s in all. */
const SLOW = `<<offline:${JSON.stringify({ reply: WORDS.join(" "), delay_ms: 400 })}>>`;

describe("chat controls through the local target", { skip }, () => {
  let browser: Browser;
  let page: Page;
  const stamp = Date.now();
  const first = `Count for me ${stamp} ${SLOW}`;

  before(async () => {
    browser = await launch();
    const context = await browser.newContext(DESKTOP);
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    await page.goto(env("OPENCLAW_WEB_URL"));
    await signIn(page, env("OPENCLAW_E2E_USERNAME"), env("OPENCLAW_E2E_PASSWORD"), process.env.OPENCLAW_E2E_NEW_PASSWORD);
  });
  after(async () => {
    await browser?.close();
  });

  it("stops a reply while it is written; it stays, marked Stopped, and the next message is answered", async () => {
    await page.getByRole("button", { name: "New conversation" }).click();
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill(first);
    await box.press("Enter");
    const reply = page.getByRole("article", { name: "Agent" }).first();
    await page.locator(".msg-assistant.status-streaming").waitFor({ timeout: REPLY_MS });
    await page.getByRole("article", { name: "Agent" }).filter({ hasText: "word3" }).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Stop" }).click();

    // "Stopping…" at once, "Stopped" once the agent's chat.final says where the reply ended.
    await reply.getByText("Stopped").waitFor();
    await page.getByRole("button", { name: "Stop" }).waitFor({ state: "detached" });
    // The agent really stopped: the reply does not grow any more.
    const shown = (await reply.locator(".markdown").textContent()) ?? "";
    await page.waitForTimeout(3_000);
    assert.equal((await reply.locator(".markdown").textContent()) ?? "", shown);
    assert.ok(!shown.includes(WORDS.at(-1)!), `the whole reply was written: ${shown}`);
    await screenshot(page, "chat-stopped");

    await box.fill(`And now? <<offline:{"reply": "Answered after the stop ${stamp}"}>>`);
    await box.press("Enter");
    await page.getByText(`Answered after the stop ${stamp}`).waitFor({ timeout: REPLY_MS });

    // History keeps the stopped reply as it ended, marked.
    await page.reload();
    const stopped = page.getByRole("article", { name: "Agent" }).filter({ hasText: "word0" });
    await stopped.getByText("Stopped").waitFor();
    assert.ok(!((await stopped.textContent()) ?? "").includes(WORDS.at(-1)!));
  });

  it("attaches a file; it goes to the bucket and the agent reads it in its workspace", async () => {
    const name = `e2e-notes-${stamp}.txt`;
    const secret = `The file says: blue harbour ${stamp}`;
    await page.getByLabel("Choose files to attach").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(secret) });
    const attached = page.getByRole("list", { name: "Attached files" });
    await attached.getByText(name).waitFor();
    await attached.getByText("Uploading…").waitFor({ state: "detached", timeout: 30_000 });
    assert.equal(await attached.locator(".attachment.failed").count(), 0, (await attached.textContent()) ?? "");
    const read = { tool: { name: "exec", arguments: { command: `cat attachments/*/${name}` } }, echo_tool_result: true };
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill(`What does it say? <<offline:${JSON.stringify(read)}>>`);
    await box.press("Enter");
    await page.getByRole("article", { name: "You" }).filter({ hasText: "What does it say?" }).locator(".file-chip", { hasText: name }).waitFor();
    await page.getByRole("article", { name: "Agent" }).filter({ hasText: secret }).waitFor({ timeout: REPLY_MS });
    await screenshot(page, "chat-attachment");
  });

  it("copies a reply", async () => {
    const answer = page.getByRole("article", { name: "Agent" }).filter({ hasText: `Answered after the stop ${stamp}` });
    await answer.getByRole("button", { name: "Copy reply" }).click();
    await answer.getByRole("button", { name: "Copy reply" }).filter({ hasText: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `Answered after the stop ${stamp}`);
  });

  it("renames the conversation, and the name stays after a reload", async () => {
    const title = `Counting ${stamp}`;
    const current = page.locator(".conversations li").filter({ has: page.locator('a[aria-current="page"]') });
    await current.getByRole("button", { name: /^Rename / }).click();
    const name = page.getByRole("textbox", { name: "New name" });
    await name.fill(title);
    await name.press("Enter");
    await page.getByRole("link", { name: new RegExp(title) }).waitFor();
    await page.reload();
    await page.getByRole("link", { name: new RegExp(title) }).waitFor();
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), title);
  });

  it("deletes the conversation after asking, and it stays gone after a reload", async () => {
    const title = `Counting ${stamp}`;
    const deletedUrl = page.url();
    await page.getByRole("button", { name: `Delete ${title}` }).click();
    const ask = page.getByRole("group", { name: `Delete ${title}` });
    await ask.getByText(/and its history\?/).waitFor();
    await ask.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("link", { name: new RegExp(title) }).waitFor({ state: "detached" });
    // The page moves to a new conversation: nothing of the deleted one is shown.
    await page.getByRole("article").first().waitFor({ state: "detached" });
    assert.notEqual(page.url(), deletedUrl);
    await page.reload();
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    await page.locator(".conversations").waitFor();
    await page.waitForTimeout(1_000);
    assert.equal(await page.getByRole("link", { name: new RegExp(title) }).count(), 0);
  });
});
