import { describe, expect, it, vi } from "vitest";
import { SessionExpiredError } from "../lib/errors";
import { jsonFetch, type FakeReply, type FakeRequest } from "../test/fakes";
import { Api, ApiError, type TokenSource } from "./http";

function api(handler: (req: FakeRequest) => FakeReply) {
  let token = "tok-1";
  const expire = vi.fn<() => void>();
  const auth: TokenSource = {
    accessToken: async (options?: { force?: boolean }) => {
      if (options?.force) token = "tok-2";
      return token;
    },
    expire,
  };
  const fetch = jsonFetch(handler);
  return { api: new Api("https://api.test", auth, fetch), auth: { expire }, fetch };
}

describe("Api", () => {
  it("sends the access token and reads the documented shapes", async () => {
    const { api: a, fetch } = api((req) =>
      req.url.pathname === "/api/ws-ticket"
        ? { body: { ticket: "T", expiresAt: 1_764_140_060, url: "wss://ws.test/prod" } }
        : { body: { conversations: [{ session: "s1", title: "Hi", updatedAt: 1_764_140_000 }, { title: "no session" }] } },
    );
    expect(await a.wsTicket()).toEqual({ ticket: "T", url: "wss://ws.test/prod", expiresAt: 1_764_140_060_000 });
    expect(fetch.calls[0]).toMatchObject({ method: "POST", headers: { authorization: "Bearer tok-1" } });
    expect(await a.conversations()).toEqual([{ session: "s1", title: "Hi", updatedAt: 1_764_140_000_000 }]);
  });

  it("pages history with limit and before", async () => {
    const { api: a, fetch } = api(() => ({
      body: { messages: [{ id: "m1", role: "user", text: "hi", at: 1, channel: "web" }], next: "CUR" },
    }));
    const page = await a.messages("web:a/b", "C0");
    expect(fetch.calls[0]!.url.pathname).toBe("/api/conversations/web%3Aa%2Fb/messages");
    expect(fetch.calls[0]!.url.searchParams.get("before")).toBe("C0");
    expect(fetch.calls[0]!.url.searchParams.get("limit")).toBe("50");
    expect(page).toEqual({ messages: [{ id: "m1", role: "user", text: "hi", at: 1000, channel: "web" }], next: "CUR" });
  });

  it("refreshes the token once on a 401 and retries", async () => {
    const { api: a, fetch, auth } = api((req) => (req.headers.authorization === "Bearer tok-1" ? { status: 401, body: {} } : { body: { provider: "x" } }));
    expect(await a.getSettings()).toEqual({ provider: "x" });
    expect(fetch.calls).toHaveLength(2);
    expect(auth.expire).not.toHaveBeenCalled();
  });

  it("ends the session when the server still says 401 after a refresh", async () => {
    const { api: a, auth } = api(() => ({ status: 401, body: { message: "Unauthorized" } }));
    await expect(a.getSettings()).rejects.toBeInstanceOf(SessionExpiredError);
    expect(auth.expire).toHaveBeenCalledTimes(1);
  });

  it("explains a server error, with its own message when it gives one", async () => {
    const { api: a } = api(() => ({ status: 500, body: { error: { code: "internal", message: "DynamoDB throttled" } } }));
    const error = (await a.conversations().catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("The server had a problem (HTTP 500): DynamoDB throttled. Try again in a moment.");

    const { api: b } = api(() => ({ status: 502, raw: "<html>Bad Gateway</html>" }));
    await expect(b.conversations()).rejects.toThrow("The server had a problem (HTTP 502). Try again in a moment.");
  });

  it("names the field a 400 refuses", async () => {
    const { api: a } = api(() => ({
      status: 400,
      body: { error: { code: "bad_request", message: "idleTimeoutMinutes must be 5–120", field: "idleTimeoutMinutes" } },
    }));
    const error = (await a.putSettings({ provider: "p", model: "m", idleTimeoutMinutes: 1 }).catch((e: unknown) => e)) as ApiError;
    expect(error.field).toBe("idleTimeoutMinutes");
    expect(error.message).toBe("idleTimeoutMinutes must be 5–120");
  });

  it("reports a network failure plainly", async () => {
    const { api: a } = api(() => "network-error");
    await expect(a.pairing()).rejects.toThrow("Cannot reach the server. Check your connection and try again.");
  });
});
