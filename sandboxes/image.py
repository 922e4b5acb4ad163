"""Build the ``docker`` backend's image from this machine's own files (no registry is reachable).

Choice and why: the image is a ``FROM scratch`` root filesystem made of exactly the files that Debian's
package database (``dpkg``) lists for Python 3.11, gcc/g++ (and clang when installed) and everything
they depend on, copied from this machine and imported with ``docker import``. Compared with a
debootstrap rootfs it needs no mirror and no network, takes seconds, and runs the very same interpreter
and compiler as the ``local`` backend, so both backends give the same results; compared with
hand-picking ``ldd`` libraries it cannot miss a file (``cc1``, headers, ``as``/``ld``, the stdlib),
because the package lists are complete.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

from feedback_gym.sandboxes.config import DEFAULT_IMAGE

#: What the image must contain; dependencies are added from dpkg's database.
SEED_PACKAGES = (
    "dash",
    "coreutils",
    "python3.11-minimal",
    "libpython3.11-stdlib",
    "gcc",
    "gcc-12",
    "g++",
    "g++-12",
    "libc6-dev",
)
#: Toolchains the image carries when this machine has them installed (``.ci/setup`` installs clang);
#: a missing one is named in the build summary, and an env that asks for it fails at ``reset``.
OPTIONAL_PACKAGES = ("clang", "clang-14")
#: Packages never needed to run or compile a program (and that drag in a lot).
SKIP_PACKAGES = frozenset({"debconf", "dpkg", "perl-base", "tzdata", "readline-common", "install-info"})
#: The uid programs run as inside containers.
SANDBOX_UID = 65534


def installed_packages() -> dict[str, list[list[str]]]:
    """Installed package -> its dependencies (each a list of alternatives), from ``dpkg-query``."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Depends}, ${Pre-Depends}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    packages: dict[str, list[list[str]]] = {}
    for line in out.splitlines():
        name, status, depends = (line.split("\t") + ["", ""])[:3]
        if not status.startswith("ii"):
            continue
        groups = []
        for group in depends.split(","):
            alternatives = [alt.split("(")[0].strip().split(":")[0] for alt in group.split("|")]
            alternatives = [a for a in alternatives if a]
            if alternatives:
                groups.append(alternatives)
        packages[name] = groups
    return packages


def package_closure(seeds: Iterable[str]) -> list[str]:
    """The seed packages and everything they depend on (first installed alternative of each)."""
    packages = installed_packages()
    todo, seen = list(seeds), set()
    while todo:
        name = todo.pop()
        if name in seen or name in SKIP_PACKAGES or name not in packages:
            continue
        seen.add(name)
        for alternatives in packages[name]:
            installed = [alt for alt in alternatives if alt in packages]
            if installed:
                todo.append(installed[0])
    return sorted(seen)


def package_files(packages: Iterable[str]) -> list[str]:
    """Every file and symlink dpkg lists for the packages (directories are created as needed)."""
    out = subprocess.run(["dpkg", "-L", *packages], check=True, capture_output=True, text=True).stdout
    return sorted({line for line in out.splitlines() if line.startswith("/")})


def _canonical(path: str) -> str:
    """Map pre-usrmerge paths (/lib/x, /bin/y) to where they really live (/usr/lib/x, ...)."""
    parent = os.path.realpath(os.path.dirname(path))
    return os.path.join(parent, os.path.basename(path))


def write_rootfs(tar_path: Path, paths: Iterable[str]) -> int:
    """Write the image's root filesystem as a tar; returns the number of entries."""
    count = 0
    with tarfile.open(tar_path, "w") as tar:

        def add_dir(name: str, mode: int = 0o755, uid: int = 0) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, mode, uid, uid
            tar.addfile(info)

        def add_text(name: str, text: str, mode: int = 0o644) -> None:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        seen: set[str] = set()
        base_dirs = ("usr", "usr/bin", "usr/lib", "usr/lib64", "usr/sbin", "etc", "tmp", "opt", "dev", "proc")
        for name in base_dirs:
            add_dir(name, 0o1777 if name == "tmp" else 0o755)
        for link in ("bin", "lib", "lib64", "sbin"):
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, f"usr/{link}"
            tar.addfile(info)
        add_dir("work", 0o755)
        passwd = f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{SANDBOX_UID}:{SANDBOX_UID}::/work:/bin/sh\n"
        add_text("etc/passwd", passwd)
        add_text("etc/group", f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\n")
        seen.update({*base_dirs, "bin", "lib", "lib64", "sbin", "work", "etc/passwd", "etc/group"})
        for path in [*map(_canonical, paths), "/etc/ld.so.cache"]:
            name = path.lstrip("/")
            is_dir = os.path.isdir(path) and not os.path.islink(path)
            if name in seen or is_dir or not os.path.lexists(path):
                continue
            parts = name.split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if parent not in seen:
                    seen.add(parent)
                    add_dir(parent)
            seen.add(name)
            tar.add(path, arcname=name, recursive=False)
            count += 1
    return count


def import_rootfs(tar_path: Path, tag: str, changes: list[str], base_url: str | None = None) -> None:
    """Import a root filesystem tar as image ``tag`` (``docker import``) with Dockerfile ``changes``."""
    try:
        import docker
    except ImportError:
        from feedback_gym.errors import missing_dependency

        raise missing_dependency("docker", "docker") from None
    client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
    try:
        repository, _, version = tag.partition(":")
        client.api.import_image(src=str(tar_path), repository=repository, tag=version or "latest",
                                changes=changes)
        client.images.get(tag)
    finally:
        client.close()


def build_image(tag: str = DEFAULT_IMAGE, base_url: str | None = None) -> str:
    """Build (import) the sandbox image; returns a one-line summary."""
    packages = package_closure([*SEED_PACKAGES, *OPTIONAL_PACKAGES])  # only installed ones are found
    files = package_files(packages)
    missing = [name for name in OPTIONAL_PACKAGES if name not in packages]
    with tempfile.TemporaryDirectory(prefix="feedback-gym-image-") as tmp:
        tar_path = Path(tmp) / "rootfs.tar"
        count = write_rootfs(tar_path, files)
        size_mb = tar_path.stat().st_size / 2**20
        import_rootfs(tar_path, tag, [
            f"USER {SANDBOX_UID}:{SANDBOX_UID}",
            "WORKDIR /work",
            "ENV PATH=/usr/bin:/bin",
            "ENV LANG=C.UTF-8",
            'CMD ["/usr/bin/python3.11", "-I", "-S", "-c", "pass"]',
        ], base_url)
    summary = f"built {tag}: {len(packages)} packages, {count} files, {size_mb:.0f} MiB"
    if missing:
        summary += f"; without {', '.join(missing)} (not installed on this machine)"
    return summary
