/**
 * The HTTP API (docs/protocol.md): JSON in and out, Cognito access token as a Bearer token.
 * A 401 refreshes the token once and retries; a second 401 ends the session.
 */
import { SessionExpiredError } from "../lib/errors";
import { toEpochMs, type AgentStatus } from "../protocol/contract";

export interface Conversation {
  session: string;
  title: string;
  updatedAt: number | null;
}

export interface HistoryMessage {
  id: string;
  role: "user" | "assistant";
  text: string;
  at: number | null;
  channel: string | null;
  /** A reply the owner stopped: its text is what was written until then. */
  stopped?: boolean;
  /** Files with the message; `url` is a short-lived download link. */
  attachments?: FileRef[];
}

/** A file sent with a message or produced by the agent. */
export interface FileRef {
  key?: string;
  name: string;
  contentType: string;
  size: number;
  url?: string;
}

/** POST /api/uploads: where to post the file (a presigned POST) and what to name in chat.send. */
export interface UploadGrant {
  upload: { url: string; fields: Record<string, string> };
  attachment: { key: string; name: string; contentType: string; size: number };
}

function fileRefs(value: unknown): FileRef[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((f): f is Record<string, unknown> => typeof f === "object" && f !== null && typeof (f as { name?: unknown }).name === "string")
    .map((f) => ({
      name: f.name as string,
      contentType: typeof f.contentType === "string" ? f.contentType : "application/octet-stream",
      size: typeof f.size === "number" ? f.size : 0,
      ...(typeof f.url === "string" ? { url: f.url } : {}),
      ...(typeof f.key === "string" ? { key: f.key } : {}),
    }));
}

export interface HistoryPage {
  messages: HistoryMessage[];
  next: string | null;
}

/** Provider and model are null until the owner picks them (the deployment's defaults apply). */
export interface Settings {
  provider: string | null;
  model: string | null;
  /** The endpoint of the `openai-compatible` provider (only with it). */
  baseUrl?: string | null;
  idleTimeoutMinutes: number;
  /** OpenClaw's browser tool, from the agent's next start. */
  browser?: boolean;
}

/** A provider as the settings page offers it: whether it has a key, and suggested models. */
export interface ProviderInfo {
  id: string;
  label: string;
  needsKey: boolean;
  keyOptional: boolean;
  needsBaseUrl: boolean;
  defaultModel: string | null;
  models: string[];
  keyPage: string | null;
  hasKey: boolean;
  keyUpdatedAt: number | null;
}

export interface ToolInfo {
  id: string;
  label: string;
  tool: string;
  keyPage: string | null;
  hasKey: boolean;
  keyUpdatedAt: number | null;
}

export interface Providers {
  providers: ProviderInfo[];
  tools: ToolInfo[];
  /** What `init` chose: "use the deployment's default" goes back to it. */
  default: { provider: string | null; model: string | null };
  /** How and when a change reaches the agent, in words to show. */
  applies: string;
}

export interface ModelList {
  models: string[];
  /** "provider": the provider's own list; "curated": our suggestions. */
  source: string;
  problem: string | null;
}

export interface AgentInfo {
  state: string;
  phase: string | null;
  since: number | null;
  lastStopReason: string | null;
  timings: Record<string, number>;
  /** Seconds from the wake-up call to ready of the last few starts, oldest first. */
  recentWakes: number[];
}

export interface PairingCode {
  code: string;
  expiresAt: number | null;
}

/** A chat channel (GET /api/channels): Telegram from the deployment, Slack and Discord from `channels add`. */
export interface ChatChannel {
  channel: string;
  connected: boolean;
  identity: string | null;
  connectedAt: number | null;
  paired: number;
}

export interface Pairing {
  pending: { code: string; userId: string; name: string; requestedAt: number | null }[];
  paired: { userId: string; name: string; pairedAt: number | null }[];
}

/** Any failed API call; `message` is ready to show, `field` names the bad input of a 400. */
/** A schedule to add (POST /api/schedules): `when` (a phrase, cron() or rate()) or `at`. */
export interface NewSchedule {
  when?: string;
  at?: string;
  timezone: string;
  say: string;
  to: "telegram" | "web";
  title?: string;
  confirm?: boolean;
}

/** One skill (GET /api/skills): the owner's or a built-in one; `loaded` is what the running
 * agent last reported (null: no report yet). */
export interface Skill {
  name: string;
  description: string;
  source: "owner" | "built-in";
  enabled: boolean;
  loaded: boolean | null;
}

export interface SkillList {
  skills: Skill[];
  reportedAt: number | null;
  maxArchiveBytes: number;
}

