/**
 * The chat state: conversations, their messages, streamed replies, the agent's status and the
 * connection. `ChatController` turns user actions and server frames into store updates; the
 * components only read the store and call the controller.
 */
import { ApiError, errorMessage, type Api, type Conversation, type FileRef, type HistoryMessage } from "../api/http";
import { SessionExpiredError } from "../lib/errors";
import type { KeyValue } from "../lib/persist";
import { createStore, type Store } from "../lib/store";
import type { ChatClient, ConnectionState } from "../protocol/client";
import { checkText, newId, type AgentStatus, type Attachment, type ServerFrame, MAX_TEXT_CHARS, FRAME_BYTES } from "../protocol/contract";

export type MessageStatus = "sending" | "sent" | "streaming" | "done" | "failed";

export interface ChatMessage {
  id: string;
  role: "user" | "assistant";
  text: string;
  at: number | null;
  channel: string | null;
  status: MessageStatus;
  error: string | null;
  /** For a live reply: the id of the user message it answers. */
  replyTo: string | null;
  /** A reply the owner stopped (its text is what was written until then). */
  stopped?: boolean;
  /** Stop was asked and the agent has not confirmed it yet (its `chat.final` holds where the
   * reply really ended, which may be a little further than what was shown). */
  stopping?: boolean;
  /** Files sent with the message, or produced by the agent for the reply. */
  attachments?: FileRef[];
}

/** What the agent is doing for a reply, from `agent.activity` frames. */
export interface Activity {
  kind: string;
  tool: string | null;
  detail: string | null;
}

/** The activity line: "Thinking…", "Running exec: ls -la", "Browsing example.com". */
export function describeActivity(activity: Activity): string {
  if (activity.kind === "tool" && activity.tool) {
    const tool = activity.tool;
    const detail = activity.detail ? `: ${activity.detail}` : "";
    if (tool === "browser" || tool === "web_fetch") return `Browsing${activity.detail ? ` ${activity.detail}` : " a page"}`;
    if (tool === "web_search") return `Searching the web${detail}`;
    return `Running ${tool}${detail}`;
  }
  return "Thinking…";
}

export interface Thread {
  messages: ChatMessage[];
  /** Cursor of the next older page, null when the start of the conversation is loaded. */
  next: string | null;
  load: "idle" | "loading" | "ready" | "error";
  error: string | null;
  loadingEarlier: boolean;
}

export interface ChatState {
  current: string | null;
  threads: Record<string, Thread>;
  conversations: Conversation[];
  conversationsLoad: "loading" | "ready" | "error";
  conversationsError: string | null;
  agent: AgentStatus | null;
  connection: ConnectionState;
  /** A problem not tied to one message (shown above the composer). */
  notice: string | null;
  /** What the agent is doing now, by the id of the message it answers. */
  activity: Record<string, Activity>;
  /** When typing in the composer woke the agent (epoch ms), until it is up or asleep again. */
  typingWake: number | null;
}

const EMPTY_THREAD: Thread = { messages: [], next: null, load: "idle", error: null, loadingEarlier: false };

export const replyId = (userMessageId: string) => `reply:${userMessageId}`;

/** Where messages written but not yet acknowledged are kept across reloads. */
export const outboxKey = (prefix: string) => `${prefix}outbox`;

/** The owner's choice, kept in this browser: wake a sleeping agent as soon as they start typing. */
export const wakeOnTypingKey = (prefix: string) => `${prefix}wake-on-typing`;
export const wakesOnTyping = (kv: KeyValue, prefix: string) => kv.get(wakeOnTypingKey(prefix)) !== "off";
export function setWakeOnTyping(kv: KeyValue, prefix: string, on: boolean): void {
  if (on) kv.remove(wakeOnTypingKey(prefix));
  else kv.set(wakeOnTypingKey(prefix), "off");
}

/** After a wake-up asked by typing, none again for this long (a start takes about a minute;
 * a failed one is not retried on every key). */
export const TYPING_WAKE_COOLDOWN_MS = 60_000;

