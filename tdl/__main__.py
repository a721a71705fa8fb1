"""`python -m tdl`: the same as the `tdl` command."""
import sys

from tdl.cli import main

sys.exit(main())
