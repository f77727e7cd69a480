/**
 * Cognito user-pool sign-in through its JSON API (the same calls Amplify makes, without Amplify).
 *
 * InitiateAuth, RespondToAuthChallenge, RevokeToken and GlobalSignOut are unsigned calls: the
 * app client id is the only credential, and no secret lives in the browser. The endpoint comes
 * from config.json so the local target can point it at its moto stand-in.
 */

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
}

export type SignInStep =
  | { kind: "signedIn"; tokens: Tokens }
  | { kind: "newPassword"; username: string; session: string }
  | { kind: "unsupported"; challenge: string };

/** An error answered by Cognito (`type` is the bare exception name) or by the network. */
export class CognitoError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.name = "CognitoError";
    this.type = type;
  }
}

export const NETWORK_ERROR = "NetworkError";

type Fetch = typeof fetch;

interface AuthenticationResult {
  AccessToken: string;
  IdToken: string;
  RefreshToken?: string;
  ExpiresIn?: number;
}

interface AuthResponse {
  AuthenticationResult?: AuthenticationResult;
  ChallengeName?: string;
  Session?: string;
  ChallengeParameters?: Record<string, string>;
}

/** The `exp` claim of a JWT in epoch ms, or null when the token cannot be read. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export class CognitoClient {
  private readonly fetchImpl: Fetch;
  private readonly now: () => number;

  constructor(
    private readonly endpoint: string,
    private readonly clientId: string,
    options: { fetch?: Fetch; now?: () => number } = {},
  ) {
    // Bound: calling the global fetch as a method of another object throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  async signIn(username: string, password: string): Promise<SignInStep> {
    const response = await this.call<AuthResponse>("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.step(response, username);
  }

  async completeNewPassword(username: string, session: string, newPassword: string): Promise<SignInStep> {
    const response = await this.call<AuthResponse>("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: this.clientId,
      Session: session,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
    });
    return this.step(response, username);
  }

  /** New id and access tokens; Cognito keeps the refresh token unless it rotates it. */
  async refresh(refreshToken: string): Promise<Tokens> {
    const response = await this.call<AuthResponse>("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: this.clientId,
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    if (!response.AuthenticationResult) {
      throw new CognitoError("NotAuthorizedException", "Refreshing the session returned no tokens.");
    }
    return this.tokens(response.AuthenticationResult, refreshToken);
  }

  /** Sign this browser out: the refresh token stops working (other devices stay signed in). */
  async revoke(refreshToken: string): Promise<void> {
    await this.call("RevokeToken", { Token: refreshToken, ClientId: this.clientId });
  }

  /** Sign out everywhere: every refresh token of the user stops working. */
  async globalSignOut(accessToken: string): Promise<void> {
    await this.call("GlobalSignOut", { AccessToken: accessToken });
  }

  private step(response: AuthResponse, username: string): SignInStep {
    if (response.AuthenticationResult) {
      return { kind: "signedIn", tokens: this.tokens(response.AuthenticationResult) };
    }
    if (response.ChallengeName === "NEW_PASSWORD_REQUIRED" && response.Session) {
      // Cognito may name the user by its internal id here; the challenge answer must use it.
      const name = response.ChallengeParameters?.USER_ID_FOR_SRP ?? response.ChallengeParameters?.USERNAME ?? username;
      return { kind: "newPassword", username: name, session: response.Session };
    }
    return { kind: "unsupported", challenge: response.ChallengeName ?? "unknown" };
  }

  private tokens(result: AuthenticationResult, previousRefresh?: string): Tokens {
    const refreshToken = result.RefreshToken ?? previousRefresh;
    if (!refreshToken) throw new CognitoError("NotAuthorizedException", "Cognito returned no refresh token.");
    const expiresAt =
      jwtExpiry(result.AccessToken) ?? this.now() + (result.ExpiresIn ?? 3600) * 1000;
    return { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken, expiresAt };
  }

  private async call<T>(action: string, body: unknown): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
        },
        body: JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new CognitoError(NETWORK_ERROR, "The sign-in service could not be reached.");
    }
    const text = await response.text();
    let data: Record<string, unknown> = {};
    try {
      data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // a proxy's HTML error page: reported below by status
    }
    if (!response.ok) {
      const rawType = typeof data.__type === "string" ? data.__type : `HTTP${response.status}`;
      const type = rawType.split("#").pop() ?? rawType;
      const message =
        typeof data.message === "string" ? data.message : typeof data.Message === "string" ? data.Message : "";
      throw new CognitoError(type, message);
    }
    return data as T;
  }
}

/** What to tell the user about a failed sign-in step; never reveals whether a user exists. */
export function describeAuthError(error: unknown): string {
  if (!(error instanceof CognitoError)) return "Sign-in failed unexpectedly. Try again.";
  switch (error.type) {
    case "NotAuthorizedException":
      if (/attempts exceeded/i.test(error.message)) {
        return "Too many failed attempts. Wait a few minutes before trying again.";
      }
      if (/session is expired|invalid session/i.test(error.message)) {
        return "This sign-in took too long. Start again with your temporary password.";
      }
      return "Incorrect username or password.";
    case "UserNotFoundException":
      return "Incorrect username or password.";
    case "InvalidPasswordException":
      return `That password does not meet the pool's rules: ${policyText(error.message)}`;
    case "PasswordResetRequiredException":
      return "This account needs a password reset before it can sign in.";
    case "UserNotConfirmedException":
      return "This account is not confirmed yet.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute and try again.";
    case "CodeMismatchException":
    case "ExpiredCodeException":
      return "This sign-in took too long. Start again with your temporary password.";
    case "InvalidParameterException":
    case "ResourceNotFoundException":
      return `Sign-in is misconfigured for this site (${error.type}). Check config.json's cognito settings.`;
    case NETWORK_ERROR:
      return "Cannot reach the sign-in service. Check your connection and try again.";
    default:
      return `Sign-in failed (${error.type}). Try again in a moment.`;
  }
}

function policyText(message: string): string {
  const detail = message.replace(/^Password does not conform to policy:\s*/i, "").trim();
  if (!detail || /configured password policy/i.test(detail)) {
    return "use at least 8 characters with upper- and lower-case letters, a number and a symbol.";
  }
  return detail.endsWith(".") ? detail : `${detail}.`;
}
