import { describe, expect, it } from "vitest";
import { settingsChanges } from "./SettingsPage";

const saved = { provider: "anthropic", model: "claude-sonnet", baseUrl: "", idle: "15", browser: false };

describe("the browser switch in the settings", () => {
  it("sends only the browser when only it changed, both ways", () => {
    expect(settingsChanges(saved, { ...saved, browser: true })).toEqual({ browser: true });
    expect(settingsChanges({ ...saved, browser: true }, saved)).toEqual({ browser: false });
  });

  it("sends nothing for the browser when it did not change", () => {
    expect(settingsChanges(saved, { ...saved, idle: "30" })).toEqual({ idleTimeoutMinutes: 30 });
  });
});
