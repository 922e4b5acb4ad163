"""Run the doctests of every module of the installed package (examples in docstrings must hold)."""

import doctest
import importlib
import pkgutil

import pytest

import feedback_gym

OPTIONAL = ("torch", "transformers", "trl", "docker", "ray", "matplotlib", "datasets")


SUBPACKAGES = ("envs", "agents", "sandboxes", "benchmarks")  # mapped from top-level folders


def _modules() -> list[str]:
    names = ["feedback_gym"]
    for info in pkgutil.walk_packages(feedback_gym.__path__, "feedback_gym."):
        names.append(info.name)
    for sub in SUBPACKAGES:
        package = importlib.import_module(f"feedback_gym.{sub}")
        names.append(package.__name__)
        names.extend(i.name for i in pkgutil.walk_packages(package.__path__, f"{package.__name__}."))
    return sorted(set(names))


@pytest.mark.parametrize("module_name", _modules())
def test_doctests(module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:  # an optional extra that is not installed
        if err.name and err.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"{module_name} needs {err.name}")
        raise
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {module_name}"
