import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Api } from "../api/http";
import { localKeyValue } from "../lib/persist";
import { ChatClient } from "../protocol/client";
import { MAX_TEXT_CHARS } from "../protocol/contract";
import { FakeSocket, jsonFetch, type FakeReply, type FakeRequest } from "../test/fakes";
import { ChatController, limitMessage, mergeHistory, replyId, titleFrom, type ChatMessage, type Thread } from "./chat";

const PREFIX = "openclaw:t:";

function controller(handler: (req: FakeRequest) => FakeReply = defaultApi) {
  const fetch = jsonFetch(handler);
  const api = new Api("https://api.test", { accessToken: async () => "tok", expire: () => {} }, fetch);
  const client = new ChatClient({
    getTicket: () => api.wsTicket(),
    wsUrl: "wss://ws.test/",
    createSocket: (url) => new FakeSocket(url),
    network: { isOnline: () => true, subscribe: () => () => {} },
    random: () => 0.5,
  });
  const chat = new ChatController(api, client, localKeyValue(localStorage), PREFIX);
  return { chat, client, fetch };
}

function defaultApi(req: FakeRequest): FakeReply {
  if (req.url.pathname === "/api/ws-ticket") return { body: { ticket: "T" } };
  if (req.url.pathname === "/api/conversations") return { body: { conversations: [] } };
  if (req.url.pathname.endsWith("/messages")) return { body: { messages: [], next: null } };
  return { status: 404, body: {} };
}

async function connected(handler?: (req: FakeRequest) => FakeReply) {
  const made = controller(handler);
  made.chat.start();
  made.chat.open("s1");
  await vi.advanceTimersByTimeAsync(5);
  FakeSocket.latest().open();
  return { ...made, socket: FakeSocket.latest() };
}

