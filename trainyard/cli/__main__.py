"""`python -m trainyard.cli` is the `trainyard` command."""

from trainyard.cli.main import main

main()
