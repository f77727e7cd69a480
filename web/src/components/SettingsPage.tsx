import { useEffect, useState, type FormEvent } from "react";
import { ApiError, errorMessage, type AgentInfo, type ModelList, type Providers, type Settings } from "../api/http";
import { fullTime } from "../lib/format";
import { loadTheme, saveTheme, type ThemeChoice } from "../lib/theme";
import { useStore } from "../lib/store";
import { useChat, useServices } from "../services";
import { setWakeOnTyping, wakesOnTyping } from "../state/chat";
import { PHASE_LABELS } from "./AgentBanner";

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
  baseUrl: string;
  idle: string;
  browser: boolean;
}

const toForm = (s: Settings): Form => ({
  provider: s.provider ?? "",
  model: s.model ?? "",
  baseUrl: s.baseUrl ?? "",
  idle: String(s.idleTimeoutMinutes ?? ""),
  browser: s.browser ?? false,
});

type Changes = Partial<Settings> | { provider: null };

/** Only what the owner changed: the server keeps the rest, and a model goes with its provider.
 * An empty provider is "use the deployment's default" (what init chose). */
export function settingsChanges(saved: Form, form: Form): Changes | { error: { field: Field; message: string } } {
  const changes: Record<string, unknown> = {};
  const provider = form.provider.trim();
  const model = form.model.trim();
  const baseUrl = form.baseUrl.trim();
  if (!provider && saved.provider) {
    changes.provider = null;
  } else if (provider !== saved.provider || model !== saved.model || (provider && baseUrl !== saved.baseUrl)) {
    if (!provider || !model) {
      return { error: { field: !provider ? "provider" : "model", message: "Choose both a provider and a model." } };
    }
    changes.provider = provider;
    changes.model = model;
    if (baseUrl) changes.baseUrl = baseUrl;
  }
  if (form.idle.trim() !== saved.idle) {
    const idle = Number(form.idle);
    if (!Number.isInteger(idle) || idle < 1) {
      return { error: { field: "idleTimeoutMinutes", message: "The idle timeout is a whole number of minutes, at least 1." } };
    }
    changes.idleTimeoutMinutes = idle;
  }
  if (form.browser !== saved.browser) changes.browser = form.browser;
  return changes as Changes;
}

const keyCommand = (id: string) => `openclaw-deploy keys set ${id}`;

