"""Where the bundled resources (digits, example configs, stylesheet) live.

In a source checkout (``make run``, ``pip install -e .``) they are the repository's
``resources/`` folder; an installed copy (``pipx install .``) finds them under
``<prefix>/share/workbench/resources``, where pyproject.toml's data-files put them.
"""
from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """Return the folder holding the bundled resources."""
    here = Path(__file__).resolve().parents[1] / "resources"
    if here.is_dir():
        return here
    for prefix in (sys.prefix, sys.base_prefix):
        p = Path(prefix) / "share" / "workbench" / "resources"
        if p.is_dir():
            return p
    return here


RESOURCES = resources_dir()
