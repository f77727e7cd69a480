import { describe, expect, it, vi } from "vitest";
import { localKeyValue } from "../lib/persist";
import { SessionExpiredError } from "../lib/errors";
import { jsonFetch, makeJwt, type FakeReply, type FakeRequest } from "../test/fakes";
import { CognitoClient } from "./cognito";
import { AuthService, SESSION_EXPIRED_NOTICE } from "./session";

const NOW = 1_800_000_000_000;
const KEY = "openclaw:dep:auth";

function tokensBody(expMs: number, refresh: string | null = "r1") {
  return {
    AuthenticationResult: {
      AccessToken: makeJwt({ exp: expMs / 1000, n: Math.random() }),
      IdToken: makeJwt({ exp: expMs / 1000 }),
      ...(refresh ? { RefreshToken: refresh } : {}),
    },
  };
}

function service(handler: (req: FakeRequest) => FakeReply, now = () => NOW) {
  const fetch = jsonFetch(handler);
  const auth = new AuthService(new CognitoClient("https://c.test/", "client", { fetch, now }), localKeyValue(localStorage), "dep", now);
  return { auth, fetch, target: (i: number) => fetch.calls[i]?.headers["x-amz-target"]?.split(".")[1] };
}

function saveTokens(expiresAt: number) {
  localStorage.setItem(
    KEY,
    JSON.stringify({ tokens: { idToken: "i", accessToken: "old-access", refreshToken: "r-saved", expiresAt }, username: "owner" }),
  );
}

