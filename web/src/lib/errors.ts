/** Errors shared by the API client, the WebSocket client and the auth service. */

/** The user's session is gone (refresh refused): only signing in again helps. */
export class SessionExpiredError extends Error {
  constructor(message = "Your session has expired.") {
    super(message);
    this.name = "SessionExpiredError";
  }
}
