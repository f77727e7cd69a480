/**
 * The skills: the owner's (added here or with `openclaw-deploy skills add`) and the built-in
 * ones, each with whether it is on and whether the running agent last reported it loaded. The
 * owner uploads a .zip or .tar.gz, turns any skill on or off, and removes their own (asked first).
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { errorMessage, type Skill, type SkillList } from "../api/http";
import { useServices } from "../services";

const POLL_MS = 5000;

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function loadedText(skill: Skill, enabled: boolean): string {
  if (!enabled) return "off";
  if (skill.loaded === null) return "not reported yet";
  return skill.loaded ? "loaded by the agent" : "not loaded";
}

/** Upload one archive; a refusal says why (nothing is stored then). */
function AddSkill({ maxBytes, onAdded }: { maxBytes: number; onAdded: (note: string) => void }) {
  const { api } = useServices();
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (!file) {
      setError("Choose a .zip or .tar.gz with a SKILL.md first.");
      return;
    }
    if (file.size > maxBytes) {
      setError(`${file.name} is ${mebibytes(file.size)}: the limit is ${mebibytes(maxBytes)}.`);
      return;
    }
    setBusy(true);
    setError(null);
    api
      .addSkill(file)
      .then(
        (answer) => {
          if (input.current) input.current.value = "";
          onAdded(`Added ${answer.skill?.name ?? "the skill"}. ${answer.applies ?? ""}`.trim());
        },
        (e: unknown) => setError(errorMessage(e)),
      )
      .finally(() => setBusy(false));
  };

  return (
    <form className="skill-form" aria-label="Add a skill" onSubmit={submit}>
      <label>
        Skill archive (.zip or .tar.gz, up to {mebibytes(maxBytes)}){" "}
        <input ref={input} type="file" accept=".zip,.tar.gz,.tgz,application/zip,application/gzip" />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Uploading…" : "Add skill"}
      </button>
    </form>
  );
}

function SkillRow({ skill, onChanged }: { skill: Skill; onChanged: (note: string | null) => void }) {
  const { api } = useServices();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The box follows the owner's click at once; the server's answer (next refresh) confirms it.
  const [enabled, setEnabled] = useState(skill.enabled);
  useEffect(() => setEnabled(skill.enabled), [skill.enabled]);

  const act = (action: () => Promise<{ applies?: string } | unknown>, undo?: () => void) => {
    setBusy(true);
    setError(null);
    action()
      .then(
        (answer) => {
          const applies = (answer as { applies?: string } | null)?.applies;
          onChanged(applies ?? null);
        },
        (e: unknown) => {
          undo?.();
          setError(errorMessage(e));
        },
      )
      .finally(() => {
        setBusy(false);
        setConfirming(false);
      });
  };

  return (
    <li className="skill" aria-label={skill.name}>
      <div className="skill-head">
        <strong>{skill.name}</strong> <span className="badge">{skill.source === "owner" ? "yours" : "built in"}</span>{" "}
        <span className="muted">{loadedText(skill, enabled)}</span>
      </div>
      <div className="muted">{skill.description}</div>
      <div className="skill-actions">
        <label>
          <input
            type="checkbox"
            checked={enabled}
            disabled={busy}
            onChange={(e) => {
              const wanted = e.target.checked;
              setEnabled(wanted);
              act(
                () => api.setSkill(skill.name, wanted),
                () => setEnabled(!wanted),
              );
            }}
          />{" "}
          On
        </label>
        {skill.source === "owner" &&
          (confirming ? (
            <>
              <span>Remove {skill.name}?</span>
              <button type="button" disabled={busy} onClick={() => act(() => api.removeSkill(skill.name))}>
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
          ))}
        {error && (
          <span className="error" role="alert">
            {error}
          </span>
        )}
      </div>
    </li>
  );
}

export function SkillsPage() {
  const { api } = useServices();
  const [list, setList] = useState<SkillList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [showBuiltIn, setShowBuiltIn] = useState(false);

  const refresh = useCallback(() => {
    api.skills().then(
      (found) => {
        setList(found);
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

  const changed = (message: string | null) => {
    setNote(message);
    refresh();
  };
  const mine = list?.skills.filter((s) => s.source === "owner") ?? [];
  const builtIn = list?.skills.filter((s) => s.source !== "owner") ?? [];

  return (
    <div className="pages">
      <section className="card" aria-labelledby="skills-title">
        <h2 id="skills-title">Skills</h2>
        <p className="muted">
          A skill teaches your agent how and when to do something: a folder with a <code>SKILL.md</code> whose
          frontmatter has a <code>name</code> and a <code>description</code>. Upload it as an archive here or with{" "}
          <code>openclaw-deploy skills add ./my-skill</code>. The running agent has it within seconds.
        </p>
        <AddSkill maxBytes={list?.maxArchiveBytes ?? 3 * 1024 * 1024} onAdded={changed} />
        {note && <p role="status">{note}</p>}
        {error && (
          <p className="error" role="alert">
            Could not load the skills. {error}
          </p>
        )}
        {list === null && !error && <p role="status">Loading…</p>}
        {list && (
          <>
            <h3>Yours</h3>
            {mine.length === 0 ? (
              <p>No skills of yours yet.</p>
            ) : (
              <ul className="skill-list" aria-label="Your skills">
                {mine.map((s) => (
                  <SkillRow key={s.name} skill={s} onChanged={changed} />
                ))}
              </ul>
            )}
            <h3>
              Built in ({builtIn.length}){" "}
              <button type="button" className="link" onClick={() => setShowBuiltIn(!showBuiltIn)}>
                {showBuiltIn ? "Hide" : "Show"}
              </button>
            </h3>
            {showBuiltIn && (
              <ul className="skill-list" aria-label="Built-in skills">
                {builtIn.map((s) => (
                  <SkillRow key={s.name} skill={s} onChanged={changed} />
                ))}
              </ul>
            )}
          </>
        )}
      </section>
    </div>
  );
}
