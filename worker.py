"""The Procfile's worker: `python worker.py` runs the vote worker loop (core/services/worker.py).

Configured by the environment; `python worker.py --help` lists it.
"""

import sys

from core.services.worker import main

if __name__ == "__main__":
    sys.exit(main())