function ModelSection() {
  const { api } = useServices();
  const [saved, setSaved] = useState<Form | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [catalog, setCatalog] = useState<Providers | null>(null);
  const [models, setModels] = useState<ModelList | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<{ field: Field | null; message: string } | null>(null);

  const loadCatalog = () =>
    api.providers().then(setCatalog, () => setCatalog({ providers: [], tools: [], default: { provider: null, model: null }, applies: "" }));
  const load = () => {
    setLoadError(null);
    api.getSettings().then(
      (s) => {
        setSaved(toForm(s));
        setForm(toForm(s));
      },
      (e: unknown) => setLoadError(errorMessage(e)),
    );
    void loadCatalog();
  };
  useEffect(load, [api]);

  const chosen = form?.provider ?? "";
  useEffect(() => {
    setModels(null);
    if (!chosen) return;
    let live = true;
    api.models(chosen).then(
      (m) => live && setModels(m),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api, chosen, catalog]);

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
      setStatus("Saved. Your agent's next turn uses it; no restart.");
    } catch (e) {
      const field = e instanceof ApiError && isField(e.field) ? e.field : null;
      setError({ field, message: errorMessage(e) });
    } finally {
      setSaving(false);
    }
  };

  const info = catalog?.providers.find((p) => p.id === chosen);
  const fallback = catalog?.default;
  const defaultLabel = fallback?.provider ? `The deployment's default (${fallback.provider}/${fallback.model ?? "its default"})` : "The deployment's default";
  const suggestions = models?.models ?? info?.models ?? [];
  const fieldError = (field: Field) => (error?.field === field ? `${field}-error` : undefined);
  return (
    <>
      <section className="card" aria-labelledby="model-title">
        <h2 id="model-title">Model</h2>
        <p className="muted">
          Which model your agent uses, and how long it stays awake without messages.{" "}
          {catalog?.applies || "A change applies to the agent's next turn; no restart."}
        </p>
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
            <select
              id="provider"
              value={form.provider}
              onChange={(e) => {
                const next = catalog?.providers.find((p) => p.id === e.target.value);
                setForm({ ...form, provider: e.target.value, model: e.target.value === saved?.provider ? saved.model : (next?.defaultModel ?? "") });
              }}
              aria-invalid={error?.field === "provider" || undefined}
              aria-describedby={fieldError("provider") ?? "provider-key"}
            >
              <option value="">{defaultLabel}</option>
              {(catalog?.providers ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                  {p.needsKey && !p.hasKey ? " — no key yet" : ""}
                </option>
              ))}
              {form.provider && !catalog?.providers.some((p) => p.id === form.provider) && <option value={form.provider}>{form.provider}</option>}
            </select>
            {info && (
              <p id="provider-key" className={info.needsKey && !info.hasKey ? "error small" : "muted small"}>
                {info.needsKey && !info.hasKey
                  ? `No ${info.label} key yet: add one under API keys below (or ${keyCommand(info.id)}).`
                  : info.needsKey || info.keyOptional
                    ? info.hasKey
                      ? `Key set${info.keyUpdatedAt ? ` ${fullTime(info.keyUpdatedAt)}` : ""}.`
                      : "No key (optional for this provider)."
                    : "Needs no key."}
              </p>
            )}
            {error?.field === "provider" && <FieldError id="provider-error" message={error.message} />}
            {info?.needsBaseUrl && (
              <>
                <label htmlFor="baseUrl">Endpoint (base URL)</label>
                <input
                  id="baseUrl"
                  value={form.baseUrl}
                  placeholder="http://host:8000/v1"
                  autoCapitalize="none"
                  spellCheck={false}
                  onChange={(e) => setForm({ ...form, baseUrl: e.target.value })}
                  aria-invalid={error?.field === "baseUrl" || undefined}
                  aria-describedby={fieldError("baseUrl")}
                />
                {error?.field === "baseUrl" && <FieldError id="baseUrl-error" message={error.message} />}
              </>
            )}
            <label htmlFor="model">Model</label>
            <input
              id="model"
              list="models"
              value={form.model}
              placeholder={form.provider ? "A model id" : "The deployment's default"}
              disabled={!form.provider}
              autoCapitalize="none"
              spellCheck={false}
              onChange={(e) => setForm({ ...form, model: e.target.value })}
              aria-invalid={error?.field === "model" || undefined}
              aria-describedby={fieldError("model") ?? "model-source"}
            />
            <datalist id="models">
              {suggestions.map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
            {form.provider && (
              <p id="model-source" className="muted small">
                {models?.source === "provider" ? `${suggestions.length} models from ${info?.label ?? form.provider}'s own list` : "Suggestions"}; any other model id works too.
              </p>
            )}
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
            <label>
              <input
                id="browser"
                type="checkbox"
                checked={form.browser}
                onChange={(e) => setForm({ ...form, browser: e.target.checked })}
                aria-describedby="browser-help"
              />
              Let the agent browse the web (headless Chromium)
            </label>
            <p id="browser-help" className="muted small">
              It needs Chromium in the agent's image and a 3 GB task: <code>openclaw-deploy config set browser on</code> then <code>openclaw-deploy deploy</code> provide both and show what it costs. Without them the agent starts without the browser.
            </p>
            {error?.field === "browser" && <FieldError id="browser-error" message={error.message} />}
            {error && error.field === null && <FieldError id="settings-error" message={error.message} />}
            <div className="row">
              <button type="submit" className="primary" disabled={saving}>
                {saving ? "Saving…" : "Save"}
              </button>
              {saved?.provider && (
                <button type="button" className="secondary" disabled={saving} onClick={() => setForm({ ...form, provider: "", model: "", baseUrl: "" })}>
                  Use the deployment's default
                </button>
              )}
              {status && (
                <span role="status" className="ok">
                  {status}
                </span>
              )}
            </div>
          </form>
        )}
      </section>
      {catalog && <KeysSection catalog={catalog} inUse={saved?.provider || catalog.default.provider} onChange={() => void loadCatalog()} />}
    </>
  );
}

interface KeyRow {
  id: string;
  label: string;
  what: string;
  hasKey: boolean;
  keyUpdatedAt: number | null;
  keyPage: string | null;
}

