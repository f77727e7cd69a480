import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});

type Handler = (req: FakeRequest) => FakeReply | undefined;

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
        return {
          body: {
            conversations: [
              { session: "web-s1", title: "Current one", updatedAt: 1_764_140_100 },
              { session: "web-old", title: "Trip planning", updatedAt: 1_764_140_000 },
            ],
          },
        };
      default:
        if (req.url.pathname.endsWith("/messages")) return { body: { messages: [], next: null } };
        return { status: 404, body: {} };
    }
  };
}

async function signedIn(extra?: Handler) {
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = testServices(backend(extra));
  render(<App boot={() => Promise.resolve(services)} />);
  await screen.findByRole("textbox", { name: "Message" });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  return services;
}

async function sendOne(text: string) {
  const user = userEvent.setup();
  await user.type(screen.getByRole("textbox", { name: "Message" }), `${text}{Enter}`);
  const socket = FakeSocket.latest();
  const [sent] = socket.sentOfType("chat.send");
  const id = sent!.id as string;
  act(() => socket.receive({ type: "ack", id }));
  return { user, socket, id };
}

beforeEach(() => FakeSocket.reset());

describe("stopping a reply", () => {
  it("shows Stop while a reply runs, sends chat.stop, ends the reply as stopped and ignores late pieces", async () => {
    await signedIn();
    const { user, socket, id } = await sendOne("count to a million");
    act(() => socket.receive({ type: "chat.delta", id, session: "web-s1", seq: 0, text: "1, 2, 3" }));

    await user.click(screen.getByRole("button", { name: "Stop" }));

    expect(socket.sentOfType("chat.stop")).toEqual([{ type: "chat.stop", id, session: "web-s1" }]);
    const reply = screen.getByRole("article", { name: "Agent" });
    expect(reply).toHaveTextContent("1, 2, 3");
    // Stopped once the agent says where the reply ended (its chat.final), stopping until then.
    expect(within(reply).getByText("Stopping…")).toBeInTheDocument();
    expect(within(reply).queryByText("Stopped")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Stop" })).not.toBeInTheDocument();

    act(() => socket.receive({ type: "chat.delta", id, session: "web-s1", seq: 1, text: ", 4, 5" }));
    expect(reply).not.toHaveTextContent("4, 5");
    act(() => socket.receive({ type: "chat.final", id, session: "web-s1", text: "1, 2, 3, 4", stopped: true }));
    expect(screen.getByRole("article", { name: "Agent" })).toHaveTextContent("1, 2, 3, 4");
    expect(within(screen.getByRole("article", { name: "Agent" })).getByText("Stopped")).toBeInTheDocument();
    expect(within(screen.getByRole("article", { name: "Agent" })).queryByText("Stopping…")).not.toBeInTheDocument();
  });

  it("can stop a message the agent has not started on yet", async () => {
    await signedIn();
    const { user, socket, id } = await sendOne("hello?");
    await user.click(screen.getByRole("button", { name: "Stop" }));
    expect(socket.sentOfType("chat.stop")).toEqual([{ type: "chat.stop", id, session: "web-s1" }]);
    expect(within(screen.getByRole("article", { name: "Agent" })).getByText("Stopping…")).toBeInTheDocument();
    act(() => socket.receive({ type: "chat.final", id, session: "web-s1", text: "", stopped: true }));
    expect(within(screen.getByRole("article", { name: "Agent" })).getByText("Stopped")).toBeInTheDocument();
  });
});

describe("the activity line", () => {
  it("says what the agent does for the running reply, and goes with the reply's end", async () => {
    await signedIn();
    const { socket, id } = await sendOne("list my files");
    act(() => socket.receive({ type: "agent.activity", id, session: "web-s1", activity: "tool", tool: "exec", detail: "ls -la" }));
    expect(screen.getByText("Running exec: ls -la")).toBeInTheDocument();
    act(() =>
      socket.receive({ type: "agent.activity", id, session: "web-s1", activity: "tool", tool: "browser", detail: "example.com" }),
    );
    expect(screen.getByText("Browsing example.com")).toBeInTheDocument();
    act(() => socket.receive({ type: "agent.activity", id, session: "web-s1", activity: "thinking", tool: null, detail: null }));
    expect(screen.getByText("Thinking…")).toBeInTheDocument();
    act(() => socket.receive({ type: "chat.final", id, session: "web-s1", text: "done" }));
    expect(screen.queryByText("Thinking…")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Stop" })).not.toBeInTheDocument();
  });
});

describe("copying", () => {
  it("copies a whole reply, and a code block on its own", async () => {
    await signedIn();
    const { user, socket, id } = await sendOne("a script please");
    const writeText = vi.spyOn(navigator.clipboard, "writeText");
    const answer = "Here:\n\n```sh\necho hi\n```\n\nDone.";
    act(() => socket.receive({ type: "chat.final", id, session: "web-s1", text: answer }));

    await user.click(screen.getByRole("button", { name: "Copy reply" }));
    expect(writeText).toHaveBeenLastCalledWith(answer);
    expect(await screen.findByRole("button", { name: "Copy reply" })).toHaveTextContent("Copied");

    await user.click(screen.getByRole("button", { name: "Copy" }));
    expect(writeText).toHaveBeenLastCalledWith("echo hi");
  });
});

describe("renaming and deleting conversations", () => {
  it("renames a conversation on the server and shows the new name", async () => {
    const puts: FakeRequest[] = [];
    await signedIn((req) => {
      if (req.method === "PUT" && req.url.pathname === "/api/conversations/web-old") {
        puts.push(req);
        return { body: { conversation: { session: "web-old", title: "Lisbon in May", updatedAt: 1_764_140_000 } } };
      }
      return undefined;
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Rename Trip planning" }));
    const box = screen.getByRole("textbox", { name: "New name" });
    await user.clear(box);
    await user.type(box, "Lisbon in May{Enter}");
    expect(puts.map((r) => r.body)).toEqual([{ title: "Lisbon in May" }]);
    expect(await screen.findByRole("link", { name: /Lisbon in May/ })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /Trip planning/ })).not.toBeInTheDocument();
  });

  it("asks before deleting, deletes on the server, and leaves a deleted current conversation", async () => {
    const deletes: string[] = [];
    await signedIn((req) => {
      if (req.method === "DELETE") {
        deletes.push(req.url.pathname);
        return { status: 200, body: {} }; // the API's 204 (a fetch Response cannot carry one here)
      }
      return undefined;
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Delete Trip planning" }));
    const ask = screen.getByRole("group", { name: "Delete Trip planning" });
    await user.click(within(ask).getByRole("button", { name: "Cancel" }));
    expect(deletes).toEqual([]);
    expect(screen.getByRole("link", { name: /Trip planning/ })).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Delete Current one" }));
    await user.click(within(screen.getByRole("group", { name: "Delete Current one" })).getByRole("button", { name: "Delete" }));
    expect(deletes).toEqual(["/api/conversations/web-s1"]);
    await waitFor(() => expect(screen.queryByRole("link", { name: /Current one/ })).not.toBeInTheDocument());
    await waitFor(() => expect(window.location.hash).not.toBe("#/c/web-s1"));
  });

  it("keeps the conversation and says why when the delete fails", async () => {
    await signedIn((req) =>
      req.method === "DELETE" ? { status: 503, body: { error: { code: "internal", message: "try again" } } } : undefined,
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Delete Trip planning" }));
    await user.click(within(screen.getByRole("group", { name: "Delete Trip planning" })).getByRole("button", { name: "Delete" }));
    expect(await screen.findByText(/try again/)).toBeInTheDocument();
  });
});
