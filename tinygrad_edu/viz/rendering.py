"""Rendering: the bundled ``graphviz-pure`` renderer (or a system ``dot``) writes SVG and PNG."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import graphviz

from tinygrad_edu.viz._common import (
    _INSTALL_HELP,
    GraphvizNotFoundError,
)

# -- rendering -------------------------------------------------------------------------------------


def _renderer() -> list[str] | None:
    """The Graphviz program to run: the bundled ``graphviz-pure``, else the system ``dot``.

    ``graphviz-pure`` (a dependency, a Rust port of Graphviz) is looked up beside the running
    Python first, since a notebook kernel's ``PATH`` often lacks its virtualenv's ``bin``.
    """
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "graphviz-pure", scripts / "graphviz-pure.exe"):
        if candidate.is_file():
            return [str(candidate)]
    for name in ("graphviz-pure", "dot"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def render_bytes(graph: graphviz.Digraph, format: str = "svg", dpi: int | None = None) -> bytes:
    """Lay out ``graph`` with Graphviz and return the drawing (``"svg"``, ``"png"``).

    ``dpi`` sets the resolution of bitmap formats (Graphviz draws PNGs at 96 dpi; 150-200 suits
    slides). Raises ``GraphvizNotFoundError`` (with install instructions) when no Graphviz program
    is found.
    """
    program = _renderer()
    if program is None:
        raise GraphvizNotFoundError(_INSTALL_HELP.format(fmt=format))
    if dpi is not None:
        graph = graph.copy()
        graph.attr(dpi=str(dpi))
    result = subprocess.run(
        [*program, f"-T{format}"], input=graph.source.encode("utf-8"), capture_output=True
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"render: Graphviz could not write {format!r}: {message}")
    return result.stdout


def render(
    graph: graphviz.Digraph, path: str | Path, format: str | None = None, dpi: int | None = None
) -> Path:
    """Write the drawing of ``graph`` to ``path`` (format from the suffix unless given); return it.

    Only the image is written (no DOT file beside it). ``format`` is ``"svg"`` or ``"png"`` (any
    Graphviz output format works); ``dpi`` as in ``render_bytes``.
    """
    path = Path(path)
    fmt = format or path.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"render: cannot tell the format of {str(path)!r}; pass format='svg'")
    data = render_bytes(graph, fmt, dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
