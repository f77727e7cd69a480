"""openclaw-deploy: a personal OpenClaw agent in your own AWS account, started on demand."""

__version__ = "0.1.0"
