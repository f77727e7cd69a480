/**
 * Hash routes (#/c/<session>, #/settings, #/telegram, #/schedules, #/skills): the SPA then works from S3 + CloudFront
 * with no rewrite rules, and a reload lands on the same screen.
 */
import { useSyncExternalStore } from "react";

export type Route =
  | { name: "chat"; session: string }
  | { name: "settings" }
  | { name: "telegram" }
  | { name: "schedules" }
  | { name: "skills" }
  | { name: "home" };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  const chat = /^\/c\/([^/]+)$/.exec(path);
  if (chat?.[1]) {
    try {
      return { name: "chat", session: decodeURIComponent(chat[1]) };
    } catch {
      return { name: "home" };
    }
  }
  if (path === "/settings") return { name: "settings" };
  if (path === "/telegram") return { name: "telegram" };
  if (path === "/schedules") return { name: "schedules" };
  if (path === "/skills") return { name: "skills" };
  return { name: "home" };
}

export const chatHref = (session: string) => `#/c/${encodeURIComponent(session)}`;

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) {
    history.replaceState(history.state, "", href);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = href;
  }
}

function subscribe(callback: () => void): () => void {
  window.addEventListener("hashchange", callback);
  return () => window.removeEventListener("hashchange", callback);
}

export function useHash(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash);
}
