/**
 * Telegram pairing, both ways: show a code the owner sends to the bot (`/pair CODE`), and list
 * the requests of people who wrote to the bot, to approve them; paired users can be revoked.
 */
import { useCallback, useEffect, useState } from "react";
import { errorMessage, type Pairing, type PairingCode } from "../api/http";
import { elapsed, fullTime } from "../lib/format";
import { useServices } from "../services";
import { ChannelsList } from "./ChannelsList";

const POLL_MS = 5000;

export function TelegramPage() {
  const { api } = useServices();
  const [pairing, setPairing] = useState<Pairing | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmRevoke, setConfirmRevoke] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api.pairing().then(
      (p) => {
        setPairing(p);
        setListError(null);
      },
      (e: unknown) => setListError(errorMessage(e)),
    );
  }, [api]);

  // Requests arrive from Telegram at any time: poll while the page is open and visible.
  useEffect(() => {
    refresh();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") refresh();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  const act = async (key: string, action: () => Promise<unknown>) => {
    setBusy(key);
    setActionError(null);
    try {
      await action();
      refresh();
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy(null);
      setConfirmRevoke(null);
    }
  };

  return (
    <div className="pages">
      <ChannelsList />
      <PairCode onPaired={refresh} />
      <section className="card" aria-labelledby="pending-title">
        <h2 id="pending-title">Waiting for approval</h2>
        <p className="muted">People who wrote to your bot. Only approve someone you know: they can then talk to your agent.</p>
        {listError && (
          <p className="error" role="alert">
            Could not load pairing requests. {listError}
          </p>
        )}
        {actionError && (
          <p className="error" role="alert">
            {actionError}
          </p>
        )}
        {pairing && pairing.pending.length === 0 && <p className="muted">No pending requests.</p>}
        {!pairing && !listError && <p className="muted">Loading…</p>}
        <ul className="people">
          {pairing?.pending.map((p) => (
            <li key={p.code}>
              <div>
                <strong>{p.name || `Telegram user ${p.userId}`}</strong>
                <span className="muted small">
                  {" "}
                  id {p.userId} · code <code>{p.code}</code>
                  {p.requestedAt ? ` · ${fullTime(p.requestedAt)}` : ""}
                </span>
              </div>
              <button
                type="button"
                className="primary"
                disabled={busy !== null}
                onClick={() => void act(`approve:${p.code}`, () => api.approvePairing(p.code))}
                aria-label={`Approve ${p.name || p.userId}`}
              >
                {busy === `approve:${p.code}` ? "Approving…" : "Approve"}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="paired-title">
        <h2 id="paired-title">Paired</h2>
        {pairing && pairing.paired.length === 0 && <p className="muted">Nobody is paired yet.</p>}
        <ul className="people">
          {pairing?.paired.map((p) => (
            <li key={p.userId}>
              <div>
                <strong>{p.name || `Telegram user ${p.userId}`}</strong>
                <span className="muted small">
                  {" "}
                  id {p.userId}
                  {p.pairedAt ? ` · since ${fullTime(p.pairedAt)}` : ""}
                </span>
              </div>
              {confirmRevoke === p.userId ? (
                <span className="row">
                  <button
                    type="button"
                    className="secondary danger"
                    disabled={busy !== null}
                    onClick={() => void act(`revoke:${p.userId}`, () => api.revokePairing(p.userId))}
                  >
                    {busy === `revoke:${p.userId}` ? "Revoking…" : "Confirm revoke"}
                  </button>
                  <button type="button" className="link" onClick={() => setConfirmRevoke(null)}>
                    Cancel
                  </button>
                </span>
              ) : (
                <button
                  type="button"
                  className="secondary"
                  disabled={busy !== null}
                  onClick={() => setConfirmRevoke(p.userId)}
                  aria-label={`Revoke ${p.name || p.userId}`}
                >
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function PairCode({ onPaired }: { onPaired: () => void }) {
  const { api } = useServices();
  const [code, setCode] = useState<PairingCode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (!code) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [code]);

  const get = async () => {
    setBusy(true);
    setError(null);
    try {
      setCode(await api.pairingCode());
      setNow(Date.now());
      onPaired();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const left = code?.expiresAt ? code.expiresAt - now : null;
  const expired = left !== null && left <= 0;
  const command = code ? `/pair ${code.code}` : "";
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };

  return (
    <section className="card" aria-labelledby="code-title">
      <h2 id="code-title">Pair your Telegram account</h2>
      <p className="muted">Get a code, then send it to your bot in Telegram. Your account is paired as soon as the bot receives it.</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {code && !expired && (
        <div className="pair-code">
          <p>Send this message to your bot:</p>
          <p className="code-big">
            <code>{command}</code>
          </p>
          <div className="row">
            <button type="button" className="secondary" onClick={() => void copy()}>
              {copied ? "Copied" : "Copy"}
            </button>
            {left !== null && (
              <span className="muted small" aria-live="off">
                Expires in {elapsed(left)}
              </span>
            )}
          </div>
        </div>
      )}
      {code && expired && <p className="notice">That code has expired. Get a new one.</p>}
      <button type="button" className={code && !expired ? "secondary" : "primary"} disabled={busy} onClick={() => void get()}>
        {busy ? "Getting a code…" : code ? "Get a new code" : "Get a pairing code"}
      </button>
    </section>
  );
}
