/**
 * The WebSocket client: one-time ticket → `wss://…?ticket=`, keepalive, silent reconnect with
 * backoff, and an outbox that resends every `chat.send` the server has not acknowledged.
 *
 * API Gateway cuts a socket after 10 idle minutes and after 2 hours in any case, and networks
 * drop; none of that should reach the user. A message stays in the outbox until its `ack`
 * (or an `error` naming it) arrives, and is resent with the same id after each reconnect, so
 * the server's de-duplication (SQS dedup id = message id) makes the resend harmless.
 *
 * Everything outside the process (socket, timers, clock, randomness, network state) is
 * injected, so the tests drive it with a fake socket and fake timers.
 */
import { SessionExpiredError } from "../lib/errors";
import { parseServerFrame, newId, type Attachment, type ClientFrame, type ServerFrame } from "./contract";

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Ticket {
  ticket: string;
  url?: string | undefined;
}

export type ConnectionState =
  | "idle" // not started
  | "connecting" // fetching a ticket or opening the socket
  | "open"
  | "waiting" // between attempts (backoff)
  | "offline" // the browser says there is no network; waiting for it to return
  | "stopped"; // signed out or stopped by the app

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface NetworkWatch {
  isOnline(): boolean;
  /** Calls back with true when the network returns, false when it goes; returns an unsubscribe. */
  subscribe(callback: (online: boolean) => void): () => void;
}

export interface ClientOptions {
  /** Fetch a one-time ticket; reject with SessionExpiredError when signing in again is the only way. */
  getTicket: () => Promise<Ticket>;
  /** The WebSocket URL from config.json; a ticket's own `url` wins when present. */
  wsUrl: string;
  createSocket?: (url: string) => SocketLike;
  timers?: Timers;
  random?: () => number;
  network?: NetworkWatch;
  /** Keepalive period; API Gateway closes sockets idle for 10 minutes. */
  pingIntervalMs?: number;
  /**
   * How long a connection attempt, a ping or an unacknowledged message may wait for the server
   * before the socket counts as dead.
   */
  replyTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A socket open this long resets the backoff. */
  stableAfterMs?: number;
  /** Writes of one message without an ack before it is given up as failed. */
  maxSendAttempts?: number;
}

export interface ClientListener {
  onFrame?(frame: ServerFrame): void;
  onState?(state: ConnectionState, detail: { attempt: number; retryInMs?: number }): void;
  /** The socket opened again after having been open before (missed frames may need a reload). */
  onReconnect?(): void;
  /** The ticket request said the session is gone; the client has stopped. */
  onSessionExpired?(): void;
}

const OPEN = 1;

