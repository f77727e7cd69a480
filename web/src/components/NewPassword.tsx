import { useState, type FormEvent } from "react";
import { useStore } from "../lib/store";
import { useServices } from "../services";

export function NewPassword() {
  const { auth } = useServices();
  const { error, busy, username } = useStore(auth.store, (s) => s);
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    void auth.completeNewPassword(password);
  };

  const shown = mismatch ? "The two passwords differ. Type the same password twice." : error;
  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="newpw-title" noValidate>
        <h1 id="newpw-title">Choose a new password</h1>
        <p className="muted">
          Signed in as <strong>{username}</strong> with a temporary password. Pick the password you will use from now on.
        </p>
        {shown && (
          <p className="error" role="alert" id="newpw-error">
            {shown}
          </p>
        )}
        <input type="text" name="username" autoComplete="username" value={username} readOnly hidden />
        <label htmlFor="new-password">New password</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          required
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby="newpw-hint"
        />
        <p id="newpw-hint" className="muted small">
          At least 8 characters, with upper- and lower-case letters, a number and a symbol.
        </p>
        <label htmlFor="confirm-password">Repeat it</label>
        <input
          id="confirm-password"
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          aria-invalid={mismatch || undefined}
          aria-describedby={shown ? "newpw-error" : undefined}
        />
        <button type="submit" className="primary" disabled={busy || !password || !confirm}>
          {busy ? "Saving…" : "Set password and sign in"}
        </button>
        <button type="button" className="link" onClick={() => auth.cancelChallenge()}>
          Back to sign-in
        </button>
      </form>
    </main>
  );
}
