import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { ConfigError } from "../config";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});

type Handler = (req: FakeRequest) => FakeReply | undefined;

/** Cognito and API answers: `extra` first, then sensible defaults. */
function backend(extra: Handler = () => undefined) {
  return (req: FakeRequest): FakeReply => {
    const answer = extra(req);
    if (answer) return answer;
    const target = req.headers["x-amz-target"];
    if (target) return { body: target.endsWith("RevokeToken") ? {} : tokens() };
    switch (req.url.pathname) {
      case "/api/ws-ticket":
        return { body: { ticket: "T1" } };
      case "/api/conversations":
        return { body: { conversations: [{ session: "web-old", title: "Trip planning", updatedAt: 1_764_140_000 }] } };
      default:
        if (req.url.pathname.endsWith("/messages")) return { body: { messages: [], next: null } };
        return { status: 404, body: {} };
    }
  };
}

function start(handler: (req: FakeRequest) => FakeReply) {
  const services = testServices(handler);
  const boot = () => Promise.resolve(services);
  render(<App boot={boot} />);
  return services;
}

/** Sign in through the UI with a saved session, then open the socket. */
async function signedIn(extra?: Handler) {
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = start(backend(extra));
  await screen.findByRole("textbox", { name: "Message" });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  return services;
}

beforeEach(() => FakeSocket.reset());

