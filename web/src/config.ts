/**
 * The runtime configuration: `config.json` next to index.html, written at deploy time, so one
 * build serves every deployment. Shape documented in web/README.md.
 */

export interface RuntimeConfig {
  apiUrl: string;
  wsUrl: string;
  region: string;
  cognito: { endpoint: string; userPoolId: string; clientId: string };
  deployment: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function text(data: Record<string, unknown>, key: string, where = ""): string {
  const value = data[key];
  if (typeof value !== "string" || !value.trim()) {
    throw new ConfigError(`config.json: "${where}${key}" must be a non-empty string.`);
  }
  return value.trim();
}

function url(value: string, key: string, schemes: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`config.json: "${key}" is not a URL: ${value}`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new ConfigError(`config.json: "${key}" must start with ${schemes.map((s) => `${s}//`).join(" or ")}.`);
  }
  return value;
}

export function parseConfig(data: unknown): RuntimeConfig {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError("config.json must hold a JSON object.");
  }
  const root = data as Record<string, unknown>;
  const region = text(root, "region");
  const cognitoRaw = root.cognito;
  if (typeof cognitoRaw !== "object" || cognitoRaw === null) {
    throw new ConfigError('config.json: "cognito" must be an object with userPoolId and clientId.');
  }
  const cognito = cognitoRaw as Record<string, unknown>;
  const endpoint =
    typeof cognito.endpoint === "string" && cognito.endpoint.trim()
      ? url(cognito.endpoint.trim(), "cognito.endpoint", ["https:", "http:"])
      : `https://cognito-idp.${region}.amazonaws.com/`;
  return {
    apiUrl: url(text(root, "apiUrl"), "apiUrl", ["https:", "http:"]).replace(/\/+$/, ""),
    wsUrl: url(text(root, "wsUrl"), "wsUrl", ["wss:", "ws:"]),
    region,
    cognito: {
      endpoint,
      userPoolId: text(cognito, "userPoolId", "cognito."),
      clientId: text(cognito, "clientId", "cognito."),
    },
    deployment: typeof root.deployment === "string" && root.deployment.trim() ? root.deployment.trim() : "default",
  };
}

export async function loadConfig(base: string = document.baseURI, fetchImpl: typeof fetch = (i, o) => fetch(i, o)): Promise<RuntimeConfig> {
  let response: Response;
  try {
    response = await fetchImpl(new URL("config.json", base).toString(), { cache: "no-store" });
  } catch {
    throw new ConfigError("config.json could not be loaded: the network failed. Reload to try again.");
  }
  if (!response.ok) {
    throw new ConfigError(
      `config.json could not be loaded (HTTP ${response.status}). The deployment writes it next to index.html; run the deploy again.`,
    );
  }
  let data: unknown;
  try {
    data = await response.json();
  } catch {
    throw new ConfigError("config.json is not valid JSON.");
  }
  return parseConfig(data);
}
