"""The command line `diffusion-sandbox`: `parser.py` (arguments, errors, exit codes) and
`commands.py` (what train / sample / render / window do)."""
from sandbox.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
