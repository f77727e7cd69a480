/**
 * The agent's wake-up, shown as it happens: which phase it is in and for how long, instead of
 * a bare spinner. Phase changes are announced to screen readers; the ticking clock is not.
 */
import { useEffect, useRef, useState } from "react";
import { CONTRACT } from "../protocol/contract";
import { elapsed } from "../lib/format";
import { useStore } from "../lib/store";
import { useChat, useServices } from "../services";

/** What each phase of the contract means to the user. */
export const PHASE_LABELS: Record<string, string> = {
  queued: "Message queued",
  starting: "Starting your agent's machine",
  restoring: "Restoring its memory",
  loading: "Loading OpenClaw",
  ready: "Ready",
  stopping: "Going to sleep",
};

const MAX_PLAUSIBLE_MS = 60 * 60_000;

/** What a wake-up usually takes here: the median of the owner's recent ones (null: none yet). */
export function usualWake(recent: number[]): { seconds: number; count: number } | null {
  if (recent.length === 0) return null;
  const sorted = [...recent].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const seconds = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { seconds, count: recent.length };
}

function expectation(usual: { seconds: number; count: number } | null): string {
  if (!usual) return "usually within a minute";
  const seconds = Math.max(1, Math.round(usual.seconds));
  const took = seconds < 90 ? `${seconds} seconds` : `${Math.round(seconds / 60)} minutes`;
  const last = usual.count === 1 ? "its last wake-up" : `its last ${usual.count} wake-ups`;
  return `usually about ${took}, going by ${last}`;
}

/** The phases of a wake-up, in order, as the stepper shows them. */
const WAKE_STEPS = CONTRACT.phases.filter((p) => p !== "ready" && p !== "stopping");

export function AgentBanner({ awaiting }: { awaiting: boolean }) {
  const chat = useChat();
  const agent = useStore(chat.store, (s) => s.agent);
  const typingWake = useStore(chat.store, (s) => s.typingWake);
  const waking = agent?.state === "Starting" || (awaiting && agent !== null && agent.state !== "Running");
  const stopping = agent?.state === "Stopping" && !awaiting;
  const visible = waking || stopping;

  // The owner's own recent wake-ups set the expectation (asked once per wake-up).
  const { api } = useServices();
  const [usual, setUsual] = useState<{ seconds: number; count: number } | null>(null);
  useEffect(() => {
    if (!waking) return;
    let current = true;
    api.agent().then(
      (info) => current && setUsual(usualWake(info.recentWakes)),
      () => undefined, // the general expectation stays
    );
    return () => {
      current = false;
    };
  }, [api, waking]);

  // When the server gives no start time, count from when the banner appeared.
  const shownAt = useRef<number | null>(null);
  if (visible && shownAt.current === null) shownAt.current = Date.now();
  if (!visible) shownAt.current = null;
  // Re-render every second while shown; the clock itself is read at render time.
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!visible) return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [visible]);
  const now = Date.now();

  if (!visible || !agent) return null;
  const phase = agent.phase ?? (stopping ? "stopping" : agent.state === "Starting" ? "starting" : "queued");
  const label = PHASE_LABELS[phase] ?? phase;
  // The server's start time, unless it is missing or implausible (a skewed clock): then our own.
  const plausible = agent.since !== null && agent.since <= now + 5_000 && now - agent.since < MAX_PLAUSIBLE_MS;
  const since = plausible ? agent.since! : (shownAt.current ?? now);
  // Woken by typing, nothing is queued yet: that step is left out until a message is sent.
  const early = !awaiting && typingWake !== null;
  const steps = early ? WAKE_STEPS.filter((step) => step !== "queued") : WAKE_STEPS;
  const current = steps.indexOf(phase);

  return (
    <div className={`agent-banner${stopping ? " stopping" : ""}`}>
      <div className="agent-line">
        <span className="pulse" aria-hidden="true" />
        <span role="status" className="agent-text">
          {stopping ? "Your agent is going to sleep" : "Waking your agent"} — {label}
        </span>
        <span className="agent-clock" aria-hidden="true">
          {elapsed(Math.max(0, now - since))}
        </span>
      </div>
      {!stopping && (
        <ol className="steps" aria-label="Wake-up steps">
          {steps.map((step, i) => (
            <li key={step} className={i < current ? "done" : i === current ? "current" : undefined} aria-current={i === current ? "step" : undefined}>
              {PHASE_LABELS[step] ?? step}
            </li>
          ))}
        </ol>
      )}
      {!stopping && early ? (
        <p className="muted small agent-typing">Waking your agent while you type… it answers sooner when you send ({expectation(usual)}).</p>
      ) : (
        !stopping && <p className="muted small">Your message is safe in the queue and will be answered as soon as the agent is up ({expectation(usual)}).</p>
      )}
    </div>
  );
}
