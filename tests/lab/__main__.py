"""`python -m tests.lab`: see tests/lab/cli.py."""

import sys

from .cli import main

sys.exit(main())
