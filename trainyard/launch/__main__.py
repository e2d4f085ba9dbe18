"""`python -m trainyard.launch ... -- <entrypoint>`; see `trainyard.launch._main`."""

import sys

from trainyard.launch._main import main

sys.exit(main())
