import { describe, expect, it } from "vitest";
import { jsonFetch, makeJwt } from "../test/fakes";
import { CognitoClient, CognitoError, describeAuthError, jwtExpiry } from "./cognito";

const ENDPOINT = "https://cognito-idp.us-east-1.amazonaws.com/";
const exp = 1_900_000_000;
const result = (refresh = true) => ({
  AuthenticationResult: {
    AccessToken: makeJwt({ exp, token_use: "access" }),
    IdToken: makeJwt({ exp, token_use: "id" }),
    ...(refresh ? { RefreshToken: "r1" } : {}),
    ExpiresIn: 3600,
  },
});

describe("CognitoClient", () => {
  it("signs in with USER_PASSWORD_AUTH through the JSON API", async () => {
    const fetch = jsonFetch(() => ({ body: result() }));
    const step = await new CognitoClient(ENDPOINT, "client1", { fetch }).signIn("owner", "pw");
    const call = fetch.calls[0]!;
    expect(call.url.toString()).toBe(ENDPOINT);
    expect(call.method).toBe("POST");
    expect(call.headers["x-amz-target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
    expect(call.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(call.body).toEqual({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: "client1",
      AuthParameters: { USERNAME: "owner", PASSWORD: "pw" },
    });
    expect(step).toMatchObject({ kind: "signedIn", tokens: { refreshToken: "r1", expiresAt: exp * 1000 } });
  });

  it("walks the first sign-in through NEW_PASSWORD_REQUIRED", async () => {
    const fetch = jsonFetch((req) =>
      req.headers["x-amz-target"]?.endsWith("InitiateAuth")
        ? { body: { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "sess", ChallengeParameters: { USER_ID_FOR_SRP: "uuid-1" } } }
        : { body: result() },
    );
    const cognito = new CognitoClient(ENDPOINT, "client1", { fetch });
    const step = await cognito.signIn("owner@example.com", "Temp-1");
    expect(step).toEqual({ kind: "newPassword", username: "uuid-1", session: "sess" });
    const done = await cognito.completeNewPassword("uuid-1", "sess", "New-pass-1!");
    expect(fetch.calls[1]!.body).toEqual({
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: "client1",
      Session: "sess",
      ChallengeResponses: { USERNAME: "uuid-1", NEW_PASSWORD: "New-pass-1!" },
    });
    expect(done.kind).toBe("signedIn");
  });

  it("keeps the refresh token when a refresh returns none", async () => {
    const fetch = jsonFetch(() => ({ body: result(false) }));
    const tokens = await new CognitoClient(ENDPOINT, "c", { fetch }).refresh("r-old");
    expect(fetch.calls[0]!.body).toMatchObject({ AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: "r-old" } });
    expect(tokens.refreshToken).toBe("r-old");
  });

  it("reports unknown challenges instead of hanging", async () => {
    const fetch = jsonFetch(() => ({ body: { ChallengeName: "SOFTWARE_TOKEN_MFA", Session: "s" } }));
    expect(await new CognitoClient(ENDPOINT, "c", { fetch }).signIn("a", "b")).toEqual({
      kind: "unsupported",
      challenge: "SOFTWARE_TOKEN_MFA",
    });
  });

  it("turns Cognito's error answers and network failures into CognitoError", async () => {
    const wrong = jsonFetch(() => ({
      status: 400,
      body: { __type: "com.amazonaws#NotAuthorizedException", message: "Incorrect username or password." },
    }));
    const error = await new CognitoClient(ENDPOINT, "c", { fetch: wrong }).signIn("a", "b").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognitoError);
    expect((error as CognitoError).type).toBe("NotAuthorizedException");

    const down = jsonFetch(() => "network-error");
    const offline = await new CognitoClient(ENDPOINT, "c", { fetch: down }).signIn("a", "b").catch((e: unknown) => e);
    expect((offline as CognitoError).type).toBe("NetworkError");

    const html = jsonFetch(() => ({ status: 502, raw: "<html>bad gateway</html>" }));
    const gateway = await new CognitoClient(ENDPOINT, "c", { fetch: html }).signIn("a", "b").catch((e: unknown) => e);
    expect((gateway as CognitoError).type).toBe("HTTP502");
  });
});

describe("describeAuthError", () => {
  it("says the same thing for a wrong password and an unknown user", () => {
    const wrong = describeAuthError(new CognitoError("NotAuthorizedException", "Incorrect username or password."));
    const unknown = describeAuthError(new CognitoError("UserNotFoundException", "User does not exist."));
    expect(wrong).toBe("Incorrect username or password.");
    expect(unknown).toBe(wrong);
  });

  it("explains password rules, lockouts and the network", () => {
    expect(
      describeAuthError(new CognitoError("InvalidPasswordException", "Password does not conform to policy: Password not long enough")),
    ).toBe("That password does not meet the pool's rules: Password not long enough.");
    expect(describeAuthError(new CognitoError("InvalidPasswordException", "does not confirm to the configured password policy"))).toMatch(
      /at least 8 characters/,
    );
    expect(describeAuthError(new CognitoError("NotAuthorizedException", "Password attempts exceeded"))).toMatch(/Too many failed attempts/);
    expect(describeAuthError(new CognitoError("NetworkError", ""))).toMatch(/Cannot reach the sign-in service/);
    expect(describeAuthError(new Error("boom"))).toMatch(/unexpectedly/);
  });
});

describe("jwtExpiry", () => {
  it("reads exp from a JWT, null for junk", () => {
    expect(jwtExpiry(makeJwt({ exp: 123 }))).toBe(123_000);
    expect(jwtExpiry("nope")).toBeNull();
    expect(jwtExpiry("a.!!!.c")).toBeNull();
  });
});
