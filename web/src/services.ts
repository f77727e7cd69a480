/**
 * Everything the screens talk to, built once from config.json: the auth service, the HTTP API
 * and (while signed in) the chat controller with its WebSocket client.
 */
import { createContext, useContext } from "react";
import { Api } from "./api/http";
import { CognitoClient } from "./auth/cognito";
import { AuthService } from "./auth/session";
import type { RuntimeConfig } from "./config";
import { Drafts, localKeyValue, type KeyValue } from "./lib/persist";
import { ChatClient, type SocketLike } from "./protocol/client";
import { ChatController, outboxKey } from "./state/chat";

export interface Services {
  config: RuntimeConfig;
  auth: AuthService;
  api: Api;
  drafts: Drafts;
  kv: KeyValue;
  prefix: string;
  /** Sign out on purpose: also forgets drafts and unsent messages (an expired session keeps them). */
  signOut(options?: { everywhere?: boolean }): Promise<void>;
  /** Tests hand in a fake socket; the app uses the browser's WebSocket. */
  createSocket?: (url: string) => SocketLike;
}

export function createServices(config: RuntimeConfig, kv: KeyValue = localKeyValue()): Services {
  const prefix = `openclaw:${config.deployment}:`;
  const cognito = new CognitoClient(config.cognito.endpoint, config.cognito.clientId);
  const auth = new AuthService(cognito, kv, config.deployment);
  const api = new Api(config.apiUrl, auth);
  const drafts = new Drafts(kv, prefix);
  const signOut = (options?: { everywhere?: boolean }) => {
    drafts.clearAll();
    kv.remove(outboxKey(prefix));
    return auth.signOut(options);
  };
  return { config, auth, api, drafts, kv, prefix, signOut };
}

export function createChat(services: Services): ChatController {
  const client = new ChatClient({
    getTicket: () => services.api.wsTicket(),
    wsUrl: services.config.wsUrl,
    ...(services.createSocket ? { createSocket: services.createSocket } : {}),
  });
  return new ChatController(services.api, client, services.kv, services.prefix);
}

export const ServicesContext = createContext<Services | null>(null);
export const ChatContext = createContext<ChatController | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("ServicesContext is missing");
  return services;
}

export function useChat(): ChatController {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error("ChatContext is missing");
  return chat;
}
