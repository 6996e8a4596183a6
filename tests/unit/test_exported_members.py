"""The public surface is what ``faultfinder.__all__`` says, no more and no less."""

from __future__ import annotations

import faultfinder


def test_all_names_exist_once() -> None:
    for name in faultfinder.__all__:
        assert hasattr(faultfinder, name), name
    assert len(set(faultfinder.__all__)) == len(faultfinder.__all__)


def test_public_names_are_exactly_all() -> None:
    public = {
        name for name, value in vars(faultfinder).items()
        if not name.startswith("_") and not getattr(value, "__module__", "").startswith("builtins")
        and not isinstance(value, type(faultfinder))
    }
    public.discard("annotations")
    assert public == set(faultfinder.__all__) - {"__version__"}
