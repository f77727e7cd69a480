import { useEffect, useRef, useState, type FormEvent } from "react";
import type { Conversation } from "../api/http";
import { useStore } from "../lib/store";
import { chatHref, navigate, type Route } from "../lib/router";
import { timeOf } from "../lib/format";
import { useChat, useServices } from "../services";

export function Sidebar({ route, open, onClose }: { route: Route; open: boolean; onClose: () => void }) {
  const chat = useChat();
  const { auth, signOut } = useServices();
  const { conversations, conversationsLoad, conversationsError } = useStore(chat.store, (s) => s);
  const username = useStore(auth.store, (s) => s.username);
  const newButton = useRef<HTMLButtonElement>(null);

  // Opening the drawer moves focus into it, so keyboard users land where they expect.
  useEffect(() => {
    if (open) newButton.current?.focus();
  }, [open]);

  const current = route.name === "chat" ? route.session : null;
  return (
    <nav id="sidebar" className={`sidebar${open ? " open" : ""}`} aria-label="Conversations and pages">
      <div className="sidebar-head">
        <button
          ref={newButton}
          type="button"
          className="primary new-chat"
          onClick={() => navigate(chatHref(chat.newSession()))}
        >
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
            <path d="M12 5v14M5 12h14" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" />
          </svg>
          New conversation
        </button>
        <button type="button" className="icon-button close-menu" aria-label="Close menu" onClick={onClose}>
          ×
        </button>
      </div>
      <h2 className="sidebar-label" id="conv-label">
        Conversations
      </h2>
      <ul className="conversations" aria-labelledby="conv-label">
        {conversations.map((c) => (
          <ConversationItem key={c.session} conversation={c} current={c.session === current} />
        ))}
        {conversationsLoad === "loading" && conversations.length === 0 && <li className="muted pad">Loading…</li>}
        {conversationsLoad === "ready" && conversations.length === 0 && (
          <li className="muted pad">No conversations yet.</li>
        )}
      </ul>
      {conversationsError && (
        <div className="error pad small" role="alert">
          <p>Could not load conversations. {conversationsError}</p>
          <button type="button" className="link" onClick={() => void chat.loadConversations()}>
            Try again
          </button>
        </div>
      )}
      <div className="sidebar-foot">
        <a href="#/telegram" aria-current={route.name === "telegram" ? "page" : undefined}>
          Telegram
        </a>
        <a href="#/schedules" aria-current={route.name === "schedules" ? "page" : undefined}>
          Schedules
        </a>
        <a href="#/skills" aria-current={route.name === "skills" ? "page" : undefined}>
          Skills
        </a>
        <a href="#/settings" aria-current={route.name === "settings" ? "page" : undefined}>
          Settings
        </a>
        <div className="account">
          <span className="muted small" title={username}>
            {username}
          </span>
          <button type="button" className="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </div>
    </nav>
  );
}

/** One conversation: open it, rename it, or delete it (asked first). */
function ConversationItem({ conversation: c, current }: { conversation: Conversation; current: boolean }) {
  const chat = useChat();
  const [mode, setMode] = useState<"view" | "rename" | "delete">("view");
  const [title, setTitle] = useState(c.title);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const rename = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const problem = await chat.rename(c.session, title);
    setBusy(false);
    setError(problem);
    if (!problem) setMode("view");
  };

  const remove = async () => {
    setBusy(true);
    const problem = await chat.remove(c.session);
    setBusy(false);
    if (problem) {
      setError(problem);
      return;
    }
    if (current) navigate(chatHref(chat.newSession()), { replace: true });
  };

  const cancel = () => {
    setMode("view");
    setError(null);
    setTitle(c.title);
  };

  if (mode === "rename") {
    return (
      <li>
        <form className="conv-edit" onSubmit={(e) => void rename(e)}>
          <label htmlFor={`rename-${c.session}`} className="visually-hidden">
            New name
          </label>
          <input
            id={`rename-${c.session}`}
            value={title}
            maxLength={80}
            autoFocus
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && cancel()}
          />
          <button type="submit" className="primary" disabled={busy || !title.trim()}>
            Save
          </button>
          <button type="button" className="secondary" onClick={cancel}>
            Cancel
          </button>
          {error && (
            <p className="error small" role="alert">
              {error}
            </p>
          )}
        </form>
      </li>
    );
  }
  if (mode === "delete") {
    return (
      <li>
        <div className="conv-confirm" role="group" aria-label={`Delete ${c.title}`}>
          <span className="small">Delete “{c.title}” and its history?</span>
          <button type="button" className="secondary danger" disabled={busy} onClick={() => void remove()}>
            Delete
          </button>
          <button type="button" className="secondary" onClick={cancel}>
            Cancel
          </button>
          {error && (
            <p className="error small" role="alert">
              {error}
            </p>
          )}
        </div>
      </li>
    );
  }
  return (
    <li>
      <div className="conv-row">
        <a href={chatHref(c.session)} aria-current={current ? "page" : undefined}>
          <span className="conv-title">{c.title}</span>
          <span className="conv-time">{timeOf(c.updatedAt)}</span>
        </a>
        <span className="conv-actions">
          <button type="button" aria-label={`Rename ${c.title}`} title="Rename" onClick={() => setMode("rename")}>
            <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true">
              <path d="M4 20h4l10-10-4-4L4 16v4zM13 7l4 4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
            </svg>
          </button>
          <button type="button" aria-label={`Delete ${c.title}`} title="Delete" onClick={() => setMode("delete")}>
            <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true">
              <path
                d="M5 7h14M10 7V5h4v2M7 7l1 13h8l1-13M10 11v6M14 11v6"
                fill="none"
                stroke="currentColor"
                strokeWidth="1.8"
                strokeLinecap="round"
                strokeLinejoin="round"
              />
            </svg>
          </button>
        </span>
      </div>
    </li>
  );
}
