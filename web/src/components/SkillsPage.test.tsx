import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});

function backend(skills: (req: FakeRequest) => FakeReply) {
  return (req: FakeRequest): FakeReply => {
    if (req.headers["x-amz-target"]) return { body: tokens() };
    if (req.url.pathname.startsWith("/api/skills")) return skills(req);
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

async function openSkills(skills: (req: FakeRequest) => FakeReply) {
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = testServices(backend(skills));
  render(<App boot={() => Promise.resolve(services)} />);
  await screen.findByRole("textbox", { name: "Message" });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  await userEvent.setup().click(screen.getByRole("link", { name: "Skills" }));
  return services;
}

const NOTES = { name: "release-notes", description: "Write release notes", source: "owner", enabled: true, loaded: true };
const WEATHER = { name: "weather", description: "Get the weather", source: "built-in", enabled: true, loaded: false };
const LIMITS = { maxArchiveBytes: 3 * 1024 * 1024 };

beforeEach(() => FakeSocket.reset());

describe("skills page", () => {
  it("lists the owner's skills with what the agent loaded, and the built-in ones on request", async () => {
    await openSkills(() => ({ body: { skills: [NOTES, WEATHER], reportedAt: 1796044000, limits: LIMITS } }));
    const mine = await screen.findByRole("listitem", { name: "release-notes" });
    expect(within(mine).getByText("loaded by the agent")).toBeInTheDocument();
    expect(within(mine).getByText("yours")).toBeInTheDocument();
    expect(screen.queryByRole("listitem", { name: "weather" })).toBeNull();
    await userEvent.setup().click(screen.getByRole("button", { name: "Show" }));
    const weather = screen.getByRole("listitem", { name: "weather" });
    expect(within(weather).queryByRole("button", { name: "Remove" })).toBeNull();
    expect(document.title).toBe("Skills · OpenClaw");
  });

  it("uploads an archive as the request body and shows a refusal beside the form", async () => {
    const listed: Record<string, unknown>[] = [];
    let refuse = true;
    const services = await openSkills((req) => {
      if (req.method === "GET") return { body: { skills: listed, reportedAt: null, limits: LIMITS } };
      if (refuse) {
        return { status: 400, body: { error: { code: "bad_skill", message: "there is no SKILL.md at the top of the skill", field: "archive" } } };
      }
      listed.push(NOTES);
      return { status: 201, body: { skill: { name: "release-notes" }, applies: "The running agent has it within seconds." } };
    });
    const user = userEvent.setup();
    const form = await screen.findByRole("form", { name: "Add a skill" });
    expect(screen.getByText("No skills of yours yet.")).toBeInTheDocument();
    const file = new File([new Uint8Array([0x50, 0x4b, 3, 4])], "notes.zip", { type: "application/zip" });
    await user.upload(within(form).getByLabelText(/Skill archive/), file);
    await user.click(within(form).getByRole("button", { name: "Add skill" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("there is no SKILL.md");

    refuse = false;
    await user.upload(within(form).getByLabelText(/Skill archive/), file);
    await user.click(within(form).getByRole("button", { name: "Add skill" }));
    expect(await screen.findByRole("listitem", { name: "release-notes" })).toBeInTheDocument();
    expect(screen.getByText(/Added release-notes\./)).toBeInTheDocument();
    const posts = vi.mocked(services.fetch).mock.calls.filter(([, init]) => init?.method === "POST" && init.body instanceof Blob);
    expect(posts).toHaveLength(2);
    const [url, init] = posts.at(-1)!;
    expect(String(url)).toMatch(/\/api\/skills$/);
    expect(init?.body).toBe(file);
    expect(new Headers(init?.headers).get("content-type")).toBe("application/zip");
  });

  it("refuses an archive over the limit before sending it", async () => {
    const services = await openSkills(() => ({ body: { skills: [], reportedAt: null, limits: { maxArchiveBytes: 4 } } }));
    const user = userEvent.setup();
    const form = await screen.findByRole("form", { name: "Add a skill" });
    await screen.findByText("No skills of yours yet.");
    await user.upload(within(form).getByLabelText(/Skill archive/), new File(["12345"], "big.zip"));
    await user.click(within(form).getByRole("button", { name: "Add skill" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("the limit is");
    expect(vi.mocked(services.fetch).mock.calls.some(([, init]) => init?.method === "POST" && init.body instanceof Blob)).toBe(false);
  });

  it("turns a skill off and removes one of the owner's only after a confirmation", async () => {
    const calls: string[] = [];
    let enabled = true;
    await openSkills((req) => {
      if (req.method === "GET") return { body: { skills: [{ ...NOTES, enabled }], reportedAt: null, limits: LIMITS } };
      calls.push(`${req.method} ${req.url.pathname} ${JSON.stringify(req.body ?? null)}`);
      if (req.method === "PUT") enabled = (req.body as { enabled: boolean }).enabled;
      return req.method === "DELETE" ? { status: 204 } : { body: { applies: "Within seconds." } };
    });
    const user = userEvent.setup();
    const mine = await screen.findByRole("listitem", { name: "release-notes" });
    await user.click(within(mine).getByRole("checkbox", { name: "On" }));
    await waitFor(() => expect(within(mine).getByRole("checkbox", { name: "On" })).not.toBeChecked());
    expect(within(mine).getByText("off")).toBeInTheDocument();
    await user.click(within(mine).getByRole("button", { name: "Remove" }));
    expect(calls).toEqual(['PUT /api/skills/release-notes {"enabled":false}']);
    await user.click(within(mine).getByRole("button", { name: "Yes, remove" }));
    await waitFor(() => expect(calls.at(-1)).toBe("DELETE /api/skills/release-notes null"));
  });
});
