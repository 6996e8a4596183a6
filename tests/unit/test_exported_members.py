"""The public surface is what ``faultfinder.__all__`` says, no more and no less; every module
answers to its own dotted name; and the health library costs an app only what it needs."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import faultfinder


def test_all_names_exist_once() -> None:
    for name in faultfinder.__all__:
        assert hasattr(faultfinder, name), name
    assert len(set(faultfinder.__all__)) == len(faultfinder.__all__)
    assert sorted(dir(faultfinder)) == sorted(faultfinder.__all__)


def test_public_names_are_exactly_all() -> None:
    for name in faultfinder.__all__:
        getattr(faultfinder, name)  # names load on first use: load them all
    public = {
        name
        for name, value in vars(faultfinder).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public.discard("annotations")
    assert public == set(faultfinder.__all__) - {"__version__"}


def _modules() -> list[str]:
    return sorted(
        found.name
        for found in pkgutil.walk_packages(faultfinder.__path__, "faultfinder.")
        if not found.name.endswith("__main__")  # importing it runs the command line
    )


def test_no_name_shadows_a_module() -> None:
    """``faultfinder.diagnose`` was once both a function and a package: after every public name
    and every module is loaded, each module is still what its parent's attribute names."""
    for name in faultfinder.__all__:
        getattr(faultfinder, name)
    names = _modules()
    for name in names:
        importlib.import_module(name)
    for name in names:
        parent, _, last = name.rpartition(".")
        assert getattr(sys.modules[parent], last) is sys.modules[name], name


def test_a_module_imports_by_its_dotted_name_after_the_package() -> None:
    code = "import faultfinder, faultfinder.diagnosis.graph; faultfinder.diagnose"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_health_library_imports_no_loader_prober_or_renderer() -> None:
    """An app that mounts the health endpoints pays for them, not for the CLI's machinery."""
    heavy = ["pydantic", "yaml", "cryptography", "asyncpg", "redis", "rich", "h11"]
    code = (
        "import sys, faultfinder.health; "
        f"print(','.join(name for name in {heavy!r} if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == ""
