# ruff: noqa: E501 - one entry per line, as OpenClaw words each description
"""The skills the pinned OpenClaw ships (bundled, its custodian's and its plugins'), by name.

An owner's skill may not take one of these names: OpenClaw would load the built-in one instead
(our skills load from an extra folder, below the bundled ones). Checked against the pinned
OpenClaw's own `openclaw skills list --json` by tests/bridge/test_skills_live.py.
"""

from __future__ import annotations

from typing import Final

BUILT_IN_SKILLS: Final[dict[str, str]] = {
    "1password": "Set up and use 1Password CLI for sign-in, desktop integration, and reading or injecting secrets.",
    "add-model-provider": "Add and live-prove a model provider with non-interactive config one-liners, without exposing credentials.",
    "apple-notes": "Create, view, edit, delete, search, move, or export Apple Notes via the memo CLI on macOS.",
    "apple-reminders": "List, add, edit, complete, or delete Apple Reminders and reminder lists via remindctl.",
    "bear-notes": "Create, search, and manage Bear notes via grizzly CLI.",
    "blogwatcher": "Monitor blogs and RSS/Atom feeds for updates using the blogwatcher CLI.",
    "blucli": "BluOS CLI (blu) for discovery, playback, grouping, and volume.",
    "browser-automation": "Use when controlling web pages with the OpenClaw browser tool, especially multi-step flows, login checks, tab management, or recovery from stale refs/timeouts.",
    "camsnap": "Capture frames or clips from RTSP/ONVIF cameras and local webcams, including USB pan/tilt/zoom control.",
    "canvas": "Present hosted widget documents on a connected macOS panel and control panel visibility or navigation.",
    "clawhub": "Search ClawHub for skills when a requested capability is not already available; install, verify, update, uninstall, publish, or sync skills.",
    "cloud-image-bake": "Bake, select, prove, and safely retire a Cloud Worker image with crabbox and config one-liners.",
    "coding-agent": "Delegate coding work to Codex, Claude Code, or OpenCode as background workers; not simple edits or read-only code lookup.",
    "configure-channel": "Configure and prove a chat channel with non-interactive one-liners; secrets only as SecretRefs.",
    "control-ui": "Operate and troubleshoot the OpenClaw Control UI: navigate connected clients, organize sessions, build session dashboards, and handle direct or Tailscale-hosted Gateways.",
    "diagnose-gateway": "Diagnose Gateway, config, secrets, channels, and port failures with read-only one-liners.",
    "diagram-maker": "Create SVG/HTML or Excalidraw diagrams for concepts, architecture, flows, and whiteboards.",
    "eightctl": "Control Eight Sleep pods (status, temperature, alarms, schedules).",
    "gemini": "Gemini CLI one-shot prompts, summaries, generation, skills, hooks, MCP, or Gemma routing.",
    "gh-issues": "Fetch GitHub issues, select candidates, spawn background fix agents, open PRs, and optionally process PR review comments.",
    "gifgrep": "Search GIF providers with CLI/TUI, download results, and extract stills/sheets.",
    "github": "GitHub CLI for issues, PRs, CI/check logs, comments, reviews, releases, repos, and gh api queries.",
    "gog": "Google Workspace CLI for Gmail, Calendar, Drive, Contacts, Sheets, and Docs.",
    "goplaces": "Query Google Places for text search, place details, resolve, reviews, or scriptable JSON via goplaces.",
    "healthcheck": "Audit/harden OpenClaw hosts: SSH, firewall, updates, exposure, backups, disk encryption, gateway security.",
    "himalaya": "Himalaya CLI for IMAP/SMTP mail: list, read, search, compose, reply, forward, copy, move, delete.",
    "mcporter": "List, configure, authenticate, call, and inspect MCP servers/tools with mcporter over HTTP or stdio.",
    "meme-maker": "Search meme templates, suggest formats, and generate local or hosted image memes.",
    "model-usage": "Summarize CodexBar local cost logs by model for Codex or Claude, including current or full breakdowns.",
    "nano-pdf": "Edit PDFs with natural-language instructions using the nano-pdf CLI.",
    "node-connect": "Diagnose OpenClaw Control UI browser and native Android, iOS, or macOS node connection failures across route, auth, pairing, QR/setup-code, and reconnect states.",
    "node-inspect-debugger": "Debug Node.js with node inspect, --inspect, breakpoints, CDP, heap, and CPU profiles.",
    "notion": "Notion CLI/API for pages, Markdown content, data sources, files, comments, search, Workers, and raw API calls.",
    "obsidian": "Work with Obsidian vaults using the official obsidian CLI: read/search/create/edit notes, tasks, links, properties, plugins.",
    "openai-whisper": "Local speech-to-text with the Whisper CLI (no API key).",
    "openai-whisper-api": "OpenAI Audio Transcriptions API via curl; gpt-4o-transcribe, mini, diarize, or whisper-1.",
    "openhue": "Control Philips Hue lights and scenes via the OpenHue CLI.",
    "oracle": "Oracle CLI second-model review/debug/refactor/design with selected files, dry-run token checks, API or browser engine.",
    "ordercli": "Foodora-only CLI for checking past orders and active order status (Deliveroo WIP).",
    "peekaboo": "Capture and automate macOS UI with the Peekaboo CLI.",
    "python-debugpy": "Debug Python with pdb, breakpoint(), post-mortem inspection, and debugpy remote attach.",
    "sag": "ElevenLabs text-to-speech with mac-style say UX.",
    "sherpa-onnx-tts": "Local text-to-speech via sherpa-onnx (offline, no cloud)",
    "skill-creator": "Author or review AgentSkills: create, repair, validate, or restructure SKILL.md files and bundled resources.",
    "songsee": "Generate spectrograms and feature-panel visualizations from audio with the songsee CLI.",
    "sonoscli": "Control Sonos speakers (discover/status/play/volume/group).",
    "spike": "Run throwaway prototypes to validate feasibility, compare approaches, and report a verdict.",
    "spotify-player": "Terminal Spotify playback/search via spogo (preferred) or spotify_player.",
    "summarize": "Summarize or transcribe URLs, YouTube/videos, podcasts, articles, transcripts, PDFs, and local files.",
    "taskflow": "Run resumable approval workflows and coordinated subagent recipes with TaskFlow, Swarm, and optional Workboard claims.",
    "taskflow-inbox-triage": "Preview synthetic inbox routing with a real TaskFlow approval pause, and identify the adapters needed for live triage.",
    "things-mac": "Add, update, list, search, or inspect Things 3 todos, inbox, today, projects, areas, and tags on macOS.",
    "tmux": "Control tmux sessions/panes for interactive CLIs: list, capture output, send keys, paste text, monitor prompts.",
    "trello": "Manage Trello boards, lists, and cards via the Trello REST API.",
    "visualize": "Create inline visuals for code and explanations, or author persistent OpenClaw dashboard widgets with show_widget.",
    "weather": "Current weather and forecasts with web_fetch, falling back to wttr.in curl for locations, rain, temperature, travel planning.",
    "xurl": "xurl CLI for authenticated X posts, replies, reads/search, DMs, media upload, followers, auth status, or raw v2 API calls.",
}
"""Name -> description, as `openclaw skills list --json` reports them (openclaw@2026.9.6)."""