/** One schedule (GET /api/schedules): times are ISO 8601 in the schedule's own time zone. */
export interface Schedule {
  id: string;
  /** The owner's, the agent's own wake-up, or the warm window's (`config set warm`). */
  kind: "owner" | "agent" | "warm";
  title: string;
  prompt: string;
  to: string;
  expression: string;
  timezone: string;
  state: string;
  nextRun: string | null;
  lastRun: string | null;
  outcome: string | null;
  detail: string | null;
  runs: number;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  constructor(status: number, code: string, message: string, field: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export interface TokenSource {
  accessToken(options?: { force?: boolean }): Promise<string>;
  expire(): void;
}

const REQUEST_TIMEOUT_MS = 35_000; // HTTP API gives up at 30 s

export class Api {
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly baseUrl: string,
    private readonly auth: TokenSource,
    fetchImpl?: typeof fetch,
  ) {
    this.fetchImpl = fetchImpl ?? ((input, init) => fetch(input, init));
  }

  async wsTicket(): Promise<{ ticket: string; url?: string; expiresAt: number | null }> {
    const data = await this.request<{ ticket?: unknown; url?: unknown; expiresAt?: unknown }>("POST", "/api/ws-ticket");
    if (typeof data.ticket !== "string") throw new ApiError(502, "internal", "The server sent no WebSocket ticket.");
    return {
      ticket: data.ticket,
      ...(typeof data.url === "string" && data.url ? { url: data.url } : {}),
      expiresAt: toEpochMs(data.expiresAt),
    };
  }

  async conversations(): Promise<Conversation[]> {
    const data = await this.request<{ conversations?: Record<string, unknown>[] }>("GET", "/api/conversations");
    return (data.conversations ?? [])
      .filter((c) => typeof c.session === "string")
      .map((c) => ({
        session: c.session as string,
        title: typeof c.title === "string" && c.title.trim() ? c.title : "Untitled conversation",
        updatedAt: toEpochMs(c.updatedAt),
      }));
  }

  async messages(session: string, before?: string | null, limit = 50): Promise<HistoryPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set("before", before);
    const data = await this.request<{ messages?: Record<string, unknown>[]; next?: unknown }>(
      "GET",
      `/api/conversations/${encodeURIComponent(session)}/messages?${query.toString()}`,
    );
    return {
      messages: (data.messages ?? [])
        .filter((m) => typeof m.id === "string" && typeof m.text === "string")
        .map((m) => ({
          id: m.id as string,
          role: m.role === "user" ? "user" : "assistant",
          text: m.text as string,
          at: toEpochMs(m.at),
          channel: typeof m.channel === "string" ? m.channel : null,
          ...(m.stopped === true ? { stopped: true } : {}),
          ...(Array.isArray(m.attachments) && m.attachments.length ? { attachments: fileRefs(m.attachments) } : {}),
        })),
      next: typeof data.next === "string" && data.next ? data.next : null,
    };
  }

  /** Give a conversation a title of the owner's choosing. */
  async renameConversation(session: string, title: string): Promise<Conversation> {
    const data = await this.request<{ conversation?: Record<string, unknown> }>(
      "PUT",
      `/api/conversations/${encodeURIComponent(session)}`,
      { title },
    );
    const c = data.conversation ?? {};
    return {
      session,
      title: typeof c.title === "string" && c.title ? c.title : title,
      updatedAt: toEpochMs(c.updatedAt),
    };
  }

  /** Ask for a presigned POST for one file (limits are checked again by the server). */
  createUpload(file: { session: string; name: string; contentType: string; size: number }): Promise<UploadGrant> {
    return this.request<UploadGrant>("POST", "/api/uploads", file);
  }

  /** Post the file straight to the state bucket with its presigned POST (no token: the policy is the grant). */
  async uploadFile(grant: UploadGrant, file: Blob): Promise<void> {
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
    form.append("file", file);
    let response: Response;
    try {
      response = await this.fetchImpl(grant.upload.url, { method: "POST", body: form });
    } catch {
      throw new ApiError(0, "network", "The file could not be uploaded. Check your connection, then retry.");
    }
    if (!response.ok) throw new ApiError(response.status, "upload_refused", `The storage refused the file (HTTP ${response.status}).`);
  }

  /** Delete a conversation and its whole history. */
  deleteConversation(session: string): Promise<unknown> {
    return this.request("DELETE", `/api/conversations/${encodeURIComponent(session)}`);
  }

  getSettings(): Promise<Settings> {
    return this.request<Settings>("GET", "/api/settings");
  }

  /** Change some settings; the fields left out keep their value. */
  putSettings(changes: Partial<Settings> | { provider: null }): Promise<Settings> {
    return this.request<Settings>("PUT", "/api/settings", changes);
  }

