import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";
import { wallClock } from "./SchedulesPage";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});

function backend(schedules: (req: FakeRequest) => FakeReply) {
  return (req: FakeRequest): FakeReply => {
    if (req.headers["x-amz-target"]) return { body: tokens() };
    if (req.url.pathname.startsWith("/api/schedules")) return schedules(req);
    switch (req.url.pathname) {
      case "/api/ws-ticket":
        return { body: { ticket: "T1" } };
      case "/api/conversations":
        return { body: { conversations: [] } };
      default:
        if (req.url.pathname.endsWith("/messages")) return { body: { messages: [], next: null } };
        return { status: 404, body: {} };
    }
  };
}

async function openSchedules(schedules: (req: FakeRequest) => FakeReply) {
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = testServices(backend(schedules));
  render(<App boot={() => Promise.resolve(services)} />);
  await screen.findByRole("textbox", { name: "Message" });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  await userEvent.setup().click(screen.getByRole("link", { name: "Schedules" }));
}

beforeEach(() => FakeSocket.reset());

describe("schedules page", () => {
  it("lists the owner's and the agent's schedules with next and last run in their own time zone", async () => {
    await openSchedules(() => ({
      body: {
        schedules: [
          {
            id: "s-0a1b2c3d",
            kind: "owner",
            title: "Morning news",
            prompt: "Summarise the news",
            to: "telegram",
            expression: "cron(0 8 ? * MON-FRI *)",
            timezone: "Europe/Berlin",
            state: "ENABLED",
            nextRun: "2026-12-01T08:00:00+01:00",
            lastRun: "2026-11-30T08:00:04+01:00",
            outcome: "answered",
            detail: null,
            runs: 3,
          },
          {
            id: "agent-9f8e7d6c",
            kind: "agent",
            title: "call the bank",
            prompt: "(wake-up)",
            to: "telegram",
            expression: "at(2026-12-04T16:58:00)",
            timezone: "UTC",
            state: "DISABLED",
            nextRun: null,
            lastRun: null,
            outcome: null,
            detail: null,
            runs: 0,
          },
          {
            id: "warm",
            kind: "warm",
            title: "Warm window 08:00-09:00",
            prompt: "(wake-up)",
            to: "web",
            expression: "cron(58 7 * * ? *)",
            timezone: "Europe/Berlin",
            state: "ENABLED",
            nextRun: "2026-12-01T07:58:00+01:00",
            lastRun: null,
            outcome: null,
            detail: null,
            runs: 0,
          },
        ],
      },
    }));
    const owner = await screen.findByRole("listitem", { name: "Morning news" });
    // The warm window's wake-up is marked and has no buttons: `config set warm` owns it.
    const warm = screen.getByRole("listitem", { name: "Warm window 08:00-09:00" });
    expect(within(warm).getByText("warm window")).toBeInTheDocument();
    expect(within(warm).queryByRole("button")).not.toBeInTheDocument();
    expect(within(owner).getAllByRole("button").length).toBeGreaterThan(0);
    expect(within(owner).getByText("cron(0 8 ? * MON-FRI *)")).toBeInTheDocument();
    expect(within(owner).getByText("Next: Tue 1 Dec, 08:00 (+01:00)")).toBeInTheDocument();
    expect(within(owner).getByText("Last: Mon 30 Nov, 08:00 (+01:00) — answered")).toBeInTheDocument();
    expect(within(owner).getByText(/→ Telegram/)).toBeInTheDocument();
    const agent = screen.getByRole("listitem", { name: "call the bank" });
    expect(within(agent).getByText("the agent's")).toBeInTheDocument();
    expect(within(agent).getByText("paused")).toBeInTheDocument();
    expect(within(agent).getByText("Last: never")).toBeInTheDocument();
    expect(document.title).toBe("Schedules · OpenClaw");
  });

  it("says so when there are none, and when they cannot be loaded", async () => {
    let fail = false;
    await openSchedules(() => (fail ? { status: 503, raw: "Service Unavailable" } : { body: { schedules: [] } }));
    expect(await screen.findByText("No schedules yet.")).toBeInTheDocument();
    fail = true;
    const user = userEvent.setup();
    await user.click(screen.getByRole("link", { name: "Settings" }));
    await waitFor(() => expect(document.title).toBe("Settings · OpenClaw"));
    await user.click(screen.getByRole("link", { name: "Schedules" }));
    expect(await screen.findByText(/Could not load the schedules/)).toBeInTheDocument();
  });
});

const OWNER: Record<string, unknown> = {
  id: "s-0a1b2c3d",
  kind: "owner",
  title: "Morning news",
  prompt: "Summarise the news",
  to: "web",
  expression: "cron(0 8 * * ? *)",
  timezone: "UTC",
  state: "ENABLED",
  nextRun: "2026-12-01T08:00:00Z",
  lastRun: null,
  outcome: null,
  detail: null,
  runs: 0,
};

