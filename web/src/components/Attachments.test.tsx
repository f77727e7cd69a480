import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { UPLOADS } from "../protocol/contract";
import { FakeSocket, makeJwt, saveSession, testServices, type FakeReply, type FakeRequest } from "../test/fakes";

const exp = () => (Date.now() + 3600_000) / 1000;
const tokens = () => ({
  AuthenticationResult: { AccessToken: makeJwt({ exp: exp() }), IdToken: makeJwt({ exp: exp() }), RefreshToken: "r1" },
});

const BUCKET = "https://bucket.example.test/";

function backend(seen: FakeRequest[]) {
  return (req: FakeRequest): FakeReply => {
    seen.push(req);
    const target = req.headers["x-amz-target"];
    if (target) return { body: target.endsWith("RevokeToken") ? {} : tokens() };
    if (req.url.href === BUCKET) return { status: 200, body: {} }; // S3 answers 204; see ChatControls.test
    switch (req.url.pathname) {
      case "/api/ws-ticket":
        return { body: { ticket: "T1" } };
      case "/api/conversations":
        return { body: { conversations: [] } };
      case "/api/uploads": {
        const body = req.body as { session: string; name: string; contentType: string; size: number };
        const key = `uploads/owner/${body.session}/u1/${body.name}`;
        return {
          status: 201,
          body: {
            upload: { url: BUCKET, fields: { key, policy: "P", "x-amz-signature": "S" } },
            attachment: { key, name: body.name, contentType: body.contentType, size: body.size },
            expiresAt: exp(),
          },
        };
      }
      default:
        if (req.url.pathname.endsWith("/messages")) return { body: { messages: [], next: null } };
        return { status: 404, body: {} };
    }
  };
}

async function signedIn() {
  const seen: FakeRequest[] = [];
  saveSession();
  window.location.hash = "#/c/web-s1";
  const services = testServices(backend(seen));
  render(<App boot={() => Promise.resolve(services)} />);
  await screen.findByRole("textbox", { name: "Message" });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  act(() => FakeSocket.latest().open());
  return { seen, services };
}

beforeEach(() => FakeSocket.reset());

describe("attaching files", () => {
  it("says the limits, uploads a picked file straight to the bucket, then names it in chat.send", async () => {
    const { seen, services } = await signedIn();
    expect(screen.getByText(/Images up to 10 MB, other files up to 20 MB, 8 per message/)).toBeInTheDocument();
    const user = userEvent.setup();
    const file = new File(["name,age\nAda,36\n"], "people.csv", { type: "text/csv" });
    await user.upload(screen.getByLabelText("Choose files to attach"), file);

    const listed = await screen.findByRole("list", { name: "Attached files" });
    await within(listed).findByText("1 KB");
    const grant = seen.find((r) => r.url.pathname === "/api/uploads");
    expect(grant?.body).toEqual({ session: "web-s1", name: "people.csv", contentType: "text/csv", size: file.size });
    const calls = (services.fetch as unknown as { mock: { calls: [RequestInfo | URL, RequestInit | undefined][] } }).mock.calls;
    const [post] = calls.filter(([url]) => String(url) === BUCKET);
    expect(post?.[1]?.headers).toBeUndefined(); // no token goes to the bucket
    const form = post?.[1]?.body as FormData;
    expect(form.get("key")).toBe("uploads/owner/web-s1/u1/people.csv");
    expect([...form.keys()].at(-1)).toBe("file"); // S3 wants the file last
    expect(await (form.get("file") as File).text()).toContain("Ada,36");

    await user.type(screen.getByRole("textbox", { name: "Message" }), "who is older?{Enter}");
    const [sent] = FakeSocket.latest().sentOfType("chat.send");
    expect(sent).toMatchObject({
      text: "who is older?",
      attachments: [{ key: "uploads/owner/web-s1/u1/people.csv", name: "people.csv", contentType: "text/csv", size: file.size }],
    });
    expect(screen.queryByRole("list", { name: "Attached files" })).not.toBeInTheDocument();
    expect(within(screen.getByRole("article", { name: "You" })).getByText("people.csv")).toBeInTheDocument();
  });

  it("refuses a file over the limit or of a kind not allowed before uploading anything", async () => {
    const { seen } = await signedIn();
    const user = userEvent.setup({ applyAccept: false });
    const big = new File([new Uint8Array(UPLOADS.maxImageBytes + 1)], "huge.png", { type: "image/png" });
    await user.upload(screen.getByLabelText("Choose files to attach"), big);
    expect(screen.getByRole("alert")).toHaveTextContent("huge.png is 10.0 MB; an image can be at most 10 MB.");
    const exe = new File(["MZ"], "setup.exe", { type: "application/x-msdownload" });
    await user.upload(screen.getByLabelText("Choose files to attach"), exe);
    expect(screen.getByRole("alert")).toHaveTextContent("setup.exe: this kind of file (application/x-msdownload) cannot be sent.");
    expect(seen.some((r) => r.url.pathname === "/api/uploads")).toBe(false);
  });

  it("attaches a pasted image and a dropped file; a message with only a file can be sent", async () => {
    const { seen } = await signedIn();
    const box = screen.getByRole("textbox", { name: "Message" });
    const image = new File([new Uint8Array([137, 80, 78, 71])], "screenshot.png", { type: "image/png" });
    fireEvent.paste(box, { clipboardData: { files: [image], getData: () => "" } });
    const doc = new File(["# notes"], "notes.md", { type: "text/markdown" });
    fireEvent.drop(box.closest("form")!, { dataTransfer: { files: [doc], types: ["Files"] } });
    await waitFor(() => expect(seen.filter((r) => r.url.pathname === "/api/uploads")).toHaveLength(2));
    const send = screen.getByRole("button", { name: "Send message" });
    await waitFor(() => expect(send).toBeEnabled());
    await userEvent.setup().click(send);
    const [sent] = FakeSocket.latest().sentOfType("chat.send");
    expect((sent!.attachments as { name: string }[]).map((a) => a.name)).toEqual(["screenshot.png", "notes.md"]);
    expect(sent!.text).toBe("");
  });

  it("shows the agent's images inline and its other files as downloads", async () => {
    await signedIn();
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Message" }), "a screenshot please{Enter}");
    const socket = FakeSocket.latest();
    const id = socket.sentOfType("chat.send")[0]!.id as string;
    act(() =>
      socket.receive({
        type: "chat.final",
        id,
        session: "web-s1",
        text: "Here it is.",
        attachments: [
          { name: "page.png", contentType: "image/png", size: 2048, url: "https://bucket.example.test/page.png?sig" },
          { name: "report.pdf", contentType: "application/pdf", size: 3 * 1024 * 1024, url: "https://bucket.example.test/report.pdf?sig" },
        ],
      }),
    );
    const reply = screen.getByRole("article", { name: "Agent" });
    expect(within(reply).getByRole("img", { name: "page.png" })).toHaveAttribute("src", "https://bucket.example.test/page.png?sig");
    const download = within(reply).getByRole("link", { name: /report\.pdf/ });
    expect(download).toHaveAttribute("download", "report.pdf");
    expect(download).toHaveTextContent("(3 MB)");
  });
});
