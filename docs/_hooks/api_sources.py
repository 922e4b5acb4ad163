"""MkDocs hook: show mkdocstrings the package as Python imports it.

The repository keeps ``envs/``, ``agents/``, ``sandboxes/`` and ``benchmarks/`` at its top level and
installs them as ``feedback_gym.envs`` and so on (``setup.py``). Griffe, which reads the sources for
the API reference, looks for ``feedback_gym/envs`` on disk and would not find it, so before a build
this hook lays out ``build/docs-api-src/feedback_gym/`` as links to the real files (the folder
mapping is read from ``setup.py``'s ``MAPPED_FOLDERS``, never repeated here).
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "build" / "docs-api-src"


def mapped_folders() -> dict[str, str]:
    """``setup.py``'s folder -> subpackage mapping, read without running ``setup.py``."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "MAPPED_FOLDERS":
            return ast.literal_eval(node.value)
    raise RuntimeError("setup.py no longer defines MAPPED_FOLDERS; update docs/_hooks/api_sources.py")


def on_startup(**kwargs: Any) -> None:
    """Rebuild the linked source tree (cheap: links only)."""
    shutil.rmtree(STAGE, ignore_errors=True)
    package = STAGE / "feedback_gym"
    package.mkdir(parents=True)
    for entry in (ROOT / "feedback_gym").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for folder, subpackage in mapped_folders().items():
        (package / subpackage.removeprefix("feedback_gym.")).symlink_to(ROOT / folder)
