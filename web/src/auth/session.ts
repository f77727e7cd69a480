/**
 * The signed-in session: sign-in steps, tokens kept across reloads, refresh before expiry,
 * sign-out. Screens read `store`; the API and WebSocket clients ask `accessToken()`.
 *
 * Tokens live in localStorage so a reload (or a phone that unloaded the tab) stays signed in,
 * as Amplify does; the page has a strict CSP and renders Markdown through DOMPurify, which is
 * what keeps scripts away from them.
 */
import type { KeyValue } from "../lib/persist";
import { createStore, type Store } from "../lib/store";
import { SessionExpiredError } from "../lib/errors";
import { CognitoClient, CognitoError, NETWORK_ERROR, describeAuthError, type Tokens } from "./cognito";

export type AuthStatus = "loading" | "signedOut" | "newPassword" | "signedIn";

export interface AuthState {
  status: AuthStatus;
  /** The last username typed, kept to prefill the form. */
  username: string;
  /** Why the user is looking at the sign-in form again (e.g. the session expired). */
  notice: string | null;
  error: string | null;
  busy: boolean;
}

export const SESSION_EXPIRED_NOTICE = "Your session has expired. Sign in again — anything you typed is kept.";
export const SIGNED_OUT_NOTICE = "You are signed out.";

/** Refresh this long before the access token expires, so no request carries a dying token. */
const REFRESH_MARGIN_MS = 2 * 60_000;

interface Saved {
  tokens: Tokens;
  username: string;
}

export class AuthService {
  readonly store: Store<AuthState>;
  private tokens: Tokens | null = null;
  private challenge: { username: string; session: string } | null = null;
  private refreshing: Promise<string> | null = null;
  private readonly key: string;
  private readonly usernameKey: string;

  constructor(
    private readonly cognito: CognitoClient,
    private readonly kv: KeyValue,
    deployment: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = `openclaw:${deployment}:auth`;
    this.usernameKey = `openclaw:${deployment}:username`;
    this.store = createStore<AuthState>({
      status: "loading",
      username: this.kv.get(this.usernameKey) ?? "",
      notice: null,
      error: null,
      busy: false,
    });
  }

  /** Restore a saved session (refreshing it if the access token has expired). */
  async init(): Promise<void> {
    const saved = this.loadSaved();
    if (!saved) {
      this.store.set({ status: "signedOut" });
      return;
    }
    this.tokens = saved.tokens;
    this.store.set({ username: saved.username });
    if (saved.tokens.expiresAt - this.now() > REFRESH_MARGIN_MS) {
      this.store.set({ status: "signedIn" });
      return;
    }
    try {
      await this.accessToken({ force: true });
      this.store.set({ status: "signedIn" });
    } catch (error) {
      if (error instanceof SessionExpiredError) return; // expire() already showed the form
      // Offline at start-up: stay signed in; the next request refreshes again.
      this.store.set({ status: "signedIn" });
    }
  }

  /** Another tab signed out (or in): follow it. */
  onStorage(event: StorageEvent): void {
    if (event.key !== this.key) return;
    if (event.newValue === null && this.store.get().status === "signedIn") {
      this.tokens = null;
      this.store.set({ status: "signedOut", notice: SIGNED_OUT_NOTICE, error: null });
    } else if (event.newValue !== null) {
      const saved = this.loadSaved();
      if (saved) {
        this.tokens = saved.tokens;
        if (this.store.get().status !== "signedIn") {
          this.store.set({ status: "signedIn", username: saved.username, notice: null, error: null });
        }
      }
    }
  }

  async signIn(username: string, password: string): Promise<void> {
    const name = username.trim();
    this.kv.set(this.usernameKey, name);
    this.store.set({ busy: true, error: null, username: name });
    try {
      const step = await this.cognito.signIn(name, password);
      this.afterStep(step, name);
    } catch (error) {
      this.store.set({ busy: false, error: describeAuthError(error) });
    }
  }