const browserNetwork: NetworkWatch = {
  isOnline: () => typeof navigator === "undefined" || navigator.onLine !== false,
  subscribe(callback) {
    const up = () => callback(true);
    const down = () => callback(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  },
};

export function withTicket(base: string, ticket: string): string {
  const url = new URL(base);
  url.searchParams.set("ticket", ticket);
  return url.toString();
}

type ChatSend = Extract<ClientFrame, { type: "chat.send" }>;

export class ChatClient {
  private readonly opts: Required<Omit<ClientOptions, "network">> & { network: NetworkWatch };
  private readonly listeners = new Set<ClientListener>();
  /** chat.send frames not yet acknowledged, in the order they were written. */
  private readonly outbox = new Map<string, { frame: ChatSend; writes: number }>();
  /** chat.stop frames asked for while the socket was down. */
  private readonly pendingStops = new Map<string, ClientFrame>();
  private socket: SocketLike | null = null;
  private state: ConnectionState = "idle";
  private attempt = 0;
  private everOpened = false;
  private session: string | null = null;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private deadlineTimer: unknown = null;
  private stableTimer: unknown = null;
  private unwatchNetwork: (() => void) | null = null;
  /** Bumped whenever a connection attempt is abandoned, so late callbacks of old attempts are ignored. */
  private generation = 0;

  constructor(options: ClientOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      timers: {
        setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
        clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
      },
      random: Math.random,
      network: browserNetwork,
      pingIntervalMs: 4 * 60_000,
      replyTimeoutMs: 15_000,
      backoffBaseMs: 1_000,
      backoffMaxMs: 30_000,
      stableAfterMs: 10_000,
      maxSendAttempts: 4,
      ...options,
    };
  }

  subscribe(listener: ClientListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Ids of messages written but not yet acknowledged. */
  pendingIds(): string[] {
    return [...this.outbox.keys()];
  }

  start(): void {
    if (this.state !== "idle" && this.state !== "stopped") return;
    this.unwatchNetwork = this.opts.network.subscribe((online) => this.onNetwork(online));
    this.connect();
  }

  stop(): void {
    this.generation++;
    this.clearTimers();
    this.unwatchNetwork?.();
    this.unwatchNetwork = null;
    this.dropSocket(1000, "client stopped");
    this.setState("stopped");
  }

  /** The conversation on screen; sent as `resume` on every (re)connect. */
  setSession(session: string | null): void {
    this.session = session;
    if (session && this.state === "open") this.write({ type: "resume", id: newId("r-"), session });
  }

  /** Queue a message; it is written now if the socket is open, else on the next connect. */
  send(message: { id: string; session: string; text: string; attachments?: Attachment[] | undefined }): void {
    const frame: ChatSend = { type: "chat.send", id: message.id, session: message.session, text: message.text };
    if (message.attachments?.length) frame.attachments = message.attachments;
    const entry = { frame, writes: 0 };
    this.outbox.set(message.id, entry);
    if (this.state === "open") {
      this.flush([entry]);
    } else if (this.state === "waiting") {
      // The user is waiting on this message: try now rather than at the end of the backoff.
      this.retryNow();
    }
  }

  /**
   * Stop the reply to message `id`. A message still in the outbox stays there (the server may
   * have queued it already: the stop then ends it unanswered). Written now, or on the next open.
   */
  stopReply(id: string, session: string): void {
    const frame: ClientFrame = { type: "chat.stop", id, session };
    if (this.state === "open") this.write(frame);
    else this.pendingStops.set(id, frame);
  }

  /**
   * The page became visible again or the app suspects the line: check it now. An open socket
   * gets a ping (a dead one then fails within replyTimeoutMs); a waiting client retries at once.
   */
  nudge(): void {
    if (this.state === "open") {
      this.sendPing();
    } else if (this.state === "waiting") {
      this.retryNow();
    }
  }

  // --- connection lifecycle -------------------------------------------------------------

  private connect(): void {
    if (!this.opts.network.isOnline()) {
      this.setState("offline");
      return;
    }
    const generation = ++this.generation;
    this.setState("connecting");
    this.opts
      .getTicket()
      .then((ticket) => {
        if (generation !== this.generation) return;
        this.openSocket(withTicket(ticket.url || this.opts.wsUrl, ticket.ticket), generation);
      })
      .catch((error: unknown) => {
        if (generation !== this.generation) return;
        if (error instanceof SessionExpiredError) {
          this.stop();
          this.emit((l) => l.onSessionExpired?.());
          return;
        }
        this.scheduleRetry();
      });
  }

  private openSocket(url: string, generation: number): void {
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    // A connection that neither opens nor fails (a black-holed network) counts as dead too.
    this.armDeadline();
    socket.onopen = () => {
      if (generation !== this.generation) return;
      this.onOpen();
    };
    socket.onmessage = (ev) => {
      if (generation !== this.generation) return;
      this.onMessage(ev.data);
    };
    socket.onclose = () => {
      if (generation !== this.generation) return;
      this.onClosed();
    };
    socket.onerror = () => {
      // A close event always follows an error; handling it there keeps one code path.
    };
  }

  private onOpen(): void {
    const reconnect = this.everOpened;
    this.everOpened = true;
    this.clearDeadline();
    this.setState("open");
    this.stableTimer = this.opts.timers.setTimeout(() => {
      this.attempt = 0;
    }, this.opts.stableAfterMs);
    if (this.session) this.write({ type: "resume", id: newId("r-"), session: this.session });
    this.flush([...this.outbox.values()]);
    for (const stop of this.pendingStops.values()) this.write(stop);
    this.pendingStops.clear();
    this.schedulePing();
    if (reconnect) this.emit((l) => l.onReconnect?.());
  }

  private onMessage(data: unknown): void {
    const frame = parseServerFrame(data);
    // Anything from the server proves the line is alive.
    this.clearDeadline();
    if (this.outbox.size > 0) this.armDeadline();
    this.schedulePing();
    if (!frame) return;
    if (frame.type === "ack") {
      this.outbox.delete(frame.id);
      if (this.outbox.size === 0) this.clearDeadline();
    } else if (frame.type === "error" && frame.id && this.outbox.has(frame.id)) {
      // Refused, not lost: resending would only be refused again. The app shows the error.
      this.outbox.delete(frame.id);
    }
    if (frame.type !== "pong") this.emit((l) => l.onFrame?.(frame));
  }

  private onClosed(): void {
    this.socket = null;
    this.generation++;
    this.clearTimers();
    this.scheduleRetry();
  }

  /** The socket is presumed dead (no pong, no ack): abandon it without waiting for its close. */
  private onDead(): void {
    this.generation++;
    this.clearTimers();
    this.dropSocket(4000, "no reply");
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.clearTimers();
    if (!this.opts.network.isOnline()) {
      this.setState("offline");
      return;
    }
    // Full jitter; the first retry after a long-lived socket (the 2-hour cut) is immediate.
    const ceiling = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** this.attempt);
    const delay = this.attempt === 0 ? 0 : Math.round(ceiling * this.opts.random());
    this.attempt++;
    this.setState("waiting", delay);
    this.retryTimer = this.opts.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private retryNow(): void {
    if (this.retryTimer !== null) this.opts.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  private onNetwork(online: boolean): void {
    if (online) {
      if (this.state === "offline" || this.state === "waiting") {
        this.attempt = 0;
        this.retryNow();
      } else if (this.state === "open") {
        this.sendPing();
      }
    } else if (this.state === "open") {
      // The socket may linger half-dead; a ping settles it quickly.
      this.sendPing();
    }
  }

  /**
   * Write queued messages. One written maxSendAttempts times without an ack is given up: the
   * server keeps failing on it (API Gateway answers a crashed handler with no frame we can tie
   * to the message), and resending it forever would hide the failure from the user.
   */
  private flush(entries: { frame: ChatSend; writes: number }[]): void {
    for (const entry of entries) {
      if (entry.writes >= this.opts.maxSendAttempts) {
        this.outbox.delete(entry.frame.id);
        const frame: ServerFrame = {
          type: "error",
          id: entry.frame.id,
          code: "internal",
          message: "The server did not accept this message.",
        };
        this.emit((l) => l.onFrame?.(frame));
        continue;
      }
      entry.writes++;
      this.write(entry.frame);
    }
    if (this.outbox.size > 0) this.armDeadline();
  }

  // --- keepalive --------------------------------------------------------------------------

  private schedulePing(): void {
    if (this.pingTimer !== null) this.opts.timers.clearTimeout(this.pingTimer);
    this.pingTimer = this.opts.timers.setTimeout(() => {
      this.pingTimer = null;
      this.sendPing();
    }, this.opts.pingIntervalMs);
  }

  private sendPing(): void {
    if (this.state !== "open") return;
    this.write({ type: "ping", id: newId("p-") });
    this.armDeadline();
  }

  private armDeadline(): void {
    if (this.deadlineTimer !== null) return;
    this.deadlineTimer = this.opts.timers.setTimeout(() => {
      this.deadlineTimer = null;
      this.onDead();
    }, this.opts.replyTimeoutMs);
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== null) this.opts.timers.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
  }

  // --- helpers ----------------------------------------------------------------------------

  private write(frame: ClientFrame): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return;
    try {
      socket.send(JSON.stringify(frame));
    } catch {
      // The close event follows; the outbox still holds the message.
    }
  }

  private dropSocket(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // already closed
    }
  }

  private clearTimers(): void {
    for (const handle of [this.retryTimer, this.pingTimer, this.deadlineTimer, this.stableTimer]) {
      if (handle !== null) this.opts.timers.clearTimeout(handle);
    }
    this.retryTimer = this.pingTimer = this.deadlineTimer = this.stableTimer = null;
  }

  private setState(state: ConnectionState, retryInMs?: number): void {
    this.state = state;
    const detail = retryInMs === undefined ? { attempt: this.attempt } : { attempt: this.attempt, retryInMs };
    this.emit((l) => l.onState?.(state, detail));
  }

  private emit(call: (listener: ClientListener) => void): void {
    for (const listener of [...this.listeners]) call(listener);
  }
}
