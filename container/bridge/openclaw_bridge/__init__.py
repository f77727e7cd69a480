"""The bridge: runs beside a pinned OpenClaw in the agent container.

It restores the agent's state from S3, renders OpenClaw's config, starts OpenClaw on loopback,
takes messages from the inbound queue one turn per session at a time, streams each reply to the
web UI (`@connections`) and Telegram, and backs the state up again — periodically, when the agent
has been idle long enough, and when the task is told to stop (Spot reclaim or the owner).

`python -m openclaw_bridge` runs it; the container's entrypoint does exactly that.
"""

__version__ = "0.1.0"