export function titleFrom(text: string): string {
  const line = text.trim().split("\n", 1)[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || "Untitled conversation";
}

/** What the user reads when the server refuses a message, by the contract's error code. */
export function describeFrameError(code: string, message: string): string {
  switch (code) {
    case "too_long":
      return message || `This message is longer than ${MAX_TEXT_CHARS.toLocaleString("en-US")} characters.`;
    case "rate_limited":
      return "You are sending too fast. Wait a moment, then retry.";
    case "agent_failed":
      return `Your agent could not answer${message ? `: ${message}` : "."}`;
    case "unauthorized":
      return "The server refused this message. Sign in again, then retry.";
    case "bad_request":
      return `The server refused this message${message ? `: ${message}` : "."}`;
    default:
      return `The server had a problem${message ? `: ${message}` : "."} Retry in a moment.`;
  }
}

/** What the composer shows for text that cannot be sent, or null when it can. */
export function limitMessage(text: string): string | null {
  const check = checkText(text);
  if (check.ok || check.reason === "empty") return null;
  const limit = MAX_TEXT_CHARS.toLocaleString("en-US");
  if (check.reason === "too_long") {
    return `This message is ${check.chars.toLocaleString("en-US")} characters; the limit is ${limit}. Shorten it or send it in parts.`;
  }
  return `This message is ${Math.ceil(check.bytes / 1024)} KB once encoded; one message can carry at most ${FRAME_BYTES / 1024} KB. Shorten it or send it in parts.`;
}

interface Outgoing {
  id: string;
  session: string;
  text: string;
  at: number;
  attachments?: Attachment[];
}

export class ChatController {
  readonly store: Store<ChatState>;
  /** Delta pieces of each live reply, by seq (kept out of the store: only the joined text renders). */
  private readonly pieces = new Map<string, string[]>();
  /** Messages whose reply the owner stopped: late deltas for them are dropped. */
  private readonly stopped = new Set<string>();
  private unsubscribe: (() => void) | null = null;
  private readonly outboxKey: string;
  private readonly prefix: string;
  /** When typing last asked for a wake-up (epoch ms). */
  private lastTypingWake: number | null = null;

  constructor(
    private readonly api: Api,
    private readonly client: ChatClient,
    private readonly kv: KeyValue,
    prefix: string,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.outboxKey = outboxKey(prefix);
    this.prefix = prefix;
    this.store = createStore<ChatState>({
      current: null,
      threads: {},
      conversations: [],
      conversationsLoad: "loading",
      conversationsError: null,
      agent: null,
      connection: client.connectionState,
      notice: null,
      activity: {},
      typingWake: null,
    });
  }

  start(): void {
    this.unsubscribe = this.client.subscribe({
      onFrame: (frame) => this.onFrame(frame),
      onState: (connection) => this.store.set({ connection }),
      onReconnect: () => this.onReconnect(),
    });
    // Messages written before a reload but never acknowledged go out again (same ids: the
    // server drops duplicates).
    for (const message of this.loadOutbox()) {
      this.addMessage(message.session, this.userMessage(message, "sending"));
      this.client.send(message);
    }
    this.client.start();
    void this.loadConversations();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.client.stop();
  }

  /** Show a conversation, loading its history the first time. */
  open(session: string): void {
    this.store.set({ current: session, notice: null });
    this.client.setSession(session);
    const thread = this.store.get().threads[session];
    if (!thread || thread.load === "idle" || thread.load === "error") void this.loadHistory(session);
  }

  /** A fresh session id for a new conversation (nothing is stored until the first message). */
  newSession(): string {
    const session = newId("web-");
    // Nothing to load: the server has never heard of it.
    this.updateThread(session, (t) => ({ ...t, load: "ready" }));
    return session;
  }

  /** Send text in the current conversation; returns an error to show instead when it cannot go. */
  send(text: string, attachments: Attachment[] = []): string | null {
    const session = this.store.get().current;
    if (!session) return "Open a conversation first.";
    const check = checkText(text, session);
    if (!check.ok && !(check.reason === "empty" && attachments.length)) {
      return check.reason === "empty" ? "Write a message first." : limitMessage(text);
    }
    const message: Outgoing = { id: newId(), session, text, at: this.now(), ...(attachments.length ? { attachments } : {}) };
    this.addMessage(session, this.userMessage(message, "sending"));
    this.touchConversation(session, text || attachments[0]?.name);
    this.saveOutbox([...this.loadOutbox(), message]);
    this.client.send(message);
    return null;
  }

  /**
   * The owner is writing: wake a sleeping agent now, so its cold start overlaps the writing
   * instead of starting at send. Only when the agent is known to be asleep, at most once per
   * cool-down, and never when the owner turned it off. A failed call is silent (the status
   * shows the truth) and changes nothing about sending.
   */
  wakeForTyping(): void {
    const before = this.store.get().agent;
    if (before?.state !== "Idle" || !wakesOnTyping(this.kv, this.prefix)) return;
    const now = this.now();
    if (this.lastTypingWake !== null && now - this.lastTypingWake < TYPING_WAKE_COOLDOWN_MS) return;
    this.lastTypingWake = now;
    this.store.set({ typingWake: now });
    this.api.startAgent("typing").then(
      (status) => {
        // The socket carries later news (the bridge's phases): the answer only fills the gap
        // until the first of them, so the banner shows the wake-up at once.
        if (this.store.get().agent !== before) return;
        if (status && status.state !== "Idle") this.store.set({ agent: status, typingWake: status.state === "Starting" ? now : null });
        else this.store.set({ typingWake: null });
      },
      () => {
        if (this.store.get().agent === before) this.store.set({ typingWake: null });
      },
    );
  }

  /**
   * Stop the reply to `userId` (the agent really stops: the bridge aborts its run). The reply
   * ends here at once with what was written; the server's `chat.final` confirms it.
   */
  stopReply(userId: string): void {
    const found = this.findMessage(userId);
    if (!found) return;
    this.stopped.add(userId);
    this.client.stopReply(userId, found.session);
    const streamed = (this.pieces.get(replyId(userId)) ?? []).join("");
    this.upsertReply(found.session, userId, { text: streamed, status: "done" }, { stopping: true });
    this.clearActivity(userId);
  }

  /** Rename a conversation (kept by the server, so it survives a reload). */
  async rename(session: string, title: string): Promise<string | null> {
    const clean = title.trim();
    if (!clean) return "Give the conversation a name.";
    try {
      const saved = await this.api.renameConversation(session, clean);
      this.store.set((s) => ({
        conversations: s.conversations.map((c) => (c.session === session ? { ...c, title: saved.title } : c)),
      }));
      return null;
    } catch (error) {
      if (error instanceof SessionExpiredError) return null;
      return errorMessage(error);
    }
  }

  /** Delete a conversation and its history on the server; returns an error to show, or null. */
  async remove(session: string): Promise<string | null> {
    try {
      await this.api.deleteConversation(session);
    } catch (error) {
      if (error instanceof SessionExpiredError) return null;
      if (!(error instanceof ApiError && error.status === 404)) return errorMessage(error);
    }
    this.store.set((s) => {
      const threads = { ...s.threads };
      delete threads[session];
      return { conversations: s.conversations.filter((c) => c.session !== session), threads };
    });
    this.saveOutbox(this.loadOutbox().filter((m) => m.session !== session));
    return null;
  }

  /** Send a failed message again, as a new message (its old id may already be used up). */
  retry(messageId: string): void {
    const session = this.store.get().current;
    if (!session) return;
    const thread = this.thread(session);
    const failed = thread.messages.find((m) => m.id === messageId);
    if (!failed) return;
    const userId = failed.role === "user" ? failed.id : failed.replyTo;
    const original = thread.messages.find((m) => m.id === userId);
    if (!original) return;
    this.updateThread(session, (t) => ({
      ...t,
      messages: t.messages.filter((m) => m.id !== original.id && m.id !== replyId(original.id)),
    }));
    this.send(original.text, (original.attachments ?? []).filter((a): a is Attachment => typeof a.key === "string"));
  }

  async loadEarlier(session: string): Promise<void> {
    const thread = this.thread(session);
    if (!thread.next || thread.loadingEarlier) return;
    this.updateThread(session, (t) => ({ ...t, loadingEarlier: true, error: null }));
    try {
      const page = await this.api.messages(session, thread.next);
      this.updateThread(session, (t) => {
        const known = new Set(t.messages.map((m) => m.id));
        const older = page.messages.filter((m) => !known.has(m.id)).map(fromHistory);
        return { ...t, messages: [...older, ...t.messages], next: page.next, loadingEarlier: false };
      });
    } catch (error) {
      if (error instanceof SessionExpiredError) return;
      this.updateThread(session, (t) => ({ ...t, loadingEarlier: false, error: errorMessage(error) }));
    }
  }

  async loadConversations(): Promise<void> {
    try {
      const listed = await this.api.conversations();
      this.store.set((s) => {
        // Conversations started here but not yet known to the server stay on the list.
        const names = new Set(listed.map((c) => c.session));
        const localOnly = s.conversations.filter((c) => !names.has(c.session));
        return { conversations: [...localOnly, ...listed], conversationsLoad: "ready", conversationsError: null };
      });
    } catch (error) {
      if (error instanceof SessionExpiredError) return;
      this.store.set({ conversationsLoad: "error", conversationsError: errorMessage(error) });
    }
  }

  async loadHistory(session: string): Promise<void> {
    this.updateThread(session, (t) => ({ ...t, load: t.messages.length ? t.load : "loading", error: null }));
    try {
      const page = await this.api.messages(session);
      this.updateThread(session, (t) => ({ ...mergeHistory(t, page.messages, page.next), load: "ready", error: null }));
    } catch (error) {
      if (error instanceof SessionExpiredError) return;
      if (error instanceof ApiError && error.status === 404) {
        // A conversation nobody has written in yet.
        this.updateThread(session, (t) => ({ ...t, load: "ready", error: null }));
        return;
      }
      this.updateThread(session, (t) => ({ ...t, load: "error", error: errorMessage(error) }));
    }
  }

  /** The page became visible again: check the connection now. */
  nudge(): void {
    this.client.nudge();
  }

  dismissNotice(): void {
    this.store.set({ notice: null });
  }

  // --- server frames ----------------------------------------------------------------------

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "ack":
        this.forgetOutgoing(frame.id);
        this.updateMessage(frame.id, (m) => (m.status === "sending" ? { ...m, status: "sent" } : m));
        return;
      case "agent.status":
        this.store.set((s) => ({
          agent: { state: frame.state, phase: frame.phase, since: frame.since },
          // Up or asleep again: the next wake-up is not the one typing asked for.
          typingWake: frame.state === "Starting" ? s.typingWake : null,
        }));
        return;
      case "agent.activity": {
        if (this.stopped.has(frame.id)) return;
        const activity: Activity = { kind: frame.kind, tool: frame.tool, detail: frame.detail };
        this.store.set((s) => ({ activity: { ...s.activity, [frame.id]: activity } }));
        return;
      }
      case "chat.delta": {
        if (this.stopped.has(frame.id)) return;
        const id = replyId(frame.id);
        let parts = this.pieces.get(id) ?? [];
        // A second seq 0 means the reply is being written again from the start (the agent was
        // stopped mid-reply and a new task took the message up): drop the old partial text.
        if (frame.seq === 0 && parts[0] !== undefined) parts = [];
        parts[frame.seq] = frame.text;
        this.pieces.set(id, parts);
        this.upsertReply(frame.session, frame.id, { text: parts.join(""), status: "streaming" });
        return;
      }
      case "chat.final": {
        const id = replyId(frame.id);
        const streamed = (this.pieces.get(id) ?? []).join("");
        this.pieces.delete(id);
        const stopped = frame.stopped || this.stopped.has(frame.id);
        const marks = { stopping: false, ...(stopped ? { stopped: true } : {}), ...(frame.attachments.length ? { attachments: frame.attachments } : {}) };
        this.upsertReply(frame.session, frame.id, { text: frame.chunked ? streamed : frame.text, status: "done" }, marks);
        this.clearActivity(frame.id);
        this.touchConversation(frame.session);
        return;
      }
      case "error": {
        const text = describeFrameError(frame.code, frame.message);
        if (frame.id) this.clearActivity(frame.id);
        if (frame.id && this.findMessage(frame.id)) {
          this.forgetOutgoing(frame.id);
          this.updateMessage(frame.id, (m) => ({ ...m, status: "failed", error: text }));
        } else if (frame.id && this.findMessage(replyId(frame.id))) {
          this.updateMessage(replyId(frame.id), (m) => ({ ...m, status: "failed", error: text }));
        } else {
          this.store.set({ notice: text });
        }
        return;
      }
      default:
        return;
    }
  }

  /** Frames may have been missed while the socket was down: catch up from history. */
  private onReconnect(): void {
    const current = this.store.get().current;
    if (current) void this.loadHistory(current);
    void this.loadConversations();
  }

  // --- store helpers ----------------------------------------------------------------------

  private thread(session: string): Thread {
    return this.store.get().threads[session] ?? EMPTY_THREAD;
  }

  private updateThread(session: string, update: (thread: Thread) => Thread): void {
    this.store.set((s) => ({ threads: { ...s.threads, [session]: update(s.threads[session] ?? EMPTY_THREAD) } }));
  }

  private addMessage(session: string, message: ChatMessage): void {
    this.updateThread(session, (t) => ({
      ...t,
      messages: [...t.messages.filter((m) => m.id !== message.id), message],
    }));
  }

  private findMessage(id: string): { session: string; message: ChatMessage } | null {
    for (const [session, thread] of Object.entries(this.store.get().threads)) {
      const message = thread.messages.find((m) => m.id === id);
      if (message) return { session, message };
    }
    return null;
  }

  private updateMessage(id: string, update: (message: ChatMessage) => ChatMessage): void {
    const found = this.findMessage(id);
    if (!found) return;
    this.updateThread(found.session, (t) => ({ ...t, messages: t.messages.map((m) => (m.id === id ? update(m) : m)) }));
  }

  private clearActivity(userId: string): void {
    if (!(userId in this.store.get().activity)) return;
    this.store.set((s) => {
      const activity = { ...s.activity };
      delete activity[userId];
      return { activity };
    });
  }

  private upsertReply(
    session: string,
    userId: string,
    patch: Pick<ChatMessage, "text" | "status">,
    marks: Pick<ChatMessage, "stopped" | "stopping" | "attachments"> = {},
  ): void {
    const id = replyId(userId);
    this.updateThread(session, (t) => {
      const messages = t.messages.map((m) => (m.id === userId && m.status === "sending" ? { ...m, status: "sent" as const } : m));
      const index = messages.findIndex((m) => m.id === id);
      if (index >= 0) {
        messages[index] = { ...messages[index]!, ...patch, ...marks, error: null };
      } else {
        const reply: ChatMessage = {
          id,
          role: "assistant",
          at: this.now(),
          channel: "web",
          error: null,
          replyTo: userId,
          ...patch,
          ...marks,
        };
        // Directly after the message it answers, even when later messages were queued meanwhile.
        const after = messages.findIndex((m) => m.id === userId);
        if (after >= 0) {
          let insertAt = after + 1;
          while (insertAt < messages.length && messages[insertAt]!.role === "assistant") insertAt++;
          messages.splice(insertAt, 0, reply);
        } else {
          messages.push(reply);
        }
      }
      return { ...t, messages };
    });
  }

  private touchConversation(session: string, firstText?: string): void {
    this.store.set((s) => {
      const existing = s.conversations.find((c) => c.session === session);
      const entry: Conversation = existing
        ? { ...existing, updatedAt: this.now() }
        : { session, title: titleFrom(firstText ?? ""), updatedAt: this.now() };
      return { conversations: [entry, ...s.conversations.filter((c) => c.session !== session)] };
    });
  }

  private userMessage(message: Outgoing, status: MessageStatus): ChatMessage {
    return {
      id: message.id,
      role: "user",
      text: message.text,
      at: message.at,
      channel: "web",
      status,
      error: null,
      replyTo: null,
      ...(message.attachments?.length ? { attachments: message.attachments } : {}),
    };
  }

  // --- the persisted outbox ---------------------------------------------------------------

  private loadOutbox(): Outgoing[] {
    const raw = this.kv.get(this.outboxKey);
    if (!raw) return [];
    try {
      const items = JSON.parse(raw) as Outgoing[];
      return Array.isArray(items)
        ? items.filter((m) => typeof m.id === "string" && typeof m.session === "string" && typeof m.text === "string")
        : [];
    } catch {
      return [];
    }
  }

  private saveOutbox(items: Outgoing[]): void {
    if (items.length) this.kv.set(this.outboxKey, JSON.stringify(items));
    else this.kv.remove(this.outboxKey);
  }

  private forgetOutgoing(id: string): void {
    const items = this.loadOutbox();
    if (items.some((m) => m.id === id)) this.saveOutbox(items.filter((m) => m.id !== id));
  }
}

