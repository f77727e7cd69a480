/** Formatting helpers for times and durations shown in the UI. */

export function elapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

export function timeOf(epochMs: number | null, now: number = Date.now()): string {
  if (epochMs === null) return "";
  const date = new Date(epochMs);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

export function fullTime(epochMs: number | null): string {
  return epochMs === null ? "" : new Date(epochMs).toLocaleString();
}
