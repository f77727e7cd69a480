import { useEffect, useState, type FormEvent } from "react";
import { ApiError, errorMessage, type AgentInfo, type Settings } from "../api/http";
import { fullTime } from "../lib/format";
import { loadTheme, saveTheme, type ThemeChoice } from "../lib/theme";
import { useStore } from "../lib/store";
import { useChat, useServices } from "../services";
import { PHASE_LABELS } from "./AgentBanner";

// Suggestions only: the server validates (runtime/settings.py PROVIDERS).
const PROVIDERS = ["anthropic", "openai", "openrouter", "deepseek", "bedrock", "offline"];

type Field = keyof Settings;

export function SettingsPage() {
  return (
    <div className="pages">
      <AgentSection />
      <ModelSection />
      <AppearanceSection />
      <AccountSection />
    </div>
  );
}

interface Form {
  provider: string;
  model: string;
  idle: string;
}

const toForm = (s: Settings): Form => ({ provider: s.provider ?? "", model: s.model ?? "", idle: String(s.idleTimeoutMinutes ?? "") });

/** Only what the owner changed: the server keeps the rest, and a model goes with its provider. */
export function settingsChanges(saved: Form, form: Form): Partial<Settings> | { error: { field: Field; message: string } } {
  const changes: Partial<Settings> = {};
  const provider = form.provider.trim();
  const model = form.model.trim();
  if (provider !== saved.provider || model !== saved.model) {
    if (!provider || !model) {
      return { error: { field: !provider ? "provider" : "model", message: "Choose both a provider and a model." } };
    }
    changes.provider = provider;
    changes.model = model;
  }
  if (form.idle.trim() !== saved.idle) {
    const idle = Number(form.idle);
    if (!Number.isInteger(idle) || idle < 1) {
      return { error: { field: "idleTimeoutMinutes", message: "The idle timeout is a whole number of minutes, at least 1." } };
    }
    changes.idleTimeoutMinutes = idle;
  }
  return changes;
}

function ModelSection() {
  const { api } = useServices();
  const [saved, setSaved] = useState<Form | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<{ field: Field | null; message: string } | null>(null);

  const load = () => {
    setLoadError(null);
    api.getSettings().then(
      (s) => {
        setSaved(toForm(s));
        setForm(toForm(s));
      },
      (e: unknown) => setLoadError(errorMessage(e)),
    );
  };
  useEffect(load, [api]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!form || !saved) return;
    setStatus(null);
    const changes = settingsChanges(saved, form);
    if ("error" in changes) {
      setError(changes.error);
      return;
    }
    setError(null);
    if (Object.keys(changes).length === 0) {
      setStatus("Nothing changed.");
      return;
    }
    setSaving(true);
    try {
      const fresh = toForm(await api.putSettings(changes));
      setSaved(fresh);
      setForm(fresh);
      setStatus("Saved. The agent uses them from its next start.");
    } catch (e) {
      const field = e instanceof ApiError && isField(e.field) ? e.field : null;
      setError({ field, message: errorMessage(e) });
    } finally {
      setSaving(false);
    }
  };

  const fieldError = (field: Field) => (error?.field === field ? `${field}-error` : undefined);
  return (
    <section className="card" aria-labelledby="model-title">
      <h2 id="model-title">Model</h2>
      <p className="muted">Which model your agent uses, and how long it stays awake without messages.</p>
      {loadError && (
        <div className="error" role="alert">
          <p>Could not load the settings. {loadError}</p>
          <button type="button" className="link" onClick={load}>
            Try again
          </button>
        </div>
      )}
      {!form && !loadError && <p className="muted">Loading…</p>}
      {form && (
        <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
          <label htmlFor="provider">Provider</label>
          <input
            id="provider"
            list="providers"
            value={form.provider}
            placeholder="The deployment's default"
            autoCapitalize="none"
            spellCheck={false}
            onChange={(e) => setForm({ ...form, provider: e.target.value })}
            aria-invalid={error?.field === "provider" || undefined}
            aria-describedby={fieldError("provider")}
          />
          <datalist id="providers">
            {PROVIDERS.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          {error?.field === "provider" && <FieldError id="provider-error" message={error.message} />}
          <label htmlFor="model">Model</label>
          <input
            id="model"
            value={form.model}
            placeholder="The deployment's default"
            autoCapitalize="none"
            spellCheck={false}
            onChange={(e) => setForm({ ...form, model: e.target.value })}
            aria-invalid={error?.field === "model" || undefined}
            aria-describedby={fieldError("model")}
          />
          {error?.field === "model" && <FieldError id="model-error" message={error.message} />}
          <label htmlFor="idle">Sleep after (minutes without messages)</label>
          <input
            id="idle"
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            value={form.idle}
            onChange={(e) => setForm({ ...form, idle: e.target.value })}
            aria-invalid={error?.field === "idleTimeoutMinutes" || undefined}
            aria-describedby={fieldError("idleTimeoutMinutes")}
          />
          {error?.field === "idleTimeoutMinutes" && <FieldError id="idleTimeoutMinutes-error" message={error.message} />}
          {error && error.field === null && <FieldError id="settings-error" message={error.message} />}
          <div className="row">
            <button type="submit" className="primary" disabled={saving}>
              {saving ? "Saving…" : "Save"}
            </button>
            {status && (
              <span role="status" className="ok">
                {status}
              </span>
            )}
          </div>
        </form>
      )}
    </section>
  );
}

