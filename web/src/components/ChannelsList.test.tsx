import { act, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});

/** The app, signed in, on the page that lists the channels (the Telegram pairing page). */
async function openChannels(channels: (req: FakeRequest) => FakeReply) {
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = testServices((req) => {
    if (req.headers["x-amz-target"]) return { body: tokens() };
    switch (req.url.pathname) {
      case "/api/channels":
        return channels(req);
      case "/api/pairing":
        return { body: { pending: [], paired: [] } };
      case "/api/ws-ticket":
        return { body: { ticket: "T1" } };
      case "/api/conversations":
        return { body: { conversations: [] } };
      default:
        if (req.url.pathname.endsWith("/messages")) return { body: { messages: [], next: null } };
        return { status: 404, body: {} };
    }
  });
  render(<App boot={() => Promise.resolve(services)} />);
  await screen.findByRole("textbox", { name: "Message" });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  window.location.hash = "#/telegram";
}

beforeEach(() => FakeSocket.reset());

describe("chat channels", () => {
  it("lists each channel as connected (as whom, with its paired people) or how to connect it", async () => {
    await openChannels(() => ({
      body: {
        channels: [
          { channel: "telegram", connected: true, identity: null, connectedAt: null, paired: 1 },
          { channel: "slack", connected: true, identity: "Acme (bot user U0BOT)", connectedAt: 1_764_140_000, paired: 2 },
          { channel: "discord", connected: false, identity: null, connectedAt: null, paired: 0 },
        ],
      },
    }));
    const list = await screen.findByRole("list", { name: "Chat channels" });
    const items = await within(list).findAllByRole("listitem");
    expect(items.map((i) => i.textContent)).toEqual([
      expect.stringMatching(/^Telegram connected · 1 person paired$/),
      expect.stringMatching(/^Slack connected as Acme \(bot user U0BOT\) since .+ · 2 people paired$/),
      "Discord not connected — openclaw-deploy channels add discord",
    ]);
  });

  it("says so when the list cannot be loaded", async () => {
    await openChannels(() => ({ status: 503, body: { error: { code: "internal", message: "down" } } }));
    expect(await screen.findByText(/Could not load the channels\./)).toBeInTheDocument();
    expect(screen.queryByText(/session has expired/)).not.toBeInTheDocument();
  });
});
