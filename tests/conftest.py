"""Test configuration: hypothesis runs derandomized on CI, so a CI run is reproducible."""

from __future__ import annotations

import os

from hypothesis import settings

# Locally every run explores new examples; on CI (CI=true) the examples are a fixed function of the
# test, so the same commit always checks the same thousands of graphs.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