function isField(value: string | null): value is Field {
  return value === "provider" || value === "model" || value === "idleTimeoutMinutes";
}

function FieldError({ id, message }: { id: string; message: string }) {
  return (
    <p className="error small" id={id} role="alert">
      {message}
    </p>
  );
}

function AgentSection() {
  const { api } = useServices();
  const live = useStore(useChat().store, (s) => s.agent);
  const [info, setInfo] = useState<AgentInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = () => {
    api.agent().then(
      (a) => {
        setInfo(a);
        setError(null);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  };
  useEffect(refresh, [api, live?.state]);
  // The socket's last word or the API's answer, whichever describes the later moment.
  const current = live && (!info || (live.since ?? 0) > (info.since ?? 0)) ? live : info;
  // While it changes state (the end of a stop is not announced on the socket), look again.
  const shown = current?.state;
  useEffect(() => {
    if (shown !== "Starting" && shown !== "Stopping") return;
    const timer = setInterval(refresh, 3000);
    return () => clearInterval(timer);
  }, [shown, api]);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      refresh();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const state = current?.state ?? "unknown";
  const phase = current?.phase;
  return (
    <section className="card" aria-labelledby="agent-title">
      <h2 id="agent-title">Agent</h2>
      <dl className="facts">
        <dt>State</dt>
        <dd>
          {state}
          {phase && state !== "Idle" ? ` — ${PHASE_LABELS[phase] ?? phase}` : ""}
        </dd>
        {info?.since && (
          <>
            <dt>Since</dt>
            <dd>{fullTime(info.since)}</dd>
          </>
        )}
        {info?.lastStopReason && (
          <>
            <dt>Last stopped</dt>
            <dd>{info.lastStopReason}</dd>
          </>
        )}
      </dl>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="button" className="secondary" disabled={busy || state === "Running" || state === "Starting"} onClick={() => void act(() => api.startAgent())}>
          Wake now
        </button>
        <button type="button" className="secondary" disabled={busy || state === "Idle" || state === "Stopping"} onClick={() => void act(() => api.stopAgent())}>
          Put to sleep
        </button>
      </div>
    </section>
  );
}

function AppearanceSection() {
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  const choose = (choice: ThemeChoice) => {
    setTheme(choice);
    saveTheme(choice);
  };
  return (
    <section className="card" aria-labelledby="look-title">
      <h2 id="look-title">Appearance</h2>
      <fieldset className="segmented">
        <legend className="visually-hidden">Theme</legend>
        {(["system", "light", "dark"] as const).map((choice) => (
          <label key={choice}>
            <input type="radio" name="theme" value={choice} checked={theme === choice} onChange={() => choose(choice)} />
            <span>{choice === "system" ? "Match system" : choice === "light" ? "Light" : "Dark"}</span>
          </label>
        ))}
      </fieldset>
    </section>
  );
}

function AccountSection() {
  const { auth, signOut } = useServices();
  const username = useStore(auth.store, (s) => s.username);
  return (
    <section className="card" aria-labelledby="account-title">
      <h2 id="account-title">Account</h2>
      <p>
        Signed in as <strong>{username}</strong>.
      </p>
      <div className="row">
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
        <button type="button" className="secondary danger" onClick={() => void signOut({ everywhere: true })}>
          Sign out on all devices
        </button>
      </div>
    </section>
  );
}
