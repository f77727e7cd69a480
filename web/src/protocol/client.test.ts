import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SessionExpiredError } from "../lib/errors";
import { FakeSocket } from "../test/fakes";
import { ChatClient, withTicket, type ClientOptions, type ConnectionState, type NetworkWatch } from "./client";
import type { ServerFrame } from "./contract";

class FakeNetwork implements NetworkWatch {
  online = true;
  private callbacks = new Set<(online: boolean) => void>();
  isOnline = () => this.online;
  subscribe(callback: (online: boolean) => void) {
    this.callbacks.add(callback);
    return () => this.callbacks.delete(callback);
  }
  set(online: boolean) {
    this.online = online;
    for (const cb of this.callbacks) cb(online);
  }
}

function setup(overrides: Partial<ClientOptions> = {}) {
  let tickets = 0;
  const getTicket = vi.fn(async () => ({ ticket: `t${++tickets}` }));
  const network = new FakeNetwork();
  const frames: ServerFrame[] = [];
  const states: ConnectionState[] = [];
  const reconnects = vi.fn();
  const expired = vi.fn();
  const client = new ChatClient({
    getTicket,
    wsUrl: "wss://ws.example.test/prod",
    createSocket: (url) => new FakeSocket(url),
    random: () => 0.5,
    network,
    ...overrides,
  });
  client.subscribe({
    onFrame: (f) => frames.push(f),
    onState: (s) => states.push(s),
    onReconnect: reconnects,
    onSessionExpired: expired,
  });
  return { client, getTicket, network, frames, states, reconnects, expired };
}

