"""`python -m openclaw_deploy` runs the CLI."""

from openclaw_deploy.cli.app import main

main()
