import { useEffect, useState } from "react";
import { useStore } from "../lib/store";
import { useChat } from "../services";

const OFFLINE_DETAIL = "Offline — messages will be sent when you are back online";

/**
 * A quiet indicator: reconnects are silent, so it only speaks up when the link has been down
 * for a moment (a quick reconnect never flickers) or the browser is offline.
 */
export function ConnectionBadge() {
  const connection = useStore(useChat().store, (s) => s.connection);
  const [late, setLate] = useState(false);

  useEffect(() => {
    setLate(false);
    if (connection === "open" || connection === "idle") return;
    const timer = setTimeout(() => setLate(true), 2000);
    return () => clearTimeout(timer);
  }, [connection]);

  const [tone, label] =
    connection === "open" || connection === "idle"
      ? ["ok", "Connected"]
      : connection === "offline"
        ? ["bad", "Offline"]
        : late
          ? ["warn", "Reconnecting…"]
          : ["quiet", "Connecting…"];
  const visible = tone === "warn" || tone === "bad";
  return (
    <span className={`conn conn-${tone}`} role="status" title={tone === "bad" ? OFFLINE_DETAIL : label}>
      <span className="conn-dot" aria-hidden="true" />
      <span className={visible ? "conn-label" : "visually-hidden"}>{label}</span>
      {tone === "bad" && <span className="visually-hidden">: messages will be sent when you are back online</span>}
    </span>
  );
}
