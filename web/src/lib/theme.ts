/** Light, dark or the system's choice; applied as data-theme on <html> before the first paint. */
import { localKeyValue } from "./persist";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "openclaw:theme";
const kv = localKeyValue();

export function loadTheme(): ThemeChoice {
  const saved = kv.get(KEY);
  return saved === "light" || saved === "dark" ? saved : "system";
}

export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === "system") delete root.dataset.theme;
  else root.dataset.theme = choice;
}

export function saveTheme(choice: ThemeChoice): void {
  if (choice === "system") kv.remove(KEY);
  else kv.set(KEY, choice);
  applyTheme(choice);
}