  async providers(): Promise<Providers> {
    const d = await this.request<Providers>("GET", "/api/providers");
    const at = (v: unknown) => toEpochMs(v);
    return {
      providers: (d.providers ?? []).map((p) => ({ ...p, keyUpdatedAt: at(p.keyUpdatedAt) })),
      tools: (d.tools ?? []).map((t) => ({ ...t, keyUpdatedAt: at(t.keyUpdatedAt) })),
      default: d.default ?? { provider: null, model: null },
      applies: typeof d.applies === "string" ? d.applies : "",
    };
  }

  models(provider: string, baseUrl?: string): Promise<ModelList> {
    const query = baseUrl ? `?${new URLSearchParams({ baseUrl }).toString()}` : "";
    return this.request<ModelList>("GET", `/api/providers/${encodeURIComponent(provider)}/models${query}`);
  }

  /** Set or replace a key: write-only, the answer says when, never what. */
  putKey(id: string, key: string): Promise<{ updatedAt: number | null }> {
    return this.request("PUT", `/api/keys/${encodeURIComponent(id)}`, { key });
  }

  removeKey(id: string, force = false): Promise<unknown> {
    return this.request("DELETE", `/api/keys/${encodeURIComponent(id)}${force ? "?force=true" : ""}`);
  }

  async agent(): Promise<AgentInfo> {
    const d = await this.request<Record<string, unknown>>("GET", "/api/agent");
    return {
      state: typeof d.state === "string" ? d.state : "Idle",
      phase: typeof d.phase === "string" ? d.phase : null,
      since: toEpochMs(d.since),
      lastStopReason: typeof d.lastStopReason === "string" ? d.lastStopReason : null,
      timings: typeof d.timings === "object" && d.timings !== null ? (d.timings as Record<string, number>) : {},
      recentWakes: Array.isArray(d.recentWakes) ? d.recentWakes.filter((v): v is number => typeof v === "number" && v >= 0) : [],
    };
  }

  /**
   * Wake the agent (harmless when it is already starting or running); its status after the call.
   * `typing`: the chat's wake-up as the owner begins writing, which (unlike the owner's Start)
   * leaves a block after repeated failed starts in place (the server answers 409).
   */
  async startAgent(reason?: "typing"): Promise<AgentStatus | null> {
    const path = reason ? `/api/agent/start?reason=${reason}` : "/api/agent/start";
    const d = await this.request<Record<string, unknown>>("POST", path);
    const state = d.state;
    if (state !== "Idle" && state !== "Starting" && state !== "Running" && state !== "Stopping") return null;
    return { state, phase: typeof d.phase === "string" ? d.phase : null, since: toEpochMs(d.since) };
  }

  stopAgent(): Promise<unknown> {
    return this.request("POST", "/api/agent/stop");
  }

  async pairingCode(): Promise<PairingCode> {
    const d = await this.request<{ code: string; expiresAt?: unknown }>("POST", "/api/pairing/code");
    return { code: d.code, expiresAt: toEpochMs(d.expiresAt) };
  }

  async pairing(): Promise<Pairing> {
    const d = await this.request<{ pending?: Record<string, unknown>[]; paired?: Record<string, unknown>[] }>(
      "GET",
      "/api/pairing",
    );
    const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
    return {
      pending: (d.pending ?? []).map((p) => ({
        code: str(p.code),
        userId: str(p.userId),
        name: str(p.name),
        requestedAt: toEpochMs(p.requestedAt),
      })),
      paired: (d.paired ?? []).map((p) => ({ userId: str(p.userId), name: str(p.name), pairedAt: toEpochMs(p.pairedAt) })),
    };
  }

  async channels(): Promise<ChatChannel[]> {
    const d = await this.request<{ channels?: Record<string, unknown>[] }>("GET", "/api/channels");
    return (d.channels ?? []).map((c) => ({
      channel: typeof c.channel === "string" ? c.channel : "",
      connected: c.connected === true,
      identity: typeof c.identity === "string" ? c.identity : null,
      connectedAt: toEpochMs(c.connectedAt),
      paired: typeof c.paired === "number" ? c.paired : 0,
    }));
  }

  approvePairing(code: string): Promise<unknown> {
    return this.request("POST", `/api/pairing/${encodeURIComponent(code)}/approve`);
  }

  revokePairing(userId: string): Promise<unknown> {
    return this.request("DELETE", `/api/pairing/${encodeURIComponent(userId)}`);
  }

  async schedules(): Promise<Schedule[]> {
    const d = await this.request<{ schedules?: Record<string, unknown>[] }>("GET", "/api/schedules");
    const str = (v: unknown) => (typeof v === "string" ? v : null);
    return (d.schedules ?? []).map((s) => ({
      id: str(s.id) ?? "",
      kind: s.kind === "agent" || s.kind === "warm" ? s.kind : "owner",
      title: str(s.title) ?? "",
      prompt: str(s.prompt) ?? "",
      to: str(s.to) ?? "web",
      expression: str(s.expression) ?? "",
      timezone: str(s.timezone) ?? "UTC",
      state: str(s.state) ?? "ENABLED",
      nextRun: str(s.nextRun),
      lastRun: str(s.lastRun),
      outcome: str(s.outcome),
      detail: str(s.detail),
      runs: typeof s.runs === "number" ? s.runs : 0,
    }));
  }

