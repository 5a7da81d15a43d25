"""Practice: a bug zoo to hunt in the engine, and worksheets with answer keys.

- ``bugs``: ``BUGS`` (classic backprop mistakes from real reports), ``bug(name)`` (switch one on
  inside the engine for a ``with`` block), ``mystery(seed)`` (one of them, unnamed), ``PROBES`` and
  ``run_probes()`` (the checks that tell them apart), ``symptom`` (a function every bug gets
  wrong), ``full_check`` and ``gradcheck_backward_twice``
- ``worksheets``: ``worksheet(n, seed)``, seeded problems to differentiate by hand, as Markdown
  and self-contained HTML, with an answer key
"""

from tinygrad_edu.exercises.bugs import (
    BUGS,
    PROBES,
    Bug,
    Mystery,
    Probe,
    bug,
    full_check,
    gradcheck_backward_twice,
    mystery,
    run_probes,
    symptom,
)
from tinygrad_edu.exercises.worksheets import WORKSHEET_OPS, Problem, Worksheet, worksheet

__all__ = [
    "BUGS",
    "PROBES",
    "Bug",
    "Mystery",
    "Probe",
    "bug",
    "full_check",
    "gradcheck_backward_twice",
    "mystery",
    "run_probes",
    "symptom",
    "WORKSHEET_OPS",
    "Problem",
    "Worksheet",
    "worksheet",
]
