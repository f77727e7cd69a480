/** The signed-in app: sidebar (conversations, pages), header, and the routed page. */
import { useEffect, useRef, useState } from "react";
import { useStore } from "../lib/store";
import { chatHref, navigate, parseRoute, useHash } from "../lib/router";
import { ChatContext, createChat, useServices } from "../services";
import type { ChatController } from "../state/chat";
import { ChatView } from "./ChatView";
import { ConnectionBadge } from "./ConnectionBadge";
import { SchedulesPage } from "./SchedulesPage";
import { SettingsPage } from "./SettingsPage";
import { SkillsPage } from "./SkillsPage";
import { Sidebar } from "./Sidebar";
import { TelegramPage } from "./TelegramPage";

export function SignedIn() {
  const services = useServices();
  const [chat] = useState<ChatController>(() => createChat(services));

  useEffect(() => {
    chat.start();
    const onVisible = () => {
      if (document.visibilityState === "visible") chat.nudge();
      else services.drafts.flush();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      chat.stop();
    };
  }, [chat, services]);

  return (
    <ChatContext.Provider value={chat}>
      <Layout chat={chat} />
    </ChatContext.Provider>
  );
}

function Layout({ chat }: { chat: ChatController }) {
  const hash = useHash();
  const route = parseRoute(hash);
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const conversations = useStore(chat.store, (s) => s.conversations);

  useEffect(() => {
    if (route.name === "home") navigate(chatHref(chat.newSession()), { replace: true });
  }, [route.name, chat]);

  const session = route.name === "chat" ? route.session : null;
  useEffect(() => {
    if (session) chat.open(session);
  }, [session, chat]);

  // A route change closes the drawer on small screens.
  useEffect(() => setMenuOpen(false), [hash]);

  // The open drawer owns the keyboard: Escape closes it, and focus goes back to the menu button.
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setMenuOpen(false);
    };
    window.addEventListener("keydown", onKey);
    const button = menuButton.current;
    return () => {
      window.removeEventListener("keydown", onKey);
      if (button && button.offsetParent !== null && !document.activeElement?.closest(".main-column")) button.focus();
    };
  }, [menuOpen]);

  const title =
    route.name === "settings"
      ? "Settings"
      : route.name === "telegram"
        ? "Telegram"
        : route.name === "schedules"
          ? "Schedules"
          : route.name === "skills"
            ? "Skills"
            : (conversations.find((c) => route.name === "chat" && c.session === route.session)?.title ?? "New conversation");

  useEffect(() => {
    document.title = `${title} · OpenClaw`;
  }, [title]);

  return (
    <div className={`app${menuOpen ? " menu-open" : ""}`}>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <Sidebar route={route} open={menuOpen} onClose={() => setMenuOpen(false)} />
      {menuOpen && <div className="scrim" onClick={() => setMenuOpen(false)} aria-hidden="true" />}
      {/* While the drawer is open (small screens), the page behind it takes no focus. */}
      <div className="main-column" inert={menuOpen}>
        <header className="topbar">
          <button
            ref={menuButton}
            type="button"
            className="icon-button menu-button"
            aria-label="Open menu"
            aria-expanded={menuOpen}
            aria-controls="sidebar"
            onClick={() => setMenuOpen(true)}
          >
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
              <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
            </svg>
          </button>
          <h1 className="topbar-title">{title}</h1>
          <ConnectionBadge />
        </header>
        <main id="main" ref={main} tabIndex={-1} className="page">
          {route.name === "chat" && <ChatView key={route.session} session={route.session} />}
          {route.name === "settings" && <SettingsPage />}
          {route.name === "telegram" && <TelegramPage />}
          {route.name === "schedules" && <SchedulesPage />}
          {route.name === "skills" && <SkillsPage />}
        </main>
      </div>
    </div>
  );
}
