"""The layers stay in order: environments (and the sandboxes they use) never import the agents.

The policy protocol lives in the core (:mod:`feedback_gym.policy`) so a multi-agent seat or a model
critic can hold a policy without the environment depending on the agents package. This test reads
the source of every module of the lower layers and fails on any import of ``feedback_gym.agents``,
at module level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import feedback_gym.envs
import feedback_gym.sandboxes

FORBIDDEN = "feedback_gym.agents"


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """Every module ``path`` imports (absolute names; relative imports resolved against ``package``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _modules(root_package: object) -> list[tuple[Path, str]]:
    root = Path(root_package.__file__).parent  # type: ignore[attr-defined]
    name = root_package.__name__  # type: ignore[attr-defined]
    result = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = [name, *relative.parts]
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
        result.append((path, package.removesuffix(".__init__")))
    return result


LOWER_LAYERS = [*_modules(feedback_gym.envs), *_modules(feedback_gym.sandboxes)]


def test_the_scan_sees_every_family_and_would_catch_an_import(tmp_path: Path) -> None:
    families = {path.relative_to(Path(feedback_gym.envs.__file__).parent).parts[0] for path, _ in LOWER_LAYERS
                if path.is_relative_to(Path(feedback_gym.envs.__file__).parent)}
    assert {"code", "math", "tools", "retry", "multiagent", "countdown.py"} <= families
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from feedback_gym.agents.policy import make_policy\n", encoding="utf-8")
    assert any(m.startswith(FORBIDDEN) for _, m in imported_modules(bad, "feedback_gym.envs.x"))
    relative = tmp_path / "rel.py"
    relative.write_text("from ...agents import policy\n", encoding="utf-8")
    assert any(m.startswith(FORBIDDEN) for _, m in imported_modules(relative, "feedback_gym.envs.multiagent"))


@pytest.mark.parametrize(("path", "package"), LOWER_LAYERS, ids=[f"{p}.{f.stem}" for f, p in LOWER_LAYERS])
def test_no_environment_or_sandbox_module_imports_the_agents(path: Path, package: str) -> None:
    offending = [f"line {line}: {module}" for line, module in imported_modules(path, package)
                 if module == FORBIDDEN or module.startswith(FORBIDDEN + ".")]
    assert not offending, f"{path} imports the agents ({offending}); use feedback_gym.policy instead"
