"""Stand-ins for the third-party HTTP services we call (LLM providers, Telegram): real HTTP servers
on 127.0.0.1 that record what they were asked and answer what a test tells them to."""