/** Let the ticket promise resolve and the socket be created. */
const settle = () => vi.advanceTimersByTimeAsync(5);

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ChatClient", () => {
  it("fetches a one-time ticket and connects with ?ticket=", async () => {
    const { client, getTicket, states } = setup();
    client.start();
    await settle();
    expect(getTicket).toHaveBeenCalledTimes(1);
    expect(FakeSocket.latest().url).toBe("wss://ws.example.test/prod?ticket=t1");
    FakeSocket.latest().open();
    expect(client.connectionState).toBe("open");
    expect(states).toEqual(["connecting", "open"]);
  });

  it("prefers the url the ticket names and encodes the ticket", () => {
    expect(withTicket("wss://a.test/prod?x=1", "a b/c")).toBe("wss://a.test/prod?x=1&ticket=a+b%2Fc");
  });

  it("resumes the conversation on screen when it connects", async () => {
    const { client } = setup();
    client.setSession("web-s1");
    client.start();
    await settle();
    FakeSocket.latest().open();
    expect(FakeSocket.latest().sentOfType("resume")).toEqual([expect.objectContaining({ session: "web-s1" })]);
  });

  it("queues a message written while connecting and sends it on open", async () => {
    const { client } = setup();
    client.start();
    client.send({ id: "m1", session: "s", text: "hello" });
    await settle();
    const socket = FakeSocket.latest();
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.sentOfType("chat.send")).toEqual([{ type: "chat.send", id: "m1", session: "s", text: "hello" }]);
  });

  it("resends only what was not acknowledged after a reconnect, in order", async () => {
    const { client, reconnects } = setup();
    client.start();
    await settle();
    const first = FakeSocket.latest();
    first.open();
    client.send({ id: "m1", session: "s", text: "one" });
    client.send({ id: "m2", session: "s", text: "two" });
    client.send({ id: "m3", session: "s", text: "three" });
    first.receive({ type: "ack", id: "m2" });
    expect(client.pendingIds()).toEqual(["m1", "m3"]);

    first.serverClose(1001); // API Gateway's idle cut or 2-hour limit
    await settle(); // the first retry after a cut is immediate
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    expect(second.url).toContain("ticket=t2");
    second.open();
    expect(second.sentOfType("chat.send").map((f) => f.id)).toEqual(["m1", "m3"]);
    expect(reconnects).toHaveBeenCalledTimes(1);
  });

  it("drops a message the server refused instead of resending it", async () => {
    const { client, frames } = setup();
    client.start();
    await settle();
    const socket = FakeSocket.latest();
    socket.open();
    client.send({ id: "m1", session: "s", text: "x" });
    socket.receive({ type: "error", id: "m1", code: "too_long", message: "too long" });
    expect(client.pendingIds()).toEqual([]);
    expect(frames).toContainEqual({ type: "error", id: "m1", code: "too_long", message: "too long" });
  });

  it("pings before API Gateway's 10-minute idle cut and swallows the pong", async () => {
    const { client, frames } = setup();
    client.start();
    await settle();
    const socket = FakeSocket.latest();
    socket.open();
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    const pings = socket.sentOfType("ping");
    expect(pings).toHaveLength(1);
    socket.receive({ type: "pong", id: pings[0]!.id });
    expect(frames).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1); // the pong kept it
  });

  it("treats a socket that does not answer its ping as dead and reconnects", async () => {
    const { client } = setup();
    client.start();
    await settle();
    const socket = FakeSocket.latest();
    socket.open();
    await vi.advanceTimersByTimeAsync(4 * 60_000 + 15_000);
    expect(socket.closedWith?.code).toBe(4000);
    await settle();
    expect(FakeSocket.all).toHaveLength(2);
  });

  it("reconnects and resends when a message gets no ack in time", async () => {
    const { client } = setup();
    client.start();
    await settle();
    const socket = FakeSocket.latest();
    socket.open();
    client.send({ id: "m1", session: "s", text: "hi" });
    await vi.advanceTimersByTimeAsync(15_000);
    await settle();
    const next = FakeSocket.latest();
    expect(next).not.toBe(socket);
    next.open();
    expect(next.sentOfType("chat.send").map((f) => f.id)).toEqual(["m1"]);
  });

  it("gives up on a connection that never opens and tries again", async () => {
    const { client } = setup();
    client.start();
    await settle();
    const hung = FakeSocket.latest();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(hung.closedWith?.code).toBe(4000);
    await settle();
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.latest().open();
    expect(client.connectionState).toBe("open");
  });

  it("backs off with growing, jittered delays while the server is unreachable", async () => {
    const getTicket = vi.fn(() => Promise.reject(new Error("502")));
    const { client, states } = setup({ getTicket });
    const delays: number[] = [];
    client.subscribe({ onState: (s, d) => s === "waiting" && delays.push(d.retryInMs ?? -1) });
    client.start();
    for (let i = 0; i < 7; i++) await vi.advanceTimersByTimeAsync(30_000);
    // attempt 0 is immediate, then base·2^n·random (random = 0.5), capped at 30 s
    expect(delays.slice(0, 7)).toEqual([0, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(states).not.toContain("open");
  });

  it("resets the backoff once a connection stays up", async () => {
    let fail = 3;
    const getTicket = vi.fn(() => (fail-- > 0 ? Promise.reject(new Error("down")) : Promise.resolve({ ticket: "ok" })));
    const { client } = setup({ getTicket });
    const delays: number[] = [];
    client.subscribe({ onState: (s, d) => s === "waiting" && delays.push(d.retryInMs ?? -1) });
    client.start();
    await vi.advanceTimersByTimeAsync(10_000);
    FakeSocket.latest().open();
    await vi.advanceTimersByTimeAsync(10_000);
    FakeSocket.latest().serverClose(1006);
    expect(delays.at(-1)).toBe(0);
  });

  it("stops and reports when the ticket says the session is over", async () => {
    const getTicket = vi.fn(() => Promise.reject(new SessionExpiredError()));
    const { client, expired } = setup({ getTicket });
    client.start();
    await settle();
    expect(expired).toHaveBeenCalledTimes(1);
    expect(client.connectionState).toBe("stopped");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(getTicket).toHaveBeenCalledTimes(1);
  });

  it("waits for the network instead of retrying while offline, then connects at once", async () => {
    const { client, network, getTicket } = setup();
    network.online = false;
    client.start();
    expect(client.connectionState).toBe("offline");
    await vi.advanceTimersByTimeAsync(120_000);
    expect(getTicket).not.toHaveBeenCalled();
    network.set(true);
    await settle();
    expect(getTicket).toHaveBeenCalledTimes(1);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("retries at once when a message is written during the backoff", async () => {
    let calls = 0;
    const getTicket = vi.fn(() => (++calls <= 2 ? Promise.reject(new Error("down")) : Promise.resolve({ ticket: "t" })));
    const { client } = setup({ getTicket });
    client.start();
    await settle(); // first failure → immediate retry → second failure → waiting ~1 s
    await settle();
    expect(client.connectionState).toBe("waiting");
    client.send({ id: "m1", session: "s", text: "now" });
    await settle();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("gives up on a message the server never acknowledges and reports it", async () => {
    const { client, frames } = setup({ maxSendAttempts: 2 });
    client.start();
    await settle();
    FakeSocket.latest().open();
    client.send({ id: "m1", session: "s", text: "poison" });
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(15_000); // no ack → dead → reconnect
      await vi.advanceTimersByTimeAsync(2_000);
      if (FakeSocket.latest().readyState === 0) FakeSocket.latest().open();
    }
    expect(client.pendingIds()).toEqual([]);
    expect(frames).toContainEqual(expect.objectContaining({ type: "error", id: "m1", code: "internal" }));
    const written = FakeSocket.all.flatMap((s) => s.sentOfType("chat.send"));
    expect(written).toHaveLength(2);
  });

  it("ignores frames that do not follow the contract and events of abandoned sockets", async () => {
    const { client, frames } = setup();
    client.start();
    await settle();
    const old = FakeSocket.latest();
    old.open();
    old.receive("garbage");
    old.receive({ message: "Internal server error" });
    expect(frames).toEqual([]);
    client.stop();
    old.receive({ type: "ack", id: "x" });
    expect(frames).toEqual([]);
    expect(old.closedWith?.code).toBe(1000);
  });

  it("pings an open socket when nudged (page visible again) to detect a dead line quickly", async () => {
    const { client } = setup();
    client.start();
    await settle();
    const socket = FakeSocket.latest();
    socket.open();
    client.nudge();
    expect(socket.sentOfType("ping")).toHaveLength(1);
  });
});
