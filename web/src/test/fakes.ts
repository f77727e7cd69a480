/** Test doubles: a scriptable WebSocket, a routing fetch, JWTs, and a services bundle. */
import { vi } from "vitest";
import type { SocketLike } from "../protocol/client";
import { parseConfig, type RuntimeConfig } from "../config";
import { createServices, type Services } from "../services";
import { localKeyValue } from "../lib/persist";

export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: { code?: number | undefined; reason?: string | undefined } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.all.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  static reset(): void {
    FakeSocket.all = [];
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("InvalidStateError: socket not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  /** Server side: accept the connection. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }

  /** Server side: close the connection (1001 = API Gateway's idle or 2-hour cut). */
  serverClose(code = 1001, reason = "Going away"): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type);
  }
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
}

export type FakeReply = { status?: number; body?: unknown; raw?: string } | "network-error";

export function jsonFetch(handler: (req: FakeRequest) => FakeReply | Promise<FakeReply>) {
  const calls: FakeRequest[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const text = typeof init?.body === "string" ? init.body : "";
    const req: FakeRequest = {
      method: init?.method ?? "GET",
      url: new URL(String(input)),
      headers,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
    calls.push(req);
    const reply = await handler(req);
    if (reply === "network-error") throw new TypeError("Failed to fetch");
    const body = reply.raw ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
    return new Response(body, { status: reply.status ?? 200 });
  });
  return Object.assign(fn as unknown as typeof fetch, { calls });
}

export function makeJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${b64({ alg: "none" })}.${b64(claims)}.sig`;
}

export const CONFIG: RuntimeConfig = parseConfig({
  apiUrl: "https://api.example.test",
  wsUrl: "wss://ws.example.test/prod",
  region: "us-east-1",
  cognito: { endpoint: "https://cognito.example.test/", userPoolId: "us-east-1_pool", clientId: "client123" },
  deployment: "test",
});

/** Services with fetch routed to `handler` and sockets replaced by FakeSocket. */
export function testServices(handler: (req: FakeRequest) => FakeReply | Promise<FakeReply>): Services & {
  fetch: ReturnType<typeof jsonFetch>;
} {
  const fetch = jsonFetch(handler);
  vi.stubGlobal("fetch", fetch);
  const services = createServices(CONFIG, localKeyValue(localStorage));
  return Object.assign(services, { createSocket: (url: string) => new FakeSocket(url), fetch });
}

/** Save a signed-in session the way AuthService does, valid for an hour. */
export function saveSession(username = "owner", expiresAt = Date.now() + 3600_000): void {
  const tokens = {
    idToken: makeJwt({ exp: expiresAt / 1000, token_use: "id" }),
    accessToken: makeJwt({ exp: expiresAt / 1000, token_use: "access" }),
    refreshToken: "refresh-1",
    expiresAt,
  };
  localStorage.setItem(`openclaw:${CONFIG.deployment}:auth`, JSON.stringify({ tokens, username }));
}
