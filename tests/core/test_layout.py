"""The package layout installs cleanly and never shadows the standard library."""

import configparser
import os
import platform as stdlib_platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def _listed_packages():
    return {line.strip() for line in _setup_cfg()["options"]["packages"].splitlines() if line.strip()}


def _package_dir():
    mapping = {}
    for line in _setup_cfg()["options"]["package_dir"].splitlines():
        if "=" in line:
            name, folder = (part.strip() for part in line.split("="))
            mapping[name] = folder
    return mapping


def test_every_package_folder_on_disk_is_listed_in_setup_cfg():
    on_disk = set()
    for name, folder in _package_dir().items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            sub = ".".join(rel.parts)
            dotted = f"{name}.{sub}" if sub else name
            # folders mapped on their own (greenmatch.catalog -> catalog/) are found under that mapping
            if not any(dotted.startswith(other + ".") or dotted == other
                       for other in _package_dir() if other != name and other.startswith(name + ".")):
                on_disk.add(dotted)
    assert on_disk, "no packages found"
    missing = on_disk - _listed_packages()
    assert not missing, f"package folders not listed in setup.cfg: {sorted(missing)}"
    stale = _listed_packages() - on_disk
    assert not stale, f"setup.cfg lists packages that have no folder: {sorted(stale)}"


def test_platform_folder_is_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert stdlib_platform.__file__.startswith(sys.base_prefix) or "site-packages" not in stdlib_platform.__file__
    assert callable(stdlib_platform.python_version)


def test_python_m_pytest_from_root_sees_the_standard_platform_module():
    out = subprocess.run([sys.executable, "-c", "import platform, uuid; print(platform.system())"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip()


def test_instrument_entry_point_group_is_declared():
    eps = _setup_cfg()["options.entry_points"]["greenmatch.instruments"]
    assert "green_credit" in eps and "green_fund" in eps


def test_the_test_only_plugin_is_invisible_outside_the_tests():
    """./scripts/serve runs the venv's python without the tests' plugin folder: the demo offers only the
    instruments really installed (the five built-ins), never the example third-party plugin of the tests."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    probe = ("from importlib.metadata import entry_points; "
             "print(' '.join(sorted(e.name for e in entry_points(group='greenmatch.instruments'))))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == sorted(["green_bond", "green_credit", "green_fund", "green_insurance", "reits"])


def test_the_import_view_lays_the_packages_out_as_installed(tmp_path):
    """lint-imports (./scripts/test) walks greenmatch's folder: scripts/import_view.py links the subpackages
    that live in folders of their own into it, so the layer contracts see every module."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "import_view.py"), str(tmp_path)], check=True)
    for name, folder in _package_dir().items():
        laid_out = tmp_path.joinpath(*name.split("."), "__init__.py")
        assert laid_out.resolve() == (ROOT / folder / "__init__.py").resolve(), name
    core = {p.name for p in (ROOT / "platform" / "greenmatch").iterdir() if p.name != "__pycache__"}
    assert core <= {p.name for p in (tmp_path / "greenmatch").iterdir()}