const messages = (chat: ChatController, session = "s1") => chat.store.get().threads[session]?.messages ?? [];

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe("ChatController", () => {
  it("sends a message, marks it sent on ack, and lists the conversation", async () => {
    const { chat, socket } = await connected();
    expect(chat.send("Hello there\nsecond line")).toBeNull();
    const [mine] = messages(chat);
    expect(mine).toMatchObject({ role: "user", text: "Hello there\nsecond line", status: "sending" });
    expect(socket.sentOfType("chat.send")).toEqual([{ type: "chat.send", id: mine!.id, session: "s1", text: "Hello there\nsecond line" }]);
    socket.receive({ type: "ack", id: mine!.id });
    expect(messages(chat)[0]!.status).toBe("sent");
    expect(chat.store.get().conversations[0]).toMatchObject({ session: "s1", title: "Hello there" });
  });

  it("assembles streamed deltas in seq order and finishes with chat.final", async () => {
    const { chat, socket } = await connected();
    chat.send("question");
    const id = messages(chat)[0]!.id;
    socket.receive({ type: "chat.delta", id, session: "s1", seq: 1, text: "world" });
    socket.receive({ type: "chat.delta", id, session: "s1", seq: 0, text: "Hello " });
    expect(messages(chat)[1]).toMatchObject({ id: replyId(id), role: "assistant", text: "Hello world", status: "streaming" });
    socket.receive({ type: "chat.final", id, session: "s1", text: "Hello world!" });
    expect(messages(chat)[1]).toMatchObject({ text: "Hello world!", status: "done" });
  });

  it("starts the reply over when it is streamed again from seq 0 (a new task took it up)", async () => {
    const { chat, socket } = await connected();
    chat.send("long task");
    const id = messages(chat)[0]!.id;
    socket.receive({ type: "chat.delta", id, session: "s1", seq: 0, text: "First try, " });
    socket.receive({ type: "chat.delta", id, session: "s1", seq: 1, text: "cut off" });
    socket.receive({ type: "chat.delta", id, session: "s1", seq: 0, text: "Second try" });
    expect(messages(chat)[1]!.text).toBe("Second try");
    socket.receive({ type: "chat.final", id, session: "s1", text: "Second try, whole." });
    expect(messages(chat)[1]).toMatchObject({ text: "Second try, whole.", status: "done" });
  });

  it("keeps the streamed text when the final frame is chunked", async () => {
    const { chat, socket } = await connected();
    chat.send("big one");
    const id = messages(chat)[0]!.id;
    socket.receive({ type: "chat.delta", id, session: "s1", seq: 0, text: "a".repeat(10) });
    socket.receive({ type: "chat.delta", id, session: "s1", seq: 1, text: "b".repeat(10) });
    socket.receive({ type: "chat.final", id, session: "s1", text: "", chunked: true });
    expect(messages(chat)[1]!.text).toBe("a".repeat(10) + "b".repeat(10));
  });

  it("places each reply under the message it answers", async () => {
    const { chat, socket } = await connected();
    chat.send("first");
    chat.send("second");
    const [a, b] = messages(chat);
    socket.receive({ type: "chat.final", id: a!.id, session: "s1", text: "answer 1" });
    socket.receive({ type: "chat.final", id: b!.id, session: "s1", text: "answer 2" });
    expect(messages(chat).map((m) => m.text)).toEqual(["first", "answer 1", "second", "answer 2"]);
  });

  it("marks a refused message failed with a readable reason, and retries it as a new message", async () => {
    const { chat, socket } = await connected();
    chat.send("hello");
    const id = messages(chat)[0]!.id;
    socket.receive({ type: "error", id, code: "agent_failed", message: "the model timed out" });
    expect(messages(chat)[0]).toMatchObject({ status: "failed", error: "Your agent could not answer: the model timed out" });
    chat.retry(id);
    const again = messages(chat);
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(id);
    expect(again[0]!.status).toBe("sending");
    expect(socket.sentOfType("chat.send").at(-1)).toMatchObject({ id: again[0]!.id, text: "hello" });
  });

  it("shows an error not tied to a message as a notice", async () => {
    const { chat, socket } = await connected();
    socket.receive({ type: "error", id: null, code: "rate_limited", message: "" });
    expect(chat.store.get().notice).toMatch(/too fast/);
  });

  it("tracks the agent's status frames", async () => {
    const { chat, socket } = await connected();
    socket.receive({ type: "agent.status", state: "Starting", phase: "restoring", since: 1_764_140_000 });
    expect(chat.store.get().agent).toEqual({ state: "Starting", phase: "restoring", since: 1_764_140_000_000 });
  });

  it("refuses text over the limit without losing it, with a message that says what to do", async () => {
    const { chat, socket } = await connected();
    const paste = "x".repeat(100 * 1024);
    const refused = chat.send(paste);
    expect(refused).toBe(
      `This message is ${(100 * 1024).toLocaleString("en-US")} characters; the limit is ${MAX_TEXT_CHARS.toLocaleString("en-US")}. Shorten it or send it in parts.`,
    );
    expect(messages(chat)).toEqual([]);
    expect(socket.sentOfType("chat.send")).toEqual([]);
    expect(limitMessage("fine")).toBeNull();
  });

  it("keeps unacknowledged messages across a reload and sends them again with the same id", async () => {
    const first = await connected();
    first.chat.send("do not lose me");
    const id = messages(first.chat)[0]!.id;
    first.chat.stop(); // the tab goes away before the ack

    FakeSocket.reset();
    const second = controller();
    second.chat.start();
    expect(messages(second.chat)[0]).toMatchObject({ id, status: "sending" });
    await vi.advanceTimersByTimeAsync(5);
    FakeSocket.latest().open();
    expect(FakeSocket.latest().sentOfType("chat.send")).toEqual([expect.objectContaining({ id, text: "do not lose me" })]);
    FakeSocket.latest().receive({ type: "ack", id });
    expect(localStorage.getItem(`${PREFIX}outbox`)).toBeNull();
  });

  it("loads history when a conversation opens, and again after a reconnect", async () => {
    let page = 0;
    const { chat, socket, fetch } = await connected((req) => {
      if (req.url.pathname.endsWith("/messages")) {
        page++;
        return {
          body: {
            messages: [
              { id: "h1", role: "user", text: "old question", at: 1, channel: "telegram" },
              ...(page > 1 ? [{ id: "h2", role: "assistant", text: "answer written while away", at: 2, channel: "web" }] : []),
            ],
            next: null,
          },
        };
      }
      return defaultApi(req);
    });
    expect(messages(chat).map((m) => m.text)).toEqual(["old question"]);
    socket.serverClose(1001);
    await vi.advanceTimersByTimeAsync(5);
    FakeSocket.latest().open();
    await vi.advanceTimersByTimeAsync(5);
    expect(messages(chat).map((m) => m.text)).toEqual(["old question", "answer written while away"]);
    expect(fetch.calls.filter((c) => c.url.pathname === "/api/conversations")).toHaveLength(2);
  });

  it("opens a new conversation without asking the server for a history it cannot have", async () => {
    const { chat, fetch } = await connected();
    const session = chat.newSession();
    chat.open(session);
    await vi.advanceTimersByTimeAsync(5);
    expect(fetch.calls.some((c) => c.url.pathname.includes(session))).toBe(false);
    expect(chat.store.get().threads[session]).toMatchObject({ load: "ready", messages: [] });
  });

  it("treats a conversation the server does not know yet as empty", async () => {
    const { chat } = await connected((req) => (req.url.pathname.endsWith("/messages") ? { status: 404, body: {} } : defaultApi(req)));
    expect(chat.store.get().threads.s1).toMatchObject({ load: "ready", error: null, messages: [] });
  });

  it("reports a server error while loading history", async () => {
    const { chat } = await connected((req) =>
      req.url.pathname.endsWith("/messages") ? { status: 500, body: { error: { code: "internal", message: "boom" } } } : defaultApi(req),
    );
    expect(chat.store.get().threads.s1).toMatchObject({ load: "error", error: expect.stringMatching(/HTTP 500/) });
  });

  it("loads earlier pages before what is shown", async () => {
    const { chat, fetch } = await connected((req) => {
      if (req.url.pathname.endsWith("/messages")) {
        return req.url.searchParams.get("before")
          ? { body: { messages: [{ id: "a", role: "user", text: "oldest", at: 1 }], next: null } }
          : { body: { messages: [{ id: "b", role: "user", text: "newer", at: 2 }], next: "CUR" } };
      }
      return defaultApi(req);
    });
    await chat.loadEarlier("s1");
    expect(messages(chat).map((m) => m.text)).toEqual(["oldest", "newer"]);
    expect(chat.store.get().threads.s1!.next).toBeNull();
    expect(fetch.calls.at(-1)!.url.searchParams.get("before")).toBe("CUR");
  });
});

