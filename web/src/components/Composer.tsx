/**
 * The message box. Enter sends (Shift+Enter breaks the line; on touch screens Enter always
 * breaks it and the button sends). The text is kept as a draft per conversation, and text over
 * the limit is kept too, with a message saying what to do, never silently cut.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { MAX_TEXT_CHARS, codePointLength } from "../protocol/contract";
import { limitMessage } from "../state/chat";
import { useChat, useServices } from "../services";

const COUNTER_FROM = Math.floor(MAX_TEXT_CHARS * 0.8);
const coarsePointer = () => typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;

export function Composer({ session }: { session: string }) {
  const chat = useChat();
  const { drafts } = useServices();
  const [text, setText] = useState(() => drafts.get(session));
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);

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
    if (limit) return;
    const refused = chat.send(text);
    if (refused) {
      setError(refused);
      return;
    }
    change("");
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
    <form className="composer" onSubmit={submit}>
      {shown && (
        <p className="error composer-error" role="alert" id="composer-error">
          {shown}
        </p>
      )}
      <div className="composer-row">
        <label htmlFor="composer" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer"
          ref={box}
          value={text}
          rows={1}
          placeholder="Message your agent"
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          aria-invalid={limit ? true : undefined}
          aria-describedby={shown ? "composer-error composer-hint" : "composer-hint"}
          enterKeyHint="send"
        />
        <button type="submit" className="primary send" disabled={!text.trim() || !!limit} aria-label="Send message">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path d="M4 12l16-8-6 16-2-6-8-2z" fill="currentColor" />
          </svg>
        </button>
      </div>
      <p id="composer-hint" className="composer-hint muted small">
        <span className="hint-keys">Enter to send · Shift+Enter for a new line</span>
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
