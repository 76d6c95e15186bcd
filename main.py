#!/usr/bin/env python3
"""Launch the workbench: ``python main.py [COMMAND] ...`` (see ``--help``)."""
import sys

from workbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
