"""Map the top-level source folders onto subpackages of ``feedback_gym``.

The repository shows ``envs/``, ``agents/``, ``sandboxes/`` and ``benchmarks/`` at its top level, but
those names belong to other projects on PyPI, so they install as ``feedback_gym.envs`` and so on.
Everything else about the distribution is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

MAPPED_FOLDERS = {
    "envs": "feedback_gym.envs",
    "agents": "feedback_gym.agents",
    "sandboxes": "feedback_gym.sandboxes",
    "benchmarks": "feedback_gym.benchmarks",
}

packages = find_packages(include=["feedback_gym", "feedback_gym.*"])
package_dir = {"feedback_gym": "feedback_gym"}
for folder, package in MAPPED_FOLDERS.items():
    package_dir[package] = folder
    packages.append(package)
    packages.extend(f"{package}.{sub}" for sub in find_packages(folder))

setup(packages=packages, package_dir=package_dir)
