"""Shipped prompt sets (text files, one prompt a line, `#` comments): `load_prompt_set(name_or_path)`.

- `objects`: 12 everyday objects and animals, same wording ("a photo of a ...");
- `faces`: 8 portraits differing in one attribute at a time;
- `styles`: one subject in 8 artistic styles.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from sandbox.errors import UserError

PROMPT_SETS = ("objects", "faces", "styles")


def parse_prompts(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def load_prompt_set(name: str) -> list[str]:
    """A shipped set by name, or a text file of prompts (one a line)."""
    if name in PROMPT_SETS:
        text = resources.files("tdl.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    else:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"no prompt set {name!r}: choose one of {', '.join(PROMPT_SETS)} or give a text "
                            f"file with one prompt a line")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"cannot read prompt file {path}: {e}") from None
    prompts = parse_prompts(text)
    if not prompts:
        raise UserError(f"prompt set {name!r} has no prompts")
    return prompts