describe("schedules page actions", () => {
  it("adds a schedule, shows a refusal beside the form, and asks twice for a costly one", async () => {
    const posted: Record<string, unknown>[] = [];
    const listed: Record<string, unknown>[] = [];
    await openSchedules((req) => {
      if (req.method === "GET") return { body: { schedules: listed } };
      const body = req.body as Record<string, unknown>;
      posted.push(body);
      if (body.when === "whenever") {
        return { status: 400, body: { error: { code: "bad_request", message: "'whenever' is not a schedule.", field: "when" } } };
      }
      if (body.when === "rate(1 hour)" && body.confirm !== true) {
        return {
          status: 409,
          body: { error: { code: "confirm_cost", message: "every hour keeps the agent awake about 240 h a month (about $9.60). Create it anyway?" } },
        };
      }
      listed.push({ ...OWNER, title: String(body.title ?? body.say) });
      return { status: 201, body: { schedule: OWNER } };
    });
    const user = userEvent.setup();
    const form = await screen.findByRole("form", { name: "Add a schedule" });
    expect(within(form).getByLabelText("Time zone")).toHaveValue(Intl.DateTimeFormat().resolvedOptions().timeZone);

    await user.type(within(form).getByLabelText("When"), "whenever");
    await user.type(within(form).getByLabelText("Prompt"), "Hello");
    await user.click(within(form).getByRole("button", { name: "Add schedule" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("'whenever' is not a schedule.");
    expect(screen.getByText("No schedules yet.")).toBeInTheDocument();

    await user.clear(within(form).getByLabelText("When"));
    await user.type(within(form).getByLabelText("When"), "rate(1 hour)");
    await user.selectOptions(within(form).getByLabelText("Deliver to"), "web");
    await user.type(within(form).getByLabelText("Title"), "Inbox");
    await user.click(within(form).getByRole("button", { name: "Add schedule" }));
    expect(await within(form).findByText(/about \$9\.60/)).toBeInTheDocument();
    expect(posted.at(-1)).toMatchObject({ when: "rate(1 hour)", say: "Hello", to: "web", title: "Inbox" });
    expect(posted.at(-1)).not.toHaveProperty("confirm");

    await user.click(within(form).getByRole("button", { name: "Add anyway" }));
    expect(await screen.findByRole("listitem", { name: "Inbox" })).toBeInTheDocument();
    expect(posted.at(-1)).toMatchObject({ when: "rate(1 hour)", confirm: true });
    expect(posted).toHaveLength(3);
  });

  it("pauses, runs now and removes only after a confirmation; the agent's have no actions", async () => {
    const calls: string[] = [];
    let state = "ENABLED";
    await openSchedules((req) => {
      if (req.method === "GET") {
        return {
          body: {
            schedules: [
              { ...OWNER, state },
              { ...OWNER, id: "agent-9f8e7d6c", kind: "agent", title: "call the bank" },
            ],
          },
        };
      }
      calls.push(`${req.method} ${req.url.pathname}`);
      if (req.url.pathname.endsWith("/pause")) state = "DISABLED";
      return req.method === "DELETE" ? { status: 204 } : { body: {} };
    });
    const user = userEvent.setup();
    const owner = await screen.findByRole("listitem", { name: "Morning news" });
    const agent = screen.getByRole("listitem", { name: "call the bank" });
    expect(within(agent).queryByRole("button")).toBeNull();

    await user.click(within(owner).getByRole("button", { name: "Pause" }));
    expect(await within(owner).findByRole("button", { name: "Resume" })).toBeInTheDocument();
    await user.click(within(owner).getByRole("button", { name: "Run now" }));
    expect(await within(owner).findByText("It runs within a minute.")).toBeInTheDocument();
    await user.click(within(owner).getByRole("button", { name: "Remove" }));
    expect(calls).toEqual(["POST /api/schedules/s-0a1b2c3d/pause", "POST /api/schedules/s-0a1b2c3d/run"]);
    await user.click(within(owner).getByRole("button", { name: "Yes, remove" }));
    await waitFor(() => expect(calls.at(-1)).toBe("DELETE /api/schedules/s-0a1b2c3d"));
  });
});

describe("wallClock", () => {
  it("shows the schedule's own wall clock, not the browser's", () => {
    expect(wallClock("2026-07-01T08:30:00+02:00")).toBe("Wed 1 Jul, 08:30 (+02:00)");
    expect(wallClock("2026-07-01T08:30:00Z")).toBe("Wed 1 Jul, 08:30 (UTC)");
    expect(wallClock(null)).toBe("—");
  });
});
