"""The built wheel is a complete product: installed into a fresh virtual environment, away from the source
checkout, it creates its database, seeds the demo and serves the home page.

The fresh environment borrows the test environment's third-party dependencies through a ``.pth`` line (so
the test needs no network), but not GreenMatch itself: the editable install's finder is a ``.pth`` *file*
inside that folder, and ``.pth`` files in a folder added by a ``.pth`` line are not processed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the checkout's files (tracked or not ignored), so neither a stale ``build/``
    folder nor the tests' own output can slip into the wheel, and the checkout stays clean."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"
    files = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(out)], cwd=out)
    (built,) = out.glob("greenmatch-*.whl")
    return built


def test_the_wheel_carries_the_migrations_and_reference_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "greenmatch/migrations/env.py" in names
    assert "greenmatch/migrations/alembic.ini" in names
    assert "greenmatch/migrations/script.py.mako" in names
    shipped = {n.rsplit("/", 1)[-1] for n in names if n.startswith("greenmatch/migrations/versions/")}
    on_disk = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert on_disk and on_disk <= shipped
    assert "greenmatch/data/green_catalogue.json" in names
    assert "greenmatch/catalog/data/classifier_keywords.json" in names
    assert "greenmatch/catalog/data/demo.json" in names  # the rows of `greenmatch seed demo`
    assert any(n.startswith("greenmatch/translations/zh_CN/LC_MESSAGES/messages.mo") for n in names)


def test_an_installed_wheel_migrates_seeds_and_serves(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    site.mkdir(parents=True, exist_ok=True)
    (site / "test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q",
          str(wheel)], cwd=tmp_path)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GREENMATCH_")}
    env.update(GREENMATCH_DATABASE_URL=f"sqlite:///{tmp_path}/wheel.db",
               GREENMATCH_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH="")
    python = str(venv / "bin" / "python")
    where = _run([python, "-c", "import greenmatch, greenmatch.app as a; print(greenmatch.__file__); "
                  "print(a.MIGRATIONS_DIR)"], cwd=tmp_path, env=env).stdout.split()
    assert all(str(site) in line for line in where), where  # the installed copy, not the checkout
    _run([str(venv / "bin" / "greenmatch"), "db", "upgrade"], cwd=tmp_path, env=env)
    _run([str(venv / "bin" / "greenmatch"), "seed", "demo"], cwd=tmp_path, env=env)
    probe = ("from greenmatch import create_app\n"
             "c = create_app().test_client()\n"
             "r = c.get('/')\n"
             "h = c.get('/healthz')\n"
             "n = c.get('/api/v1/taxonomy/categories?level=1')\n"
             "print(r.status_code, h.get_json()['database'], len(n.get_json()['items']))\n")
    status, database, level1 = _run([python, "-c", probe], cwd=tmp_path, env=env).stdout.split()[-3:]
    assert (status, database) == ("200", "ok")
    assert int(level1) >= 6  # the 2025 catalogue's level-1 categories came with the migrations
