"""Build the environment-server image from this machine's own files (no registry is reachable).

Same method as the sandbox image (:mod:`feedback_gym.sandboxes.image`, whose helpers this reuses):
a ``FROM scratch`` root filesystem made of files on this machine, imported with ``docker import``.
On top of the sandbox image's packages (Python 3.11, gcc/g++) it adds bubblewrap (the ``local``
sandbox the served envs run code in), the installed distributions ``feedback-gym[serve,math]``
needs (found through their requirements, copied file by file from site-packages) and feedback-gym's
own source. Nothing is downloaded; the interpreter is Debian's ``/usr/bin/python3.11``.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import re
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

#: The tag ``feedback-gym serve-image`` builds and ``feedback-gym serve --docker`` runs.
DEFAULT_SERVER_IMAGE = "feedback-gym-server:latest"
#: Where the Python distributions live inside the image (on ``PYTHONPATH``).
SITE = "opt/feedback-gym/site"
#: The Debian packages beyond the sandbox image's: the local sandbox needs bubblewrap.
EXTRA_PACKAGES = ("bubblewrap",)
#: The feedback-gym extras the server image carries.
EXTRAS = ("serve", "math")
#: feedback-gym's subpackages, which may live outside the ``feedback_gym`` folder (editable installs).
SUBPACKAGES = ("envs", "agents", "sandboxes", "benchmarks")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_closure(
    root: str = "feedback-gym", extras: Iterable[str] = EXTRAS
) -> list[metadata.Distribution]:
    """The installed distributions ``root[extras]`` needs, following requirements (and their extras)."""
    from packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(root, tuple(extras))]
    visited: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, wanted = todo.pop()
        if (_key(name), wanted) in visited:
            continue
        visited.add((_key(name), wanted))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement that is not installed here
        found.setdefault(_key(name), dist)
        for line in dist.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({"extra": e}) for e in (*wanted, "")):
                continue
            todo.append((requirement.name, tuple(sorted(requirement.extras))))
    return [dist for key, dist in sorted(found.items()) if key != _key(root)]


def _distribution_files(dist: metadata.Distribution) -> Iterator[tuple[Path, str]]:
    """(file on this machine, path inside the site folder) for each file of ``dist``."""
    for entry in dist.files or []:
        if entry.parts and entry.parts[0] == "..":
            continue  # console scripts and data outside site-packages
        source = Path(str(dist.locate_file(entry)))
        if source.is_file() and "__pycache__" not in entry.parts:
            yield source, str(entry)


def _source_files() -> Iterator[tuple[Path, str]]:
    """feedback-gym's own files, laid out as the installed package (subpackages mapped in)."""
    import feedback_gym

    roots = [(Path(feedback_gym.__path__[0]), "feedback_gym")]
    for name in SUBPACKAGES:
        module = importlib.import_module(f"feedback_gym.{name}")
        roots.append((Path(module.__path__[0]), f"feedback_gym/{name}"))
    seen: set[str] = set()
    for folder, target in roots:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                name = f"{target}/{path.relative_to(folder).as_posix()}"
                if name not in seen:
                    seen.add(name)
                    yield path, name


def add_site(tar_path: Path) -> int:
    """Append the distributions and feedback-gym's source under :data:`SITE`; returns the file count."""
    count = 0
    with tarfile.open(tar_path, "a") as tar:
        dirs: set[str] = set(tar.getnames())  # the root filesystem's entries (opt/, ...)
        files = [item for dist in distribution_closure() for item in _distribution_files(dist)]
        for source, name in [*files, *_source_files()]:
            arcname = f"{SITE}/{name}"
            if arcname in dirs:
                continue  # a file two distributions both list: docker import refuses duplicates
            dirs.add(arcname)
            parts = arcname.split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if parent not in dirs:
                    dirs.add(parent)
                    info = tarfile.TarInfo(parent)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            info = tar.gettarinfo(str(source), arcname)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o755 if info.mode & 0o111 else 0o644
            with open(source, "rb") as handle:
                tar.addfile(info, handle)
            count += 1
    return count


def build_server_image(tag: str = DEFAULT_SERVER_IMAGE, base_url: str | None = None) -> str:
    """Build (import) the server image; returns a one-line summary."""
    from feedback_gym.sandboxes.image import (
        SEED_PACKAGES,
        import_rootfs,
        package_closure,
        package_files,
        write_rootfs,
    )

    packages = package_closure((*SEED_PACKAGES, *EXTRA_PACKAGES))
    with tempfile.TemporaryDirectory(prefix="feedback-gym-server-image-") as tmp:
        tar_path = Path(tmp) / "rootfs.tar"
        system_files = write_rootfs(tar_path, package_files(packages))
        site_files = add_site(tar_path)
        size_mb = tar_path.stat().st_size / 2**20
        import_rootfs(tar_path, tag, [
            "WORKDIR /tmp",
            "ENV PATH=/usr/bin:/bin",
            "ENV LANG=C.UTF-8",
            "ENV HOME=/tmp",
            f"ENV PYTHONPATH=/{SITE}",
            "ENV PYTHONDONTWRITEBYTECODE=1",
            'ENTRYPOINT ["/usr/bin/python3.11", "-m", "feedback_gym.cli"]',
            'CMD ["list"]',
        ], base_url)
    return (
        f"built {tag}: {len(packages)} Debian packages ({system_files} files), "
        f"{site_files} Python files, {size_mb:.0f} MiB"
    )
