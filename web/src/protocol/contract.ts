/**
 * The WebSocket message contract, as the browser sees it.
 *
 * Names and limits come from `src/generated/contract.json`, the output of the Python
 * `openclaw_deploy.runtime.contract.describe()` (see docs/protocol.md). The frame shapes below
 * spell out the fields of each type; `contract.test.ts` fails when the Python contract adds,
 * renames or drops a name this file does not handle.
 */
import contract from "../generated/contract.json";

export const CONTRACT = contract;
export const MAX_TEXT_CHARS: number = contract.maxTextChars;
export const FRAME_BYTES: number = contract.frameBytes;
export const ID_PATTERN = new RegExp(contract.idPattern);

/** What the web chat may attach (the server checks it again). */
export const UPLOADS = contract.uploads;

/** A file named in `chat.send` once it is uploaded. */
export interface Attachment {
  key: string;
  name: string;
  contentType: string;
  size: number;
}

const sizeText = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
export { sizeText };

/** Why this file cannot be attached (said before anything is uploaded), or null. */
export function fileProblem(file: { name: string; type: string; size: number }): string | null {
  const type = file.type || "application/octet-stream";
  const image = UPLOADS.imageTypes.includes(type);
  if (!image && !UPLOADS.fileTypes.includes(type)) {
    return `${file.name}: this kind of file (${type}) cannot be sent. Images (JPEG, PNG, GIF, WebP), PDF, text, CSV, JSON, ZIP, Word, Excel and audio can.`;
  }
  const limit = image ? UPLOADS.maxImageBytes : UPLOADS.maxBytes;
  if (file.size > limit) return `${file.name} is ${sizeText(file.size)}; ${image ? "an image" : "a file"} can be at most ${sizeText(limit)}.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.name.length > UPLOADS.maxNameChars) return `${file.name.slice(0, 40)}…: the name is longer than ${UPLOADS.maxNameChars} characters.`;
  return null;
}

/** The frame types this client sends and handles; the test compares them with the contract. */
export const CLIENT_TYPES = ["chat.send", "chat.stop", "ping", "resume"] as const;
export const SERVER_TYPES = ["ack", "pong", "agent.status", "chat.delta", "chat.final", "agent.activity", "error"] as const;

export type AgentState = "Idle" | "Starting" | "Running" | "Stopping";
export type ErrorCode = "bad_request" | "too_long" | "unauthorized" | "rate_limited" | "agent_failed" | "internal";

export type ClientFrame =
  | { type: "chat.send"; id: string; session: string; text: string; attachments?: Attachment[] }
  /** Stop the reply to the chat.send with this id. */
  | { type: "chat.stop"; id: string; session: string }
  | { type: "ping"; id: string }
  | { type: "resume"; id: string; session: string };

export interface AgentStatus {
  state: AgentState;
  phase: string | null;
  /** Epoch milliseconds when the agent entered this state (null when unknown). */
  since: number | null;
}

export type ServerFrame =
  | { type: "ack"; id: string }
  | { type: "pong"; id: string }
  | ({ type: "agent.status" } & AgentStatus)
  | { type: "chat.delta"; id: string; session: string; seq: number; text: string }
  | {
      type: "chat.final";
      id: string;
      session: string;
      text: string;
      chunked: boolean;
      stopped: boolean;
      /** Files the agent produced, with short-lived download links. */
      attachments: { name: string; contentType: string; size: number; url: string }[];
    }
  | { type: "agent.activity"; id: string; session: string; kind: string; tool: string | null; detail: string | null }
  | { type: "error"; id: string | null; code: string; message: string };

const isString = (v: unknown): v is string => typeof v === "string";

/**
 * Epoch ms from seconds, milliseconds or an ISO string (the server's clock is in seconds);
 * null when absent or not a real time (the server writes 0 for "never").
 */
export function toEpochMs(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) {
    if (value <= 0) return null;
    return value < 1e12 ? value * 1000 : value;
  }
  if (isString(value) && value) {
    const asNumber = Number(value);
    if (Number.isFinite(asNumber)) return toEpochMs(asNumber);
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

/** Parse one server frame; null for anything that does not follow the contract (ignored). */
export function parseServerFrame(raw: unknown): ServerFrame | null {
  if (!isString(raw)) return null;
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    data = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const type = data.type;
  if (!isString(type) || !contract.serverTypes.includes(type)) return null;
  const id = data.id;
  switch (type) {
    case "ack":
    case "pong":
      return isString(id) ? { type, id } : null;
    case "agent.status": {
      const state = data.state;
      if (!isString(state) || !contract.agentStates.includes(state)) return null;
      const phase = isString(data.phase) ? data.phase : null;
      return { type, state: state as AgentState, phase, since: toEpochMs(data.since) };
    }
    case "chat.delta": {
      const { session, seq, text } = data;
      if (!isString(id) || !isString(session) || !isString(text) || typeof seq !== "number") return null;
      return { type, id, session, seq, text };
    }
    case "chat.final": {
      const { session, text } = data;
      if (!isString(id) || !isString(session) || !isString(text)) return null;
      const attachments = Array.isArray(data.attachments)
        ? data.attachments.filter(
            (a): a is { name: string; contentType: string; size: number; url: string } =>
              typeof a === "object" && a !== null && isString(a.name) && isString(a.url) && isString(a.contentType),
          )
        : [];
      return { type, id, session, text, chunked: data.chunked === true, stopped: data.stopped === true, attachments };
    }
    case "agent.activity": {
      // `activity`: what it does (tool, thinking); `kind` in the client's own shape.
      const { session, activity: kind } = data;
      if (!isString(id) || !isString(session) || !isString(kind)) return null;
      const tool = isString(data.tool) ? data.tool : null;
      const detail = isString(data.detail) ? data.detail : null;
      return { type, id, session, kind, tool, detail };
    }
    case "error": {
      const code = isString(data.code) ? data.code : "internal";
      const message = isString(data.message) ? data.message : "Something went wrong.";
      return { type, id: isString(id) ? id : null, code, message };
    }
    default:
      return null;
  }
}

/** Characters as the server counts them (code points, like Python's len), not UTF-16 units. */
export function codePointLength(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        surrogatePairs++;
        i++;
      }
    }
  }
  return text.length - surrogatePairs;
}

const encoder = new TextEncoder();

export type TextCheck =
  | { ok: true; chars: number }
  | { ok: false; reason: "empty"; chars: 0 }
  | { ok: false; reason: "too_long"; chars: number }
  | { ok: false; reason: "too_big"; chars: number; bytes: number };

/**
 * Whether a message can be sent: not blank, at most MAX_TEXT_CHARS characters, and its frame
 * within API Gateway's frame limit (32 KB). The byte check matters for non-Latin scripts: 32,000
 * characters of CJK text are ~96 KB, which API Gateway would refuse by closing the socket.
 */
export function checkText(text: string, session = "x".repeat(64)): TextCheck {
  if (!text.trim()) return { ok: false, reason: "empty", chars: 0 };
  // Code points never exceed UTF-16 units, so the exact count is only needed near the limit.
  const chars = text.length > MAX_TEXT_CHARS ? codePointLength(text) : text.length;
  if (chars > MAX_TEXT_CHARS) return { ok: false, reason: "too_long", chars };
  const frame = JSON.stringify({ type: "chat.send", id: "x".repeat(40), session, text });
  const bytes = frame.length * 3 <= FRAME_BYTES ? frame.length : encoder.encode(frame).length;
  if (bytes > FRAME_BYTES) return { ok: false, reason: "too_big", chars, bytes };
  return { ok: true, chars };
}

/** A fresh id that matches the contract's id pattern. */
export function newId(prefix = ""): string {
  const id = `${prefix}${crypto.randomUUID()}`;
  if (!ID_PATTERN.test(id)) throw new Error(`generated id ${id} does not match the contract`);
  return id;
}
