import { describe, expect, it } from "vitest";
import contract from "../generated/contract.json";
import { PHASE_LABELS } from "../components/AgentBanner";
import {
  CLIENT_TYPES,
  MAX_TEXT_CHARS,
  SERVER_TYPES,
  checkText,
  codePointLength,
  newId,
  parseServerFrame,
  toEpochMs,
} from "./contract";

describe("the generated contract", () => {
  it("names exactly the frame types this client sends and handles", () => {
    // Fails when the Python contract adds, renames or drops a frame type: handle it here first.
    expect([...CLIENT_TYPES]).toEqual(contract.clientTypes);
    expect([...SERVER_TYPES]).toEqual(contract.serverTypes);
  });

  it("has a label for every phase the agent reports", () => {
    for (const phase of contract.phases) expect(PHASE_LABELS[phase], phase).toBeTruthy();
  });

  it("gives the limits the client enforces", () => {
    expect(MAX_TEXT_CHARS).toBe(contract.maxTextChars);
    expect(contract.version).toBe(1);
  });
});

describe("parseServerFrame", () => {
  it("reads each server frame type", () => {
    expect(parseServerFrame('{"type":"ack","id":"m1"}')).toEqual({ type: "ack", id: "m1" });
    expect(parseServerFrame('{"type":"chat.delta","id":"m1","session":"s","seq":2,"text":"hi"}')).toEqual({
      type: "chat.delta",
      id: "m1",
      session: "s",
      seq: 2,
      text: "hi",
    });
    expect(parseServerFrame('{"type":"chat.final","id":"m1","session":"s","text":"","chunked":true}')).toMatchObject({
      chunked: true,
    });
    expect(parseServerFrame('{"type":"agent.status","state":"Starting","phase":"restoring","since":1764140000.5}')).toEqual({
      type: "agent.status",
      state: "Starting",
      phase: "restoring",
      since: 1764140000500,
    });
    expect(parseServerFrame('{"type":"error","id":"m1","code":"too_long","message":"no"}')).toEqual({
      type: "error",
      id: "m1",
      code: "too_long",
      message: "no",
    });
  });

  it("ignores what does not follow the contract", () => {
    for (const raw of [
      "not json",
      "[1,2]",
      "null",
      '{"type":"surprise","id":"x"}',
      '{"type":"ack"}',
      '{"type":"agent.status","state":"Dancing"}',
      '{"type":"chat.delta","id":"m","session":"s","text":"x"}',
      '{"message":"Internal server error","connectionId":"abc"}',
    ]) {
      expect(parseServerFrame(raw), raw).toBeNull();
    }
    expect(parseServerFrame(42)).toBeNull();
  });
});

describe("checkText", () => {
  it("accepts text up to the limit and refuses one character more", () => {
    expect(checkText("a".repeat(MAX_TEXT_CHARS))).toEqual({ ok: true, chars: MAX_TEXT_CHARS });
    expect(checkText("a".repeat(MAX_TEXT_CHARS + 1))).toMatchObject({ ok: false, reason: "too_long", chars: MAX_TEXT_CHARS + 1 });
  });

  it("counts characters as the server does (an emoji is one, not two)", () => {
    const emoji = "😀".repeat(MAX_TEXT_CHARS / 8);
    expect(emoji.length).toBe(MAX_TEXT_CHARS / 4);
    expect(codePointLength(emoji)).toBe(MAX_TEXT_CHARS / 8);
    expect(codePointLength("a\ud800b")).toBe(3); // a lone surrogate still counts once
  });

  it("refuses text whose frame would pass API Gateway's 32 KB frame limit", () => {
    const cjk = "漢".repeat(20_000); // 20,000 characters but 60 KB of UTF-8
    expect(checkText(cjk)).toMatchObject({ ok: false, reason: "too_big" });
  });

  it("refuses blank text", () => {
    expect(checkText("  \n ")).toEqual({ ok: false, reason: "empty", chars: 0 });
  });
});

describe("ids and times", () => {
  it("makes ids that match the contract's pattern", () => {
    const pattern = new RegExp(contract.idPattern);
    for (let i = 0; i < 20; i++) expect(newId("web-")).toMatch(pattern);
  });

  it("reads seconds, milliseconds and ISO strings as epoch ms", () => {
    expect(toEpochMs(1_764_140_000)).toBe(1_764_140_000_000);
    expect(toEpochMs(1_764_140_000_000)).toBe(1_764_140_000_000);
    expect(toEpochMs("2025-11-26T06:53:20Z")).toBe(Date.parse("2025-11-26T06:53:20Z"));
    expect(toEpochMs(null)).toBeNull();
    expect(toEpochMs(0)).toBeNull(); // the server's "never"
    expect(toEpochMs("soon")).toBeNull();
  });
});
