import { memo, useCallback, useLayoutEffect, useRef, useState } from "react";
import { useStore } from "../lib/store";
import { fullTime, timeOf } from "../lib/format";
import { useChat, useServices } from "../services";
import type { FileRef } from "../api/http";
import { sizeText } from "../protocol/contract";
import { describeActivity, wakesOnTyping, type ChatMessage, type Thread } from "../state/chat";
import { AgentBanner } from "./AgentBanner";
import { Composer } from "./Composer";
import { Markdown } from "./Markdown";

const NO_THREAD: Thread = { messages: [], next: null, load: "loading", error: null, loadingEarlier: false };

export function ChatView({ session }: { session: string }) {
  const chat = useChat();
  const thread = useStore(chat.store, (s) => s.threads[session]) ?? NO_THREAD;
  const notice = useStore(chat.store, (s) => s.notice);
  const onRetry = useCallback((id: string) => chat.retry(id), [chat]);

  // Waiting for an answer: the last message is ours, acknowledged or not, and nothing replied yet.
  const last = thread.messages.at(-1);
  const awaiting = !!last && last.role === "user" && (last.status === "sent" || last.status === "sending");
  // The reply that can be stopped: one being written, or the one awaited.
  const running = thread.messages.find((m) => m.status === "streaming")?.replyTo ?? (awaiting ? last.id : null);
  const activity = useStore(chat.store, (s) => (running ? s.activity[running] : undefined));

  return (
    <section className="chat" aria-label="Conversation">
      <MessageLog
        thread={thread}
        awaiting={awaiting}
        onRetry={onRetry}
        onEarlier={() => void chat.loadEarlier(session)}
        onReload={() => void chat.loadHistory(session)}
      />
      <div className="chat-foot">
        <AgentBanner awaiting={awaiting} />
        {running && (
          <div className="reply-controls">
            <span className="activity muted small" role="status">
              {activity ? describeActivity(activity) : "Your agent is working…"}
            </span>
            <button type="button" className="secondary stop-reply" onClick={() => chat.stopReply(running)}>
              <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
                <rect x="6" y="6" width="12" height="12" rx="2" fill="currentColor" />
              </svg>
              Stop
            </button>
          </div>
        )}
        {notice && (
          <div className="error banner" role="alert">
            <span>{notice}</span>
            <button type="button" className="link" onClick={() => chat.dismissNotice()}>
              Dismiss
            </button>
          </div>
        )}
        <Composer session={session} />
      </div>
    </section>
  );
}

function MessageLog({
  thread,
  awaiting,
  onRetry,
  onEarlier,
  onReload,
}: {
  thread: Thread;
  awaiting: boolean;
  onRetry: (id: string) => void;
  onEarlier: () => void;
  onReload: () => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const { kv, prefix } = useServices();
  const wakeOnTyping = wakesOnTyping(kv, prefix);

  // Stay at the bottom while a reply streams in, unless the reader scrolled up to read.
  const onScroll = () => {
    const el = scroller.current;
    if (el) pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };
  const lastText = thread.messages.at(-1)?.text.length ?? 0;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [thread.messages.length, lastText, awaiting]);

  const streaming = thread.messages.some((m) => m.status === "streaming");
  return (
    <div className="log-scroll" ref={scroller} onScroll={onScroll}>
      <div className="log" role="log" aria-live="polite" aria-busy={streaming} aria-relevant="additions">
        {thread.next && (
          <div className="center">
            <button type="button" className="secondary" onClick={onEarlier} disabled={thread.loadingEarlier}>
              {thread.loadingEarlier ? "Loading…" : "Load earlier messages"}
            </button>
          </div>
        )}
        {thread.load === "loading" && thread.messages.length === 0 && <p className="muted center">Loading conversation…</p>}
        {thread.error && (
          <div className="error banner" role="alert">
            <span>Could not load this conversation. {thread.error}</span>
            <button type="button" className="link" onClick={onReload}>
              Try again
            </button>
          </div>
        )}
        {thread.load !== "loading" && !thread.error && thread.messages.length === 0 && (
          <div className="empty">
            <h2>What can your agent do for you?</h2>
            <p className="muted">
              Your agent sleeps when idle and wakes {wakeOnTyping ? "as you start writing" : "on your first message"}; waking takes
              about a minute, and you will see each step while it happens.
            </p>
          </div>
        )}
        {thread.messages.map((m) => (
          <MessageItem key={m.id} message={m} onRetry={onRetry} />
        ))}
        {awaiting && (
          <div className="msg msg-assistant" aria-label="Your agent is writing">
            <div className="bubble typing" aria-hidden="true">
              <span />
              <span />
              <span />
            </div>
          </div>
        )}
      </div>
    </div>
  );
}

const MessageItem = memo(function MessageItem({ message: m, onRetry }: { message: ChatMessage; onRetry: (id: string) => void }) {
  const mine = m.role === "user";
  return (
    <article className={`msg ${mine ? "msg-user" : "msg-assistant"} status-${m.status}`} aria-label={mine ? "You" : "Agent"}>
      <div className="bubble">
        {mine ? m.text && <p className="plain">{m.text}</p> : <Markdown text={m.text} />}
        {m.attachments && m.attachments.length > 0 && <Files files={m.attachments} />}
        {m.status === "streaming" && <span className="cursor" aria-hidden="true" />}
      </div>
      <div className="meta">
        {m.channel === "telegram" && <span className="chip">via Telegram</span>}
        {m.stopped && <span className="chip stopped">Stopped</span>}
        {m.stopping && !m.stopped && <span className="chip stopped">Stopping…</span>}
        {!mine && m.status === "done" && m.text && <CopyButton text={m.text} />}
        {m.status === "sending" && <span>Sending…</span>}
        {m.status !== "sending" && m.at !== null && <time title={fullTime(m.at)}>{timeOf(m.at)}</time>}
      </div>
      {m.status === "failed" && (
        <div className="msg-error" role="alert">
          <span>{m.error ?? "This message failed."}</span>
          <button type="button" className="link" onClick={() => onRetry(m.id)}>
            Retry
          </button>
        </div>
      )}
    </article>
  );
});

/** Files with a message: images shown, other files as downloads (links expire after minutes). */
function Files({ files }: { files: FileRef[] }) {
  return (
    <ul className="files" aria-label="Files">
      {files.map((f, i) => (
        <li key={`${f.name}-${i}`}>
          {f.url && f.contentType.startsWith("image/") ? (
            <a href={f.url} target="_blank" rel="noopener noreferrer">
              <img src={f.url} alt={f.name} loading="lazy" />
            </a>
          ) : f.url ? (
            <a href={f.url} download={f.name} target="_blank" rel="noopener noreferrer" className="file-link">
              {f.name} <span className="muted small">({sizeText(f.size)})</span>
            </a>
          ) : (
            <span className="chip file-chip">
              {f.name} <span className="muted small">({sizeText(f.size)})</span>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Copy a whole reply (its Markdown source) to the clipboard. */
function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
    setTimeout(() => setState("idle"), 1500);
  };
  return (
    <button type="button" className="link copy-reply" onClick={() => void copy()} aria-label="Copy reply">
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy"}
    </button>
  );
}
