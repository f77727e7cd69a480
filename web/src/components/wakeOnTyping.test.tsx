import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { TYPING_WAKE_COOLDOWN_MS, wakeOnTypingKey } from "../state/chat";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});
const IDLE = { state: "Idle", phase: null, since: null, lastStopReason: null, timings: {}, recentWakes: [] };

/** The API with POST /api/agent/start answered by `start` (Starting, as the server says, by default). */
function backend(start: () => FakeReply) {
  return (req: FakeRequest): FakeReply => {
    if (req.headers["x-amz-target"]) return { body: tokens() };
    const path = req.url.pathname;
    if (path === "/api/ws-ticket") return { body: { ticket: "T1" } };
    if (path === "/api/conversations") return { body: { conversations: [] } };
    if (path === "/api/agent/start") return start();
    if (path === "/api/agent") return { body: IDLE };
    if (path === "/api/settings") return { body: { provider: null, model: null, idleTimeoutMinutes: 15 } };
    if (path === "/api/providers") return { body: { providers: [], tools: [], default: { provider: null, model: null }, applies: "" } };
    if (path.endsWith("/messages")) return { body: { messages: [], next: null } };
    return { status: 404, body: {} };
  };
}

const STARTING: FakeReply = { status: 202, body: { ...IDLE, state: "Starting", phase: "starting", since: Date.now() / 1000 } };

/** The chat open, the socket up and the agent reported in `state`; the composer is focused. */
async function chatWith(state: string, start: () => FakeReply = () => STARTING) {
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = testServices(backend(start));
  render(<App boot={() => Promise.resolve(services)} />);
  const box = await screen.findByRole("textbox", { name: "Message" });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  act(() => FakeSocket.latest().receive({ type: "agent.status", state, phase: null, since: Date.now() / 1000 }));
  const starts = () => services.fetch.calls.filter((c) => c.method === "POST" && c.url.pathname === "/api/agent/start").length;
  return { services, box, starts };
}

beforeEach(() => FakeSocket.reset());
afterEach(() => vi.restoreAllMocks());

describe("waking the agent when the owner starts typing", () => {
  it("wakes a sleeping agent once on the first character, not on focus nor on every key", async () => {
    const user = userEvent.setup();
    const { services, box, starts } = await chatWith("Idle");
    await user.click(box);
    expect(box).toHaveFocus();
    expect(starts()).toBe(0);

    await user.type(box, "W");
    await waitFor(() => expect(starts()).toBe(1));
    // Marked as the typing wake-up: unlike the owner's Start, it leaves a start block in place.
    const call = services.fetch.calls.find((c) => c.url.pathname === "/api/agent/start");
    expect(call?.url.searchParams.get("reason")).toBe("typing");
    // The banner follows the call's answer at once, without waiting for the socket.
    expect(await screen.findByText(/Waking your agent — Starting your agent's machine/)).toBeInTheDocument();
    expect(screen.getByText(/Waking your agent while you type…/)).toBeInTheDocument();
    // Nothing is queued yet: the stepper does not claim a message was.
    expect(within(screen.getByRole("list", { name: "Wake-up steps" })).queryByText("Message queued")).not.toBeInTheDocument();

    await user.type(box, "hat is on my calendar today?");
    expect(starts()).toBe(1);
  });

  it("leaves an agent that is already starting or running alone", async () => {
    const user = userEvent.setup();
    for (const state of ["Running", "Starting", "Stopping"]) {
      FakeSocket.reset();
      const { box, starts } = await chatWith(state);
      await user.type(box, "hello");
      expect(starts()).toBe(0);
      document.body.innerHTML = "";
    }
  });

  it("asks again only after the cool-down", async () => {
    const user = userEvent.setup();
    // The agent stays asleep (say a start that failed): typing on must not call on every key.
    const { box, starts } = await chatWith("Idle", () => ({ status: 502, body: { error: { code: "agent_failed", message: "no capacity" } } }));
    await user.type(box, "one");
    await waitFor(() => expect(starts()).toBe(1));
    await user.type(box, " two");
    expect(starts()).toBe(1);

    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() + TYPING_WAKE_COOLDOWN_MS + 1_000);
    await user.type(box, " three");
    await waitFor(() => expect(starts()).toBe(2));
  });

  it("sends as usual when the wake-up call fails, and says nothing about it in the composer", async () => {
    const user = userEvent.setup();
    const { box, starts } = await chatWith("Idle", () => "network-error");
    await user.type(box, "still there?");
    await waitFor(() => expect(starts()).toBe(1));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.queryByText(/while you type/)).not.toBeInTheDocument();

    await user.type(box, "{Enter}");
    expect(FakeSocket.latest().sentOfType("chat.send")).toEqual([expect.objectContaining({ session: "web-s1", text: "still there?" })]);
    expect(box).toHaveValue("");
  });

  it("can be turned off on the settings page, kept in this browser", async () => {
    const user = userEvent.setup();
    const { box, starts } = await chatWith("Idle");
    act(() => {
      window.location.hash = "#/settings";
    });
    const toggle = await screen.findByRole("checkbox", { name: "Wake the agent when I start typing" });
    expect(toggle).toBeChecked();
    await user.click(toggle);
    expect(toggle).not.toBeChecked();
    expect(localStorage.getItem(wakeOnTypingKey("openclaw:test:"))).toBe("off");

    act(() => {
      window.location.hash = "#/c/web-s1";
    });
    await user.type(await screen.findByRole("textbox", { name: "Message" }), "no wake-up please");
    expect(starts()).toBe(0);
    expect(box).not.toBeInTheDocument(); // the chat was mounted anew: the choice was read again

    act(() => {
      window.location.hash = "#/settings";
    });
    await user.click(await screen.findByRole("checkbox", { name: "Wake the agent when I start typing" }));
    expect(localStorage.getItem(wakeOnTypingKey("openclaw:test:"))).toBeNull();
  });
});