describe("starting up", () => {
  it("says clearly when config.json is missing", async () => {
    render(<App boot={() => Promise.reject(new ConfigError("config.json could not be loaded (HTTP 404)."))} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("config.json could not be loaded (HTTP 404).");
  });

  it("sends an expired session back to sign-in with a notice, username filled in", async () => {
    saveSession("owner", Date.now() - 1000);
    start(backend((req) => (req.headers["x-amz-target"] ? { status: 400, body: { __type: "NotAuthorizedException", message: "Refresh Token has expired" } } : undefined)));
    expect(await screen.findByText(/Your session has expired/)).toHaveAttribute("role", "status");
    expect(screen.getByLabelText("Username")).toHaveValue("owner");
  });
});

describe("signing in", () => {
  it("shows a wrong password as an error, then takes the first sign-in through a new password", async () => {
    const user = userEvent.setup();
    let attempts = 0;
    start(
      backend((req) => {
        const target = req.headers["x-amz-target"] ?? "";
        if (target.endsWith("InitiateAuth")) {
          attempts++;
          return attempts === 1
            ? { status: 400, body: { __type: "NotAuthorizedException", message: "Incorrect username or password." } }
            : { body: { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "S", ChallengeParameters: { USERNAME: "owner" } } };
        }
        return undefined;
      }),
    );
    await user.type(await screen.findByLabelText("Username"), "owner");
    await user.type(screen.getByLabelText("Password"), "wrong{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("Incorrect username or password.");
    expect(screen.getByLabelText("Password")).toHaveValue("");

    await user.type(screen.getByLabelText("Password"), "Temp-pass-1{Enter}");
    expect(await screen.findByRole("heading", { name: "Choose a new password" })).toBeInTheDocument();
    await user.type(screen.getByLabelText("New password"), "New-pass-1!");
    await user.type(screen.getByLabelText("Repeat it"), "New-pass-2!{Enter}");
    expect(screen.getByRole("alert")).toHaveTextContent("The two passwords differ");
    await user.clear(screen.getByLabelText("Repeat it"));
    await user.type(screen.getByLabelText("Repeat it"), "New-pass-1!{Enter}");
    expect(await screen.findByRole("textbox", { name: "Message" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /Trip planning/ })).toBeInTheDocument();
  });
});

describe("chatting", () => {
  it("sends with Enter, shows the waking status with phase and clock, then streams a Markdown reply", async () => {
    const user = userEvent.setup();
    await signedIn();
    const socket = FakeSocket.latest();
    const box = screen.getByRole("textbox", { name: "Message" });
    await user.type(box, "Write hello in Python{Shift>}{Enter}{/Shift}please{Enter}");
    const sent = socket.sentOfType("chat.send");
    expect(sent).toEqual([expect.objectContaining({ session: "web-s1", text: "Write hello in Python\nplease" })]);
    expect(box).toHaveValue("");
    const id = sent[0]!.id as string;

    act(() => {
      socket.receive({ type: "ack", id });
      socket.receive({ type: "agent.status", state: "Starting", phase: "restoring", since: Date.now() / 1000 - 23 });
    });
    expect(screen.getByText(/Waking your agent — Restoring its memory/)).toBeInTheDocument();
    expect(screen.getByText("0:23")).toBeInTheDocument();
    const steps = screen.getByRole("list", { name: "Wake-up steps" });
    expect(within(steps).getByText("Restoring its memory")).toHaveAttribute("aria-current", "step");

    act(() => {
      socket.receive({ type: "agent.status", state: "Running", phase: "ready", since: Date.now() / 1000 });
      socket.receive({ type: "chat.delta", id, session: "web-s1", seq: 0, text: "Here you go:\n\n```python\nprint('hello')\n" });
    });
    expect(screen.queryByText(/Waking your agent/)).not.toBeInTheDocument();
    act(() => socket.receive({ type: "chat.final", id, session: "web-s1", text: "Here you go:\n\n```python\nprint('hello')\n```\n\n**Done.**" }));
    const reply = screen.getByRole("article", { name: "Agent" });
    expect(within(reply).getByText("print('hello')").tagName).toBe("CODE");
    expect(within(reply).getByText("python")).toBeInTheDocument();
    expect(within(reply).getByRole("button", { name: "Copy" })).toBeInTheDocument();
    expect(within(reply).getByText("Done.").tagName).toBe("STRONG");
  });

  it("rides out a lost network quietly and sends what was written meanwhile", async () => {
    const user = userEvent.setup();
    await signedIn();
    const first = FakeSocket.latest();
    Object.defineProperty(navigator, "onLine", { configurable: true, get: () => false });
    act(() => {
      window.dispatchEvent(new Event("offline"));
      first.serverClose(1006);
    });
    expect(await screen.findByText("Offline")).toBeInTheDocument();
    await user.type(screen.getByRole("textbox", { name: "Message" }), "written offline{Enter}");
    expect(screen.getByText("Sending…")).toBeInTheDocument();

    Object.defineProperty(navigator, "onLine", { configurable: true, get: () => true });
    act(() => window.dispatchEvent(new Event("online")));
    await waitFor(() => expect(FakeSocket.all.length).toBe(2));
    act(() => FakeSocket.latest().open());
    const resent = FakeSocket.latest().sentOfType("chat.send");
    expect(resent).toEqual([expect.objectContaining({ text: "written offline" })]);
    act(() => FakeSocket.latest().receive({ type: "ack", id: resent[0]!.id }));
    expect(screen.queryByText("Sending…")).not.toBeInTheDocument();
    expect(screen.queryByText("Offline")).not.toBeInTheDocument();
    delete (navigator as { onLine?: boolean }).onLine;
  });

  it("keeps a 100 KB paste, says it is over the limit, and will not send it", async () => {
    const user = userEvent.setup();
    const services = await signedIn();
    const box = screen.getByRole("textbox", { name: "Message" });
    box.focus();
    await user.paste("y".repeat(100 * 1024));
    expect(screen.getByRole("alert")).toHaveTextContent("This message is 102,400 characters; the limit is 32,000. Shorten it or send it in parts.");
    expect(box).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("button", { name: "Send message" })).toBeDisabled();
    await user.keyboard("{Enter}");
    expect(FakeSocket.latest().sentOfType("chat.send")).toEqual([]);
    services.drafts.flush();
    expect(localStorage.getItem("openclaw:test:draft:web-s1")).toHaveLength(100 * 1024);
  });

  it("counts the wake-up from when it began here when the server has no start time", async () => {
    const user = userEvent.setup();
    await signedIn();
    await user.type(screen.getByRole("textbox", { name: "Message" }), "wake up{Enter}");
    act(() => FakeSocket.latest().receive({ type: "agent.status", state: "Idle", phase: "queued", since: 0 }));
    expect(screen.getByText(/Waking your agent — Message queued/)).toBeInTheDocument();
    expect(screen.getByText("0:00")).toBeInTheDocument();
  });

  it("shows a server error while loading a conversation, with a way to retry", async () => {
    let fail = true;
    const user = userEvent.setup();
    await signedIn((req) =>
      req.url.pathname.endsWith("/messages") && fail ? { status: 500, body: { error: { code: "internal", message: "boom" } } } : undefined,
    );
    expect(await screen.findByText(/The server had a problem \(HTTP 500\): boom/)).toBeInTheDocument();
    fail = false;
    await user.click(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(screen.queryByText(/HTTP 500/)).not.toBeInTheDocument());
  });

  it("marks a refused message and lets the user retry it", async () => {
    const user = userEvent.setup();
    await signedIn();
    await user.type(screen.getByRole("textbox", { name: "Message" }), "hi{Enter}");
    const id = FakeSocket.latest().sentOfType("chat.send")[0]!.id;
    act(() => FakeSocket.latest().receive({ type: "error", id, code: "rate_limited", message: "slow down" }));
    expect(screen.getByRole("alert")).toHaveTextContent("You are sending too fast");
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(FakeSocket.latest().sentOfType("chat.send")).toHaveLength(2);
  });

  it("signs out from the sidebar, forgetting the session's drafts", async () => {
    const user = userEvent.setup();
    const services = await signedIn();
    await user.type(screen.getByRole("textbox", { name: "Message" }), "private draft");
    services.drafts.flush();
    expect(localStorage.getItem("openclaw:test:draft:web-s1")).toBe("private draft");
    await user.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(localStorage.getItem("openclaw:test:auth")).toBeNull();
    expect(localStorage.getItem("openclaw:test:draft:web-s1")).toBeNull();
    expect(FakeSocket.latest().closedWith?.code).toBe(1000);
  });
});

const CATALOG = {
  providers: [
    { id: "anthropic", label: "Anthropic (Claude)", needsKey: true, keyOptional: false, needsBaseUrl: false, defaultModel: "claude-sonnet-4-5", models: ["claude-sonnet-4-5"], keyPage: null, hasKey: true, keyUpdatedAt: 1_764_140_000 },
    { id: "openai", label: "OpenAI", needsKey: true, keyOptional: false, needsBaseUrl: false, defaultModel: "gpt-5-mini", models: ["gpt-5-mini", "gpt-5"], keyPage: null, hasKey: false, keyUpdatedAt: null },
    { id: "bedrock", label: "Amazon Bedrock", needsKey: false, keyOptional: false, needsBaseUrl: false, defaultModel: "anthropic.claude", models: [], keyPage: null, hasKey: false, keyUpdatedAt: null },
  ],
  tools: [{ id: "brave", label: "Brave Search", tool: "web_search", keyPage: null, hasKey: false, keyUpdatedAt: null }],
  default: { provider: "anthropic", model: "claude-sonnet-4-5" },
  applies: "A change applies to the agent's next turn (a running agent looks at the settings before each one); no restart.",
};

describe("settings", () => {
  it("loads, validates, saves, and shows the field the server refuses", async () => {
    const user = userEvent.setup();
    const puts: unknown[] = [];
    let stored = { provider: "anthropic", model: "claude-sonnet", idleTimeoutMinutes: 15 };
    await signedIn((req) => {
      if (req.url.pathname === "/api/providers") return { body: CATALOG };
      if (req.url.pathname.startsWith("/api/providers/")) return { body: { models: ["claude-sonnet", "claude-opus"], source: "provider", problem: null } };
      if (req.url.pathname === "/api/settings" && req.method === "GET") return { body: stored };
      if (req.url.pathname === "/api/settings" && req.method === "PUT") {
        puts.push(req.body);
        const changes = req.body as Partial<typeof stored>;
        if ((changes.idleTimeoutMinutes ?? 0) > 120) {
          return { status: 400, body: { error: { code: "bad_request", message: "Idle timeout must be at most 120 minutes.", field: "idleTimeoutMinutes" } } };
        }
        stored = { ...stored, ...changes };
        return { body: stored };
      }
      if (req.url.pathname === "/api/agent") return { body: { state: "Idle", phase: null, since: null, lastStopReason: "idle timeout" } };
      return undefined;
    });
    window.location.hash = "#/settings";
    const idle = await screen.findByLabelText("Sleep after (minutes without messages)");
    const model = screen.getByRole("combobox", { name: "Model" });
    expect(model).toHaveValue("claude-sonnet");
    expect(await screen.findByText("idle timeout")).toBeInTheDocument();
    expect(await screen.findByText(/2 models from Anthropic \(Claude\)'s own list/)).toBeInTheDocument();
    expect(screen.getByText(/looks at the settings before each one/)).toBeInTheDocument();

    await user.clear(idle);
    await user.type(idle, "0");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByRole("alert")).toHaveTextContent("at least 1");
    expect(puts).toHaveLength(0);

    await user.clear(idle);
    await user.type(idle, "500");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Idle timeout must be at most 120 minutes.");
    expect(idle).toHaveAttribute("aria-invalid", "true");

    await user.clear(idle);
    await user.type(idle, "30");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText(/Saved/)).toBeInTheDocument();
    expect(puts.at(-1)).toEqual({ idleTimeoutMinutes: 30 }); // only what changed

    await user.clear(model);
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Choose both a provider and a model.");
    await user.type(model, "claude-opus");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(puts.at(-1)).toEqual({ provider: "anthropic", model: "claude-opus" }));

    await user.click(screen.getByRole("button", { name: "Use the deployment's default" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(puts.at(-1)).toEqual({ provider: null }));
  });

  it("says which provider has no key, refuses the switch with the command, and takes keys write-only", async () => {
    const user = userEvent.setup();
    const keyPuts: { path: string; body: unknown }[] = [];
    const catalog = structuredClone(CATALOG);
    await signedIn((req) => {
      const path = req.url.pathname;
      if (path === "/api/providers") return { body: catalog };
      if (path.startsWith("/api/providers/")) return { body: { models: ["gpt-5-mini"], source: "curated", problem: "no key yet" } };
      if (path === "/api/settings" && req.method === "GET") return { body: { provider: null, model: null, idleTimeoutMinutes: 15 } };
      if (path === "/api/settings" && req.method === "PUT") {
        return { status: 409, body: { error: { code: "no_key", message: "OpenAI has no API key yet; add one first: openclaw-deploy keys set openai", field: "provider" } } };
      }
      if (path.startsWith("/api/keys/") && req.method === "PUT") {
        keyPuts.push({ path, body: req.body });
        Object.assign(catalog.providers[1]!, { hasKey: true, keyUpdatedAt: 1_764_150_000 });
        return { body: { id: "openai", updatedAt: 1_764_150_000 } };
      }
      if (path === "/api/agent") return { body: { state: "Idle", phase: null, since: null, lastStopReason: null } };
      return undefined;
    });
    window.location.hash = "#/settings";
    const provider = await screen.findByRole("combobox", { name: "Provider" });
    expect(await screen.findByRole("option", { name: "The deployment's default (anthropic/claude-sonnet-4-5)" })).toBeInTheDocument();
    expect(screen.getByRole("option", { name: "OpenAI — no key yet" })).toBeInTheDocument();

    await user.selectOptions(provider, "openai");
    expect(screen.getByRole("combobox", { name: "Model" })).toHaveValue("gpt-5-mini");
    expect(screen.getByText(/No OpenAI key yet: add one under API keys below \(or openclaw-deploy keys set openai\)/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText(/openclaw-deploy keys set openai/, { selector: "[role=alert]" })).toBeInTheDocument();

    const field = screen.getByLabelText(/^OpenAI/, { selector: "input" });
    expect(field).toHaveAttribute("type", "password");
    await user.type(field, "sk-canary-web-123");
    await user.click(within(screen.getByRole("form", { name: "OpenAI key" })).getByRole("button", { name: "Save key" }));
    expect(await screen.findByText("Saved. Used from the agent's next turn.")).toBeInTheDocument();
    expect(keyPuts).toEqual([{ path: "/api/keys/openai", body: { key: "sk-canary-web-123" } }]);
    expect(field).toHaveValue("");
    expect(document.body.textContent).not.toContain("sk-canary-web-123");
    await waitFor(() => expect(screen.getByTestId("key-state-openai")).toHaveTextContent(/^Key set/));
    expect(screen.getByTestId("key-state-brave")).toHaveTextContent("No key");
  });

  it("says so when the server fails", async () => {
    await signedIn((req) => (req.url.pathname === "/api/settings" ? { status: 503, raw: "Service Unavailable" } : undefined));
    window.location.hash = "#/settings";
    expect(await screen.findByText(/Could not load the settings\. The server had a problem \(HTTP 503\)/)).toBeInTheDocument();
  });
});

describe("telegram pairing", () => {
  it("shows a code to send to the bot, approves a pending request and revokes a paired user", async () => {
    const user = userEvent.setup();
    const calls: string[] = [];
    await signedIn((req) => {
      const path = req.url.pathname;
      if (path.startsWith("/api/pairing")) calls.push(`${req.method} ${path}`);
      if (path === "/api/pairing/code") return { body: { code: "K7Q2XM", expiresAt: Date.now() / 1000 + 600 } };
      if (path === "/api/pairing") {
        return {
          body: {
            pending: [{ code: "ABC123", userId: "42", name: "Ada", requestedAt: 1_764_140_000 }],
            paired: [{ userId: "7", name: "Grace", pairedAt: 1_764_000_000 }],
          },
        };
      }
      if (path.startsWith("/api/pairing/") && req.method !== "GET") return { body: {} };
      return undefined;
    });
    window.location.hash = "#/telegram";
    await user.click(await screen.findByRole("button", { name: "Get a pairing code" }));
    expect(await screen.findByText("/pair K7Q2XM")).toBeInTheDocument();
    expect(screen.getByText(/Expires in (9:59|10:00)/)).toBeInTheDocument();

    await user.click(await screen.findByRole("button", { name: "Approve Ada" }));
    expect(calls).toContain("POST /api/pairing/ABC123/approve");

    await user.click(screen.getByRole("button", { name: "Revoke Grace" }));
    expect(calls).not.toContain("DELETE /api/pairing/7");
    await user.click(screen.getByRole("button", { name: "Confirm revoke" }));
    await waitFor(() => expect(calls).toContain("DELETE /api/pairing/7"));
  });
});