function fromHistory(m: HistoryMessage): ChatMessage {
  return {
    id: m.id,
    role: m.role,
    text: m.text,
    at: m.at,
    channel: m.channel,
    status: "done",
    error: null,
    replyTo: null,
    ...(m.stopped ? { stopped: true } : {}),
    ...(m.attachments?.length ? { attachments: m.attachments } : {}),
  };
}

/**
 * Merge the newest history page into what is on screen: the server's copy wins for everything
 * it has; older pages already loaded stay; messages still on their way (sending, failed, a
 * reply being written) stay unless history already holds their answer.
 */
export function mergeHistory(thread: Thread, page: HistoryMessage[], next: string | null): Thread {
  const server = page.map(fromHistory);
  const serverIds = new Set(server.map((m) => m.id));
  const answered = new Set<string>();
  server.forEach((m, i) => {
    if (m.role === "user" && server.slice(i + 1).some((later) => later.role === "assistant")) answered.add(m.id);
  });

  const first = server[0];
  const firstIndex = first ? thread.messages.findIndex((m) => m.id === first.id) : -1;
  const older = firstIndex > 0 ? thread.messages.slice(0, firstIndex).filter((m) => m.status === "done") : [];

  const local = thread.messages.filter((m) => {
    if (serverIds.has(m.id)) return false;
    // Still on its way (or acknowledged but not yet in history).
    if (m.role === "user") return m.status !== "done";
    // A live reply, until history holds an answer to its message.
    return m.replyTo !== null && !answered.has(m.replyTo);
  });

  return {
    ...thread,
    messages: [...older, ...server, ...local],
    next: firstIndex > 0 ? thread.next : next,
  };
}
