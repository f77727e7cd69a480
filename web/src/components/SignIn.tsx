import { useState, type FormEvent } from "react";
import { useStore } from "../lib/store";
import { useServices } from "../services";

export function SignIn() {
  const { auth, config } = useServices();
  const { username, error, notice, busy } = useStore(auth.store, (s) => s);
  const [name, setName] = useState(username);
  const [password, setPassword] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim() || !password) return;
    void auth.signIn(name, password).then(() => setPassword(""));
  };

  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div className="brand" aria-hidden="true">
          <img src="./favicon.svg" alt="" width="40" height="40" />
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">to your OpenClaw agent{config.deployment !== "default" ? ` “${config.deployment}”` : ""}</p>
        {notice && !error && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {error && (
          <p className="error" role="alert" id="signin-error">
            {error}
          </p>
        )}
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          autoFocus={!name}
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-describedby={error ? "signin-error" : undefined}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          autoFocus={!!name}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "signin-error" : undefined}
        />
        <button type="submit" className="primary" disabled={busy || !name.trim() || !password}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          First time? Use the temporary password from <code>openclaw-deploy init</code>; you will choose a new one.
        </p>
      </form>
    </main>
  );
}