describe("AuthService", () => {
  it("signs in, keeps the tokens across a reload, and remembers the username", async () => {
    const { auth } = service(() => ({ body: tokensBody(NOW + 3600_000) }));
    await auth.init();
    expect(auth.store.get().status).toBe("signedOut");
    await auth.signIn("  owner ", "pw");
    expect(auth.store.get()).toMatchObject({ status: "signedIn", username: "owner", error: null, busy: false });
    expect(JSON.parse(localStorage.getItem(KEY)!)).toMatchObject({ username: "owner", tokens: { refreshToken: "r1" } });

    const { auth: reloaded, fetch } = service(() => ({ body: {} }));
    await reloaded.init();
    expect(reloaded.store.get().status).toBe("signedIn");
    expect(fetch.calls).toHaveLength(0); // a valid token needs no call
  });

  it("shows a clear error for a wrong password and stays on the form", async () => {
    const { auth } = service(() => ({ status: 400, body: { __type: "NotAuthorizedException", message: "Incorrect username or password." } }));
    await auth.init();
    await auth.signIn("owner", "bad");
    expect(auth.store.get()).toMatchObject({ status: "signedOut", error: "Incorrect username or password.", busy: false });
    expect(localStorage.getItem(KEY)).toBeNull();
  });

  it("asks for a new password on first sign-in, then signs in", async () => {
    const { auth, fetch } = service((req) =>
      req.headers["x-amz-target"]!.endsWith("InitiateAuth")
        ? { body: { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s1", ChallengeParameters: { USERNAME: "owner" } } }
        : { body: tokensBody(NOW + 3600_000) },
    );
    await auth.signIn("owner", "Temp-1");
    expect(auth.store.get().status).toBe("newPassword");
    await auth.completeNewPassword("New-pass-1!");
    expect(auth.store.get().status).toBe("signedIn");
    expect(fetch.calls[1]!.body).toMatchObject({ Session: "s1", ChallengeResponses: { USERNAME: "owner", NEW_PASSWORD: "New-pass-1!" } });
  });

  it("keeps the new-password form open when the password breaks the rules", async () => {
    const { auth } = service((req) =>
      req.headers["x-amz-target"]!.endsWith("InitiateAuth")
        ? { body: { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s1" } }
        : { status: 400, body: { __type: "InvalidPasswordException", message: "Password does not conform to policy: Password not long enough" } },
    );
    await auth.signIn("owner", "Temp-1");
    await auth.completeNewPassword("short");
    expect(auth.store.get()).toMatchObject({ status: "newPassword", error: expect.stringMatching(/not long enough/) });
  });

  it("refreshes an expired saved session at start-up", async () => {
    saveTokens(NOW - 1000);
    const { auth, fetch } = service(() => ({ body: tokensBody(NOW + 3600_000, null) }));
    await auth.init();
    expect(auth.store.get().status).toBe("signedIn");
    expect(fetch.calls[0]!.body).toMatchObject({ AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: "r-saved" } });
    expect(JSON.parse(localStorage.getItem(KEY)!).tokens.refreshToken).toBe("r-saved");
  });

  it("ends an expired session with a notice when Cognito refuses the refresh", async () => {
    saveTokens(NOW - 1000);
    const { auth } = service(() => ({ status: 400, body: { __type: "NotAuthorizedException", message: "Refresh Token has expired" } }));
    await auth.init();
    expect(auth.store.get()).toMatchObject({ status: "signedOut", notice: SESSION_EXPIRED_NOTICE, username: "owner" });
    expect(localStorage.getItem(KEY)).toBeNull();
  });

  it("stays signed in when the refresh fails only because the network is down", async () => {
    saveTokens(NOW - 1000);
    const { auth } = service(() => "network-error");
    await auth.init();
    expect(auth.store.get().status).toBe("signedIn");
    await expect(auth.accessToken()).rejects.toMatchObject({ type: "NetworkError" });
    expect(localStorage.getItem(KEY)).not.toBeNull();
  });

  it("refreshes once for many concurrent callers, shortly before expiry", async () => {
    let now = NOW;
    const { auth, fetch } = service(
      () => ({ body: tokensBody(now + 3600_000) }),
      () => now,
    );
    await auth.signIn("owner", "pw");
    const first = await auth.accessToken();
    now += 3600_000 - 60_000; // one minute left: inside the refresh margin
    const tokens = await Promise.all([auth.accessToken(), auth.accessToken(), auth.accessToken()]);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first);
    expect(fetch.calls).toHaveLength(2); // sign-in + one refresh
  });

  it("signs out: revokes this browser's refresh token and forgets the tokens even if Cognito fails", async () => {
    const { auth, target, fetch } = service((req) =>
      req.headers["x-amz-target"]!.endsWith("RevokeToken") ? { status: 500, raw: "oops" } : { body: tokensBody(NOW + 3600_000) },
    );
    await auth.signIn("owner", "pw");
    await auth.signOut();
    expect(target(1)).toBe("RevokeToken");
    expect(fetch.calls[1]!.body).toEqual({ Token: "r1", ClientId: "client" });
    expect(auth.store.get().status).toBe("signedOut");
    expect(localStorage.getItem(KEY)).toBeNull();
    await expect(auth.accessToken()).rejects.toBeInstanceOf(SessionExpiredError);
  });

  it("signs out everywhere with GlobalSignOut", async () => {
    const { auth, target } = service(() => ({ body: tokensBody(NOW + 3600_000) }));
    await auth.signIn("owner", "pw");
    await auth.signOut({ everywhere: true });
    expect(target(1)).toBe("GlobalSignOut");
  });

  it("follows a sign-out made in another tab", async () => {
    const { auth } = service(() => ({ body: tokensBody(NOW + 3600_000) }));
    await auth.signIn("owner", "pw");
    localStorage.removeItem(KEY);
    auth.onStorage(new StorageEvent("storage", { key: KEY, newValue: null }));
    expect(auth.store.get().status).toBe("signedOut");
  });

  it("forgets unreadable saved data", async () => {
    localStorage.setItem(KEY, "{not json");
    const { auth } = service(() => ({ body: {} }));
    await auth.init();
    expect(auth.store.get().status).toBe("signedOut");
    expect(localStorage.getItem(KEY)).toBeNull();
    vi.restoreAllMocks();
  });
});
