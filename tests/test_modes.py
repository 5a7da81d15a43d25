"""The modes live in tinygrad_edu.modes; the old import paths name the same objects."""

from __future__ import annotations

import tinygrad_edu
from tinygrad_edu import engine, modes

NAMES = (
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
)


def test_old_import_paths_name_the_objects_of_modes() -> None:
    for name in NAMES:
        assert getattr(engine, name) is getattr(modes, name)
        assert getattr(tinygrad_edu, name) is getattr(modes, name)


def test_no_grad_from_modes_stops_recording_of_engine_ops() -> None:
    x = engine.Value(2.0)
    with modes.no_grad():
        assert not modes.is_grad_enabled()
        y = x * x
    assert y.parents == () and (x * x).parents == (x, x)