  async completeNewPassword(newPassword: string): Promise<void> {
    const challenge = this.challenge;
    if (!challenge) {
      this.store.set({ status: "signedOut", error: "Start again with your temporary password." });
      return;
    }
    this.store.set({ busy: true, error: null });
    try {
      const step = await this.cognito.completeNewPassword(challenge.username, challenge.session, newPassword);
      this.afterStep(step, this.store.get().username);
    } catch (error) {
      const expired = error instanceof CognitoError && /session/i.test(error.message) && error.type === "NotAuthorizedException";
      this.store.set(expired
        ? { busy: false, status: "signedOut", error: describeAuthError(error) }
        : { busy: false, error: describeAuthError(error) });
    }
  }

  cancelChallenge(): void {
    this.challenge = null;
    this.store.set({ status: "signedOut", error: null, notice: null, busy: false });
  }

  /** Sign out here (or everywhere); local tokens go even when Cognito cannot be reached. */
  async signOut(options: { everywhere?: boolean } = {}): Promise<void> {
    const tokens = this.tokens;
    this.clear();
    this.store.set({ status: "signedOut", notice: SIGNED_OUT_NOTICE, error: null, busy: false });
    if (!tokens) return;
    try {
      if (options.everywhere) await this.cognito.globalSignOut(tokens.accessToken);
      else await this.cognito.revoke(tokens.refreshToken);
    } catch {
      // Best effort: the tokens are already gone from this browser.
    }
  }

  /** The session ended behind our back (refresh refused, API says 401 after a refresh). */
  expire(): void {
    if (this.store.get().status !== "signedIn" && this.tokens === null) return;
    this.clear();
    this.store.set({ status: "signedOut", notice: SESSION_EXPIRED_NOTICE, error: null, busy: false });
  }

  /**
   * A valid access token, refreshed when it is about to expire (or when `force` says the
   * server refused it). Throws SessionExpiredError when the session is over; other errors
   * (network) leave the session in place.
   */
  async accessToken(options: { force?: boolean } = {}): Promise<string> {
    const tokens = this.tokens;
    if (!tokens) throw new SessionExpiredError();
    if (!options.force && tokens.expiresAt - this.now() > REFRESH_MARGIN_MS) return tokens.accessToken;
    this.refreshing ??= this.refresh(tokens).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(tokens: Tokens): Promise<string> {
    try {
      const fresh = await this.cognito.refresh(tokens.refreshToken);
      if (this.tokens !== tokens) throw new SessionExpiredError(); // signed out meanwhile
      this.tokens = fresh;
      this.save();
      return fresh.accessToken;
    } catch (error) {
      if (error instanceof CognitoError && error.type !== NETWORK_ERROR && !error.type.startsWith("HTTP5")) {
        this.expire();
        throw new SessionExpiredError();
      }
      throw error;
    }
  }

  private afterStep(step: Awaited<ReturnType<CognitoClient["signIn"]>>, username: string): void {
    switch (step.kind) {
      case "signedIn":
        this.challenge = null;
        this.tokens = step.tokens;
        this.save();
        this.store.set({ status: "signedIn", busy: false, error: null, notice: null, username });
        return;
      case "newPassword":
        this.challenge = { username: step.username, session: step.session };
        this.store.set({ status: "newPassword", busy: false, error: null, notice: null });
        return;
      case "unsupported":
        this.store.set({
          busy: false,
          error: `Sign-in asks for a step this app does not support (${step.challenge}).`,
        });
    }
  }

  private loadSaved(): Saved | null {
    const raw = this.kv.get(this.key);
    if (!raw) return null;
    try {
      const saved = JSON.parse(raw) as Saved;
      const t = saved.tokens;
      if (t && typeof t.accessToken === "string" && typeof t.refreshToken === "string" && typeof t.expiresAt === "number") {
        return { tokens: t, username: typeof saved.username === "string" ? saved.username : "" };
      }
    } catch {
      // unreadable: treated as signed out
    }
    this.kv.remove(this.key);
    return null;
  }

  private save(): void {
    if (this.tokens) this.kv.set(this.key, JSON.stringify({ tokens: this.tokens, username: this.store.get().username }));
  }

  private clear(): void {
    this.tokens = null;
    this.challenge = null;
    this.kv.remove(this.key);
  }
}
