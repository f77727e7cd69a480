/**
 * The schedules: the owner's (made here or with `openclaw-deploy schedule add`) and the agent's
 * own wake-ups, each with its next run in its own time zone and its last run with the outcome.
 * The owner's can be added, paused, resumed, run now and removed, as with the CLI; the agent's
 * are shown only.
 */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError, errorMessage, type Schedule } from "../api/http";
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

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The form that adds a schedule; a costly one shows its cost and needs a second click. */
function AddSchedule({ onAdded }: { onAdded: () => void }) {
  const { api } = useServices();
  const [when, setWhen] = useState("");
  const [at, setAt] = useState("");
  const [timezone, setTimezone] = useState(browserTimeZone);
  const [say, setSay] = useState("");
  const [to, setTo] = useState<"telegram" | "web">("telegram");
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [cost, setCost] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const changed = <T,>(set: (value: T) => void) => (value: T) => {
    set(value);
    setCost(null);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api
      .addSchedule({
        ...(when.trim() ? { when: when.trim() } : {}),
        ...(at ? { at } : {}),
        timezone: timezone.trim(),
        say,
        to,
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(cost ? { confirm: true } : {}),
      })
      .then(
        () => {
          setWhen("");
          setAt("");
          setSay("");
          setTitle("");
          setCost(null);
          onAdded();
        },
        (e: unknown) => {
          if (e instanceof ApiError && e.code === "confirm_cost") setCost(e.message);
          else setError(errorMessage(e));
        },
      )
      .finally(() => setBusy(false));
  };

  return (
    <form className="schedule-form" aria-label="Add a schedule" onSubmit={submit}>
      <label>
        When <input value={when} onChange={(e) => changed(setWhen)(e.target.value)} placeholder="every weekday at 08:00, cron(…) or rate(…)" />
      </label>
      <label>
        Or once at <input type="datetime-local" value={at} onChange={(e) => changed(setAt)(e.target.value)} />
      </label>
      <label>
        Time zone <input value={timezone} onChange={(e) => changed(setTimezone)(e.target.value)} />
      </label>
      <label>
        Prompt <textarea value={say} onChange={(e) => changed(setSay)(e.target.value)} rows={2} />
      </label>
      <label>
        Deliver to{" "}
        <select value={to} onChange={(e) => changed(setTo)(e.target.value === "web" ? "web" : "telegram")}>
          <option value="telegram">Telegram</option>
          <option value="web">web</option>
        </select>
      </label>
      <label>
        Title <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder="(the prompt)" />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {cost && <p role="alert">{cost}</p>}
      <button type="submit" disabled={busy}>
        {cost ? "Add anyway" : "Add schedule"}
      </button>
    </form>
  );
}

/** Pause/resume, run now and remove (asked first) for one of the owner's schedules. */
function ScheduleActions({ schedule, onChanged }: { schedule: Schedule; onChanged: () => void }) {
  const { api } = useServices();
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const act = (action: () => Promise<unknown>, done: string | null) => {
    setBusy(true);
    setError(null);
    setNote(null);
    action()
      .then(
        () => {
          setNote(done);
          onChanged();
        },
        (e: unknown) => setError(errorMessage(e)),
      )
      .finally(() => {
        setBusy(false);
        setConfirming(false);
      });
  };
  const paused = schedule.state !== "ENABLED";

  return (
    <div className="schedule-actions">
      <button type="button" disabled={busy} onClick={() => act(() => api.scheduleAction(schedule.id, paused ? "resume" : "pause"), null)}>
        {paused ? "Resume" : "Pause"}
      </button>
      <button type="button" disabled={busy} onClick={() => act(() => api.scheduleAction(schedule.id, "run"), "It runs within a minute.")}>
        Run now
      </button>
      {confirming ? (
        <>
          <span>Remove “{schedule.title}”?</span>
          <button type="button" disabled={busy} onClick={() => act(() => api.removeSchedule(schedule.id), null)}>
            Yes, remove
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" disabled={busy} onClick={() => setConfirming(true)}>
          Remove
        </button>
      )}
      {note && <span role="status">{note}</span>}
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
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
          Prompts your agent runs on time, even while it sleeps. Add one below or with{" "}
          <code>openclaw-deploy schedule add "every weekday at 08:00" --say "…"</code>.
        </p>
        <AddSchedule onAdded={refresh} />
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
                  {s.kind === "warm" && <span className="badge">warm window</span>}
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
                {s.kind === "owner" && <ScheduleActions schedule={s} onChanged={refresh} />}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
