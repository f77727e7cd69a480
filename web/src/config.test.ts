import { describe, expect, it } from "vitest";
import { jsonFetch } from "./test/fakes";
import { ConfigError, loadConfig, parseConfig } from "./config";

const good = {
  apiUrl: "https://api.example.com/",
  wsUrl: "wss://ws.example.com/prod",
  region: "eu-west-1",
  cognito: { userPoolId: "eu-west-1_x", clientId: "c" },
  deployment: "mybot",
};

describe("parseConfig", () => {
  it("reads the documented shape, trims the API URL and defaults the Cognito endpoint", () => {
    expect(parseConfig(good)).toEqual({
      apiUrl: "https://api.example.com",
      wsUrl: "wss://ws.example.com/prod",
      region: "eu-west-1",
      cognito: { endpoint: "https://cognito-idp.eu-west-1.amazonaws.com/", userPoolId: "eu-west-1_x", clientId: "c" },
      deployment: "mybot",
    });
  });

  it("keeps a configured Cognito endpoint (the local target's stand-in)", () => {
    const local = parseConfig({ ...good, cognito: { ...good.cognito, endpoint: "http://127.0.0.1:5000/" } });
    expect(local.cognito.endpoint).toBe("http://127.0.0.1:5000/");
  });

  it("names the field that is wrong", () => {
    expect(() => parseConfig({ ...good, wsUrl: "https://ws.example.com" })).toThrow('"wsUrl" must start with wss:// or ws://');
    expect(() => parseConfig({ ...good, cognito: { userPoolId: "p" } })).toThrow('"cognito.clientId" must be a non-empty string');
    expect(() => parseConfig({ ...good, apiUrl: "not a url" })).toThrow('"apiUrl" is not a URL');
    expect(() => parseConfig([])).toThrow(ConfigError);
  });
});

describe("loadConfig", () => {
  it("fetches config.json next to the page, uncached", async () => {
    const fetch = jsonFetch(() => ({ body: good }));
    await loadConfig("https://chat.example.com/app/index.html", fetch);
    expect(fetch.calls[0]!.url.toString()).toBe("https://chat.example.com/app/config.json");
  });

  it("explains a missing or broken file", async () => {
    await expect(loadConfig("https://x.test/", jsonFetch(() => ({ status: 404, raw: "" })))).rejects.toThrow("HTTP 404");
    await expect(loadConfig("https://x.test/", jsonFetch(() => ({ raw: "{oops" })))).rejects.toThrow("not valid JSON");
    await expect(loadConfig("https://x.test/", jsonFetch(() => "network-error"))).rejects.toThrow("network failed");
  });
});