/** Set, replace or remove each provider's and tool's key. Write-only: a key is never shown. */
export function KeysSection({ catalog, inUse, onChange }: { catalog: Providers; inUse: string | null; onChange: () => void }) {
  const rows: KeyRow[] = [
    ...catalog.providers
      .filter((p) => p.needsKey || p.keyOptional)
      .map((p) => ({ id: p.id, label: p.label, what: p.keyOptional ? "optional" : "model", hasKey: p.hasKey, keyUpdatedAt: p.keyUpdatedAt, keyPage: p.keyPage })),
    ...catalog.tools.map((t) => ({ id: t.id, label: t.label, what: `tool ${t.tool}`, hasKey: t.hasKey, keyUpdatedAt: t.keyUpdatedAt, keyPage: t.keyPage })),
  ];
  return (
    <section className="card" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p className="muted">
        One key per provider or tool, kept encrypted in your AWS account (SSM). A key is never shown again once saved; the agent uses a new one from its next turn.
      </p>
      <ul className="keys">
        {rows.map((row) => (
          <KeyItem key={row.id} row={row} inUse={row.id === inUse} onChange={onChange} />
        ))}
      </ul>
    </section>
  );
}

function KeyItem({ row, inUse, onChange }: { row: KeyRow; inUse: boolean; onChange: () => void }) {
  const { api } = useServices();
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const inputId = `key-${row.id}`;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) {
      setNote({ ok: false, text: "Paste the key first." });
      return;
    }
    setBusy(true);
    try {
      await api.putKey(row.id, value.trim());
      setValue("");
      setNote({ ok: true, text: "Saved. Used from the agent's next turn." });
      onChange();
    } catch (e) {
      setNote({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!window.confirm(`Remove the ${row.label} key?${inUse ? " Your agent uses this provider now." : ""}`)) return;
    setBusy(true);
    try {
      await api.removeKey(row.id, inUse);
      setNote({ ok: true, text: "Removed." });
      onChange();
    } catch (e) {
      setNote({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <li>
      <form className="stack" onSubmit={(e) => void save(e)} noValidate aria-label={`${row.label} key`}>
        <label htmlFor={inputId}>
          {row.label} <span className="muted small">({row.what})</span>
        </label>
        <p className="muted small" data-testid={`key-state-${row.id}`}>
          {row.hasKey ? `Key set${row.keyUpdatedAt ? ` ${fullTime(row.keyUpdatedAt)}` : ""}` : "No key"}
          {inUse ? " · in use" : ""}
          {row.keyPage && (
            <>
              {" · "}
              <a href={row.keyPage} target="_blank" rel="noreferrer">
                get one
              </a>
            </>
          )}
        </p>
        <div className="row">
          <input
            id={inputId}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={value}
            placeholder={row.hasKey ? "Replace the key" : "Paste the key"}
            onChange={(e) => setValue(e.target.value)}
          />
          <button type="submit" className="secondary" disabled={busy}>
            {row.hasKey ? "Replace" : "Save key"}
          </button>
          {row.hasKey && (
            <button type="button" className="secondary danger" disabled={busy} onClick={() => void remove()}>
              Remove
            </button>
          )}
        </div>
        {note && (
          <p role={note.ok ? "status" : "alert"} className={note.ok ? "ok small" : "error small"}>
            {note.text}
          </p>
        )}
      </form>
    </li>
  );
}

function isField(value: string | null): value is Field {
  return value === "provider" || value === "model" || value === "baseUrl" || value === "idleTimeoutMinutes" || value === "browser";
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
      <WakeOnTyping />
    </section>
  );
}

/** Kept in this browser only: another browser or device has its own choice. */
function WakeOnTyping() {
  const { kv, prefix } = useServices();
  const [on, setOn] = useState(() => wakesOnTyping(kv, prefix));
  return (
    <div className="stack">
      <label>
        <input
          type="checkbox"
          checked={on}
          onChange={(e) => {
            setOn(e.target.checked);
            setWakeOnTyping(kv, prefix, e.target.checked);
          }}
          aria-describedby="wake-typing-help"
        />
        Wake the agent when I start typing
      </label>
      <p id="wake-typing-help" className="muted small">
        The wake-up (about a minute) then happens while you write, not after you send. Kept in this browser only.
      </p>
    </div>
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
