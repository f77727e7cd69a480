/**
 * The schedules: the owner's (made with `openclaw-deploy schedule add`) and the agent's own
 * wake-ups, each with its next run in its own time zone and its last run with the outcome.
 */
import { useCallback, useEffect, useState } from "react";
import { errorMessage, type Schedule } from "../api/http";
import { useServices } from "../services";

const POLL_MS = 15000;

/** `2026-12-01T08:00:00+01:00` → "Tue 1 Dec, 08:00 (+01:00)": the schedule's own wall clock. */
export function wallClock(iso: string | null): string {
  if (!iso) return "—";
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(iso);
  if (!match) return iso;
  const [, y, mo, d, h, mi, zone] = match;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const weekday = day.toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" });
  const month = day.toLocaleDateString("en-GB", { month: "short", timeZone: "UTC" });
  const offset = !zone || zone === "Z" ? "UTC" : zone;
  return `${weekday} ${Number(d)} ${month}, ${h}:${mi} (${offset})`;
}

export function SchedulesPage() {
  const { api } = useServices();
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api.schedules().then(
      (found) => {
        setSchedules(found);
        setError(null);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [api]);

  useEffect(() => {
    refresh();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") refresh();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  return (
    <div className="pages">
      <section className="card" aria-labelledby="schedules-title">
        <h2 id="schedules-title">Schedules</h2>
        <p className="muted">
          Prompts your agent runs on time, even while it sleeps. Add one with{" "}
          <code>openclaw-deploy schedule add "every weekday at 08:00" --say "…"</code>.
        </p>
        {error && (
          <p className="error" role="alert">
            Could not load the schedules. {error}
          </p>
        )}
        {schedules === null && !error && <p role="status">Loading…</p>}
        {schedules?.length === 0 && <p>No schedules yet.</p>}
        {schedules && schedules.length > 0 && (
          <ul className="schedule-list">
            {schedules.map((s) => (
              <li key={s.id} className="schedule" aria-label={s.title}>
                <div className="schedule-head">
                  <strong>{s.title}</strong>
                  {s.kind === "agent" && <span className="badge">the agent's</span>}
                  {s.state !== "ENABLED" && <span className="badge">paused</span>}
                  <span className="muted"> → {s.to === "telegram" ? "Telegram" : "web"}</span>
                </div>
                <div className="muted">
                  <code>{s.expression}</code> in {s.timezone}
                </div>
                <div>Next: {wallClock(s.nextRun)}</div>
                <div>
                  Last:{" "}
                  {s.lastRun ? `${wallClock(s.lastRun)} — ${s.outcome ?? "?"}${s.detail ? ` (${s.detail})` : ""}` : "never"}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
