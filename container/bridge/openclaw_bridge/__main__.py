"""`python -m openclaw_bridge`: the container's entrypoint runs this."""

import sys

from openclaw_bridge.app import main

sys.exit(main())
