/** Small helpers over localStorage that never throw (private mode, quota, disabled storage). */

export interface KeyValue {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
  keys(): string[];
}

export function localKeyValue(storage: Storage | null = safeLocalStorage()): KeyValue {
  return {
    get(key) {
      try {
        return storage?.getItem(key) ?? null;
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        storage?.setItem(key, value);
      } catch {
        // quota exceeded or storage blocked: the value lives as long as the page
      }
    },
    remove(key) {
      try {
        storage?.removeItem(key);
      } catch {
        // ignore
      }
    },
    keys() {
      try {
        return storage ? Array.from({ length: storage.length }, (_, i) => storage.key(i) ?? "") : [];
      } catch {
        return [];
      }
    },
  };
}

export function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

/** Unsent text per conversation, so a reload, a crash or an expired session loses nothing. */
export class Drafts {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly latest = new Map<string, string>();

  constructor(
    private readonly kv: KeyValue,
    private readonly prefix: string,
    private readonly delayMs = 300,
  ) {}

  get(session: string): string {
    return this.latest.get(session) ?? this.kv.get(this.key(session)) ?? "";
  }

  /** Remember text; written to storage after a short pause (a 100 KB paste should not stall typing). */
  set(session: string, text: string): void {
    this.latest.set(session, text);
    const pending = this.timers.get(session);
    if (pending) clearTimeout(pending);
    this.timers.set(
      session,
      setTimeout(() => this.write(session), this.delayMs),
    );
  }

  /** Forget every draft (explicit sign-out: nothing of the session stays on a shared computer). */
  clearAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.latest.clear();
    for (const key of this.kv.keys()) if (key.startsWith(`${this.prefix}draft:`)) this.kv.remove(key);
  }

  /** Write everything now (page hidden or about to unload). */
  flush(): void {
    for (const session of [...this.timers.keys()]) this.write(session);
  }

  private write(session: string): void {
    const pending = this.timers.get(session);
    if (pending) clearTimeout(pending);
    this.timers.delete(session);
    const text = this.latest.get(session) ?? "";
    if (text) this.kv.set(this.key(session), text);
    else this.kv.remove(this.key(session));
  }

  private key(session: string): string {
    return `${this.prefix}draft:${session}`;
  }
}
