import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";
import { usualWake } from "./AgentBanner";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});

function backend(agent: FakeReply) {
  return (req: FakeRequest): FakeReply => {
    if (req.headers["x-amz-target"]) return { body: tokens() };
    if (req.url.pathname === "/api/ws-ticket") return { body: { ticket: "T1" } };
    if (req.url.pathname === "/api/conversations") return { body: { conversations: [] } };
    if (req.url.pathname === "/api/agent") return agent;
    if (req.url.pathname.endsWith("/messages")) return { body: { messages: [], next: null } };
    return { status: 404, body: {} };
  };
}

async function wakeUp(agent: FakeReply) {
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = testServices(backend(agent));
  render(<App boot={() => Promise.resolve(services)} />);
  const box = await screen.findByRole("textbox", { name: "Message" });
  // The socket opens once its ticket is fetched, which may come after the message box.
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  await userEvent.setup().type(box, "hello{Enter}");
  act(() => FakeSocket.latest().receive({ type: "agent.status", state: "Starting", phase: "starting", since: Date.now() / 1000 }));
  return services;
}

beforeEach(() => FakeSocket.reset());

describe("the wake-up banner's expectation", () => {
  it("comes from the owner's own recent wake-ups: their median", async () => {
    await wakeUp({ body: { state: "Starting", phase: "starting", since: null, recentWakes: [40, 22, 95, 26, 24] } });
    // The banner reads GET /api/agent after the socket says Starting; on a busy machine that can
    // take longer than findBy's default second, which says nothing about the banner.
    expect(
      await screen.findByText(/usually about 26 seconds, going by its last 5 wake-ups/, {}, { timeout: 10_000 }),
    ).toBeInTheDocument();
  });

  it("stays general before the first wake-up or when the status cannot be read", async () => {
    await wakeUp({ status: 500, body: {} });
    expect(screen.getByText(/\(usually within a minute\)/)).toBeInTheDocument();
  });

  it("takes the middle of an even count and ignores nothing else", () => {
    expect(usualWake([])).toBeNull();
    expect(usualWake([30, 20])).toEqual({ seconds: 25, count: 2 });
    expect(usualWake([120])).toEqual({ seconds: 120, count: 1 });
  });
});
