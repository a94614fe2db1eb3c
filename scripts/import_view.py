"""Lay greenmatch out as installed, in a tree of links, for lint-imports (run by ./scripts/test).

import-linter builds its graph with grimp, which finds a package's modules by walking the package's
folder. greenmatch's subpackages live in folders of their own (setup.cfg ``package_dir``:
greenmatch.catalog = catalog/, ...), so a walk of platform/greenmatch/ would miss them and the contracts
would pass without looking. This builds ``DEST/greenmatch/``: a link to every entry of
platform/greenmatch/ and one to each mapped subpackage folder. Then ``PYTHONPATH=DEST lint-imports``.
Rebuilt on every run (a few dozen links), so a new module is never missed.

Usage: python scripts/import_view.py DEST
"""

from __future__ import annotations

import configparser
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dir() -> dict[str, Path]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    mapping = {}
    for line in cfg["options"]["package_dir"].splitlines():
        if "=" in line:
            name, folder = (part.strip() for part in line.split("=", 1))
            mapping[name] = ROOT / folder
    return mapping


def build(dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    mapping = package_dir()
    for name, folder in sorted(mapping.items(), key=lambda item: item[0].count(".")):  # parents first
        target = dest.joinpath(*name.split("."))
        if target.parent != dest and (target.parent.is_symlink() or not target.parent.is_dir()):
            raise SystemExit(f"{name}: its parent package is not laid out as a folder of links")
        if "." not in name:  # the root package: its own entries, so that mapped subpackages can join them
            target.mkdir(parents=True)
            for entry in folder.iterdir():
                if entry.name != "__pycache__":
                    (target / entry.name).symlink_to(entry)
        else:
            if target.exists() or target.is_symlink():
                raise SystemExit(f"{name}: {folder} and {target.resolve()} both claim it")
            target.symlink_to(folder, target_is_directory=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.rsplit("Usage: ", 1)[1])
    build(Path(sys.argv[1]))
