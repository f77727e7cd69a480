/**
 * The message box. Enter sends (Shift+Enter breaks the line; on touch screens Enter always
 * breaks it and the button sends). The text is kept as a draft per conversation, and text over
 * the limit is kept too, with a message saying what to do, never silently cut. Typing wakes a
 * sleeping agent (unless the owner turned that off), so its cold start overlaps the writing.
 */
import {
  useEffect,
  useMemo,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
} from "react";
import { errorMessage } from "../api/http";
import { MAX_TEXT_CHARS, UPLOADS, codePointLength, fileProblem, newId, sizeText, type Attachment } from "../protocol/contract";
import { limitMessage } from "../state/chat";
import { useChat, useServices } from "../services";

const COUNTER_FROM = Math.floor(MAX_TEXT_CHARS * 0.8);
const coarsePointer = () => typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;

/** A file being attached: checked, then uploaded straight to the state bucket. */
interface Pending {
  id: string;
  name: string;
  size: number;
  status: "uploading" | "ready" | "failed";
  error: string | null;
  attachment: Attachment | null;
}

const LIMITS_HINT = `Images up to ${sizeText(UPLOADS.maxImageBytes)}, other files up to ${sizeText(UPLOADS.maxBytes)}, ${UPLOADS.maxFiles} per message`;

export function Composer({ session }: { session: string }) {
  const chat = useChat();
  const { drafts, api } = useServices();
  const [text, setText] = useState(() => drafts.get(session));
  const [error, setError] = useState<string | null>(null);
  const [files, setFiles] = useState<Pending[]>([]);
  const [dragging, setDragging] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  const update = (id: string, patch: Partial<Pending>) =>
    setFiles((list) => list.map((f) => (f.id === id ? { ...f, ...patch } : f)));

  /** Check each file against the limits first (nothing over them is uploaded), then upload. */
  const attach = (chosen: File[]) => {
    if (!chosen.length) return;
    const refused: string[] = [];
    const room = UPLOADS.maxFiles - files.filter((f) => f.status !== "failed").length;
    const accepted: File[] = [];
    for (const file of chosen) {
      const problem = fileProblem(file);
      if (problem) refused.push(problem);
      else if (accepted.length >= room) refused.push(`${file.name}: at most ${UPLOADS.maxFiles} files per message.`);
      else accepted.push(file);
    }
    setError(refused.length ? refused.join(" ") : null);
    for (const file of accepted) {
      const id = newId("f-");
      setFiles((list) => [...list, { id, name: file.name, size: file.size, status: "uploading", error: null, attachment: null }]);
      void (async () => {
        try {
          const grant = await api.createUpload({ session, name: file.name, contentType: file.type, size: file.size });
          await api.uploadFile(grant, file);
          update(id, { status: "ready", attachment: grant.attachment });
        } catch (problem) {
          update(id, { status: "failed", error: errorMessage(problem) });
        }
      })();
    }
  };

  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = [...event.clipboardData.files];
    if (!pasted.length) return;
    event.preventDefault();
    attach(pasted);
  };

  const onDrop = (event: DragEvent<HTMLFormElement>) => {
    event.preventDefault();
    setDragging(false);
    attach([...event.dataTransfer.files]);
  };
  const uploading = files.some((f) => f.status === "uploading");
  const ready = files.filter((f) => f.status === "ready" && f.attachment).map((f) => f.attachment!);

  useEffect(() => {
    if (!coarsePointer()) box.current?.focus();
  }, [session]);

  const limit = useMemo(() => limitMessage(text), [text]);
  const shown = limit ?? error;

  const change = (value: string) => {
    setText(value);
    setError(null);
    drafts.set(session, value);
  };

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (limit || uploading) return;
    const refused = chat.send(text, ready);
    if (refused) {
      setError(refused);
      return;
    }
    change("");
    setFiles([]);
    box.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.nativeEvent.isComposing) return;
    if (coarsePointer()) return;
    event.preventDefault();
    submit();
  };

  const count = text.length >= COUNTER_FROM ? codePointLength(text) : null;
  return (
    <form
      className={`composer${dragging ? " dragging" : ""}`}
      onSubmit={submit}
      onDragOver={(e) => {
        if (![...e.dataTransfer.types].includes("Files")) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {shown && (
        <p className="error composer-error" role="alert" id="composer-error">
          {shown}
        </p>
      )}
      {files.length > 0 && (
        <ul className="attachments" aria-label="Attached files">
          {files.map((f) => (
            <li key={f.id} className={`attachment ${f.status}`}>
              <span className="attachment-name">{f.name}</span>
              <span className="muted small">
                {f.status === "uploading" ? "Uploading…" : f.status === "failed" ? f.error : sizeText(f.size)}
              </span>
              <button
                type="button"
                className="link"
                aria-label={`Remove ${f.name}`}
                onClick={() => setFiles((list) => list.filter((x) => x.id !== f.id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          accept={[...UPLOADS.imageTypes, ...UPLOADS.fileTypes].join(",")}
          aria-label="Choose files to attach"
          onChange={(e) => {
            attach([...(e.target.files ?? [])]);
            e.target.value = "";
          }}
        />
        <button type="button" className="icon-button attach" aria-label="Attach files" title={LIMITS_HINT} onClick={() => picker.current?.click()}>
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path
              d="M16.5 6.5l-8 8a2 2 0 002.8 2.8l8-8a4 4 0 00-5.6-5.6l-8 8a6 6 0 008.5 8.5l7-7"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.8"
              strokeLinecap="round"
            />
          </svg>
        </button>
        <label htmlFor="composer" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer"
          ref={box}
          value={text}
          rows={1}
          placeholder="Message your agent"
          onChange={(e) => {
            change(e.target.value);
            // The first character (not focus, not a restored draft) wakes a sleeping agent.
            if (e.target.value) chat.wakeForTyping();
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          aria-invalid={limit ? true : undefined}
          aria-describedby={shown ? "composer-error composer-hint" : "composer-hint"}
          enterKeyHint="send"
        />
        <button
          type="submit"
          className="primary send"
          disabled={(!text.trim() && !ready.length) || !!limit || uploading}
          aria-label="Send message"
        >
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path d="M4 12l16-8-6 16-2-6-8-2z" fill="currentColor" />
          </svg>
        </button>
      </div>
      <p id="composer-hint" className="composer-hint muted small">
        <span className="hint-keys">Enter to send · Shift+Enter for a new line</span>
        <span className="attach-limits"> · {LIMITS_HINT}</span>
        {count !== null && (
          <span className={limit ? "over" : undefined}>
            {" "}
            {count.toLocaleString("en-US")} / {MAX_TEXT_CHARS.toLocaleString("en-US")}
          </span>
        )}
      </p>
    </form>
  );
}
