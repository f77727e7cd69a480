/**
 * The chat channels that reach the agent (Telegram, Slack, Discord): which are connected, as
 * whom, and how many people are paired on each. Connecting one is a CLI step, shown as a hint.
 */
import { useEffect, useState } from "react";
import { errorMessage, type ChatChannel } from "../api/http";
import { fullTime } from "../lib/format";
import { useServices } from "../services";

const LABELS: Record<string, string> = { telegram: "Telegram", slack: "Slack", discord: "Discord" };
const HOW: Record<string, string> = {
  telegram: "openclaw-deploy init",
  slack: "openclaw-deploy channels add slack",
  discord: "openclaw-deploy channels add discord",
};

export function ChannelsList() {
  const { api } = useServices();
  const [channels, setChannels] = useState<ChatChannel[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.channels().then(
      (list) => live && setChannels(list),
      (e: unknown) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [api]);

  return (
    <section className="card" aria-labelledby="channels-title">
      <h2 id="channels-title">Chat channels</h2>
      {error && <p className="muted">Could not load the channels. {error}</p>}
      {!channels && !error && <p className="muted">Loading…</p>}
      <ul className="people" aria-label="Chat channels">
        {channels?.map((c) => {
          const label = LABELS[c.channel] ?? c.channel;
          return (
            <li key={c.channel}>
              <div>
                <strong>{label}</strong>{" "}
                {c.connected ? (
                  <span>
                    connected{c.identity ? ` as ${c.identity}` : ""}
                    {c.connectedAt ? ` since ${fullTime(c.connectedAt)}` : ""} · {c.paired}{" "}
                    {c.paired === 1 ? "person" : "people"} paired
                  </span>
                ) : (
                  <span className="muted">
                    not connected — <code>{HOW[c.channel] ?? "openclaw-deploy channels add"}</code>
                  </span>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