describe("mergeHistory", () => {
  const msg = (id: string, role: ChatMessage["role"], status: ChatMessage["status"], replyTo: string | null = null): ChatMessage => ({
    id,
    role,
    text: id,
    at: null,
    channel: "web",
    status,
    error: null,
    replyTo,
  });
  const thread = (ms: ChatMessage[], next: string | null = null): Thread => ({ messages: ms, next, load: "ready", error: null, loadingEarlier: false });

  it("drops a live reply once history holds the answer, keeps one still being written", () => {
    const merged = mergeHistory(
      thread([msg("u1", "user", "sent"), msg(replyId("u1"), "assistant", "done", "u1"), msg("u2", "user", "sent"), msg(replyId("u2"), "assistant", "streaming", "u2")]),
      [
        { id: "u1", role: "user", text: "u1", at: 1, channel: "web" },
        { id: "a1", role: "assistant", text: "a1", at: 2, channel: "web" },
        { id: "u2", role: "user", text: "u2", at: 3, channel: "web" },
      ],
      null,
    );
    expect(merged.messages.map((m) => m.id)).toEqual(["u1", "a1", "u2", replyId("u2")]);
  });

  it("keeps messages still on their way and older pages already loaded", () => {
    const merged = mergeHistory(
      thread([msg("old", "user", "done"), msg("h1", "user", "done"), msg("pending", "user", "sending")], "CUR-OLD"),
      [{ id: "h1", role: "user", text: "h1", at: 1, channel: "web" }],
      "CUR-NEW",
    );
    expect(merged.messages.map((m) => m.id)).toEqual(["old", "h1", "pending"]);
    expect(merged.next).toBe("CUR-OLD");
  });
});

describe("titleFrom", () => {
  it("uses the first line, shortened", () => {
    expect(titleFrom("  Plan my week\nthen more")).toBe("Plan my week");
    expect(titleFrom("x".repeat(80))).toHaveLength(58);
    expect(titleFrom("   ")).toBe("Untitled conversation");
  });
});