  /** Add a schedule (checked as `schedule add` checks it); a costly one answers 409
   * `confirm_cost` (its cost in the message) until `confirm` is true. */
  addSchedule(schedule: NewSchedule): Promise<unknown> {
    return this.request("POST", "/api/schedules", schedule);
  }

  /** Pause, resume or run now one of the owner's schedules. */
  scheduleAction(id: string, action: "pause" | "resume" | "run"): Promise<unknown> {
    return this.request("POST", `/api/schedules/${encodeURIComponent(id)}/${action}`);
  }

  removeSchedule(id: string): Promise<unknown> {
    return this.request("DELETE", `/api/schedules/${encodeURIComponent(id)}`);
  }

  async skills(): Promise<SkillList> {
    const d = await this.request<{ skills?: Record<string, unknown>[]; reportedAt?: unknown; limits?: Record<string, unknown> }>(
      "GET",
      "/api/skills",
    );
    return {
      skills: (d.skills ?? []).map((s) => ({
        name: typeof s.name === "string" ? s.name : "",
        description: typeof s.description === "string" ? s.description : "",
        source: s.source === "owner" ? "owner" : "built-in",
        enabled: s.enabled !== false,
        loaded: typeof s.loaded === "boolean" ? s.loaded : null,
      })),
      reportedAt: toEpochMs(d.reportedAt),
      maxArchiveBytes: typeof d.limits?.maxArchiveBytes === "number" ? d.limits.maxArchiveBytes : 3 * 1024 * 1024,
    };
  }

  /** Upload a skill as a .zip or .tar.gz archive (the file itself is the body). */
  addSkill(archive: Blob): Promise<{ skill?: { name?: string }; applies?: string }> {
    return this.request("POST", "/api/skills", archive);
  }

  setSkill(name: string, enabled: boolean): Promise<{ applies?: string }> {
    return this.request("PUT", `/api/skills/${encodeURIComponent(name)}`, { enabled });
  }

  removeSkill(name: string): Promise<unknown> {
    return this.request("DELETE", `/api/skills/${encodeURIComponent(name)}`);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response = await this.send(method, path, body, false);
    if (response.status === 401) {
      response = await this.send(method, path, body, true);
      if (response.status === 401) {
        this.auth.expire();
        throw new SessionExpiredError();
      }
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // non-JSON (a gateway's error page): described by status below
    }
    if (!response.ok) throw errorFrom(response.status, data);
    return (data ?? {}) as T;
  }

  private async send(method: string, path: string, body: unknown, forceRefresh: boolean): Promise<Response> {
    const token = await this.auth.accessToken({ force: forceRefresh }).catch((error: unknown) => {
      if (error instanceof SessionExpiredError) throw error;
      throw new ApiError(0, "network", "Cannot reach the sign-in service to renew your session. Check your connection.");
    });
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined
            ? {}
            : { "Content-Type": body instanceof Blob ? body.type || "application/octet-stream" : "application/json" }),
        },
        ...(body === undefined ? {} : { body: body instanceof Blob ? body : JSON.stringify(body) }),
        cache: "no-store",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") {
        throw new ApiError(0, "timeout", "The server took too long to answer. Try again.");
      }
      throw new ApiError(0, "network", "Cannot reach the server. Check your connection and try again.");
    }
  }
}

function errorFrom(status: number, data: unknown): ApiError {
  const error =
    typeof data === "object" && data !== null && "error" in data
      ? ((data as { error: unknown }).error as Record<string, unknown> | null)
      : null;
  const code = typeof error?.code === "string" ? error.code : status >= 500 ? "internal" : "bad_request";
  const field = typeof error?.field === "string" ? error.field : null;
  let message = typeof error?.message === "string" && error.message ? error.message : "";
  if (status >= 500) {
    message = `The server had a problem (HTTP ${status})${message ? `: ${message}` : ""}. Try again in a moment.`;
  } else if (status === 429) {
    message = message || "Too many requests. Wait a moment and try again.";
  } else if (status === 403) {
    message = message || "You are not allowed to do that.";
  } else if (status === 404) {
    message = message || "Not found.";
  } else {
    message = message || `The request was refused (HTTP ${status}).`;
  }
  return new ApiError(status, code, message, field);
}

/** A message for any error a screen may catch. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError || error instanceof SessionExpiredError) return error.message;
  return "Something went wrong. Try again.";
}
