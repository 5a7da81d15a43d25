"""The gradient as "what happens if I wiggle this": a slider over the nudge h of one leaf.

For each h, ``explain.nudge(root, leaf, h)`` gives the first-order prediction g h, the
second-order one g h + h² g''/2 and the actual change of root; here they are drawn side by side as
three bars on the scale of the largest, with the numbers above. ``nudge_slider`` is the notebook
widget, and its saved output (like ``export_html(root, path, nudge=leaf)``) is the same slider
precomputed, with no kernel.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from tinygrad_edu.engine import Value
from tinygrad_edu.explain import Nudge, nudge
from tinygrad_edu.viz._common import format_number

__all__ = ["DEFAULT_NUDGES", "nudge_frames", "nudge_slider"]

DEFAULT_NUDGES = (-1.0, -0.5, -0.2, -0.1, -0.01, 0.01, 0.1, 0.2, 0.5, 1.0)
"""The h of ``nudge_slider`` and ``export_html(..., nudge=leaf)`` unless given."""

_BARS = (
    ("predicted g·h", "predicted", "#4dabf7"),
    ("2nd order g·h + ½h²g''", "predicted_second_order", "#9775fa"),
    ("actual change", "actual", "#2f9e44"),
)


def _nudges(root: Value, leaf: Value, hs: Sequence[float]) -> list[Nudge]:
    if not isinstance(root, Value) or not isinstance(leaf, Value):
        raise TypeError("nudge_slider: root and leaf must be Values")
    hs = [float(h) for h in hs]
    if not hs:
        raise ValueError("nudge_slider: hs must hold at least one step h")
    return [nudge(root, leaf, h) for h in hs]


def _scale(n: Nudge) -> float:
    """The largest of the three sizes at this h: the bars compare the three, at every h."""
    return max(
        (abs(getattr(n, attr)) for _, attr, _ in _BARS if getattr(n, attr) == getattr(n, attr)),
        default=0.0,
    )


def _bars_svg(n: Nudge, scale: float) -> str:
    """Three horizontal bars from a zero line in the middle, on the scale of the largest."""
    width, half, row = 640, 170, 26
    height = row * len(_BARS) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<line x1="{200 + half}" y1="0" x2="{200 + half}" y2="{height}" stroke="#868e96"/>',
    ]
    for i, (name, attr, colour) in enumerate(_BARS):
        value = getattr(n, attr)
        y = 5 + i * row
        length = 0.0 if scale == 0 or value != value else max(-1.0, min(1.0, value / scale)) * half
        left = 200 + half + min(0.0, length)
        parts.append(f'<text x="0" y="{y + 15}">{html.escape(name)}</text>')
        parts.append(
            f'<rect x="{left:.1f}" y="{y}" width="{abs(length):.1f}" height="{row - 8}" '
            f'fill="{colour}"><title>{format_number(value)}</title></rect>'
        )
        parts.append(f'<text x="{200 + 2 * half + 8}" y="{y + 15}">{format_number(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _caption(n: Nudge, leaf_name: str, root_name: str) -> str:
    f = format_number
    return (
        f"{leaf_name} + h with h = {f(n.h)}: {root_name} goes from {f(n.before)} to {f(n.after)}\n"
        f"predicted  g h              = {f(n.grad)} x {f(n.h)} = {f(n.predicted)}"
        f"   (error {f(abs(n.actual - n.predicted))})\n"
        f"2nd order  g h + h^2 g''/2  = {f(n.predicted_second_order)}"
        f"   (error {f(abs(n.actual - n.predicted_second_order))},"
        f" g'' = {f(n.second_derivative)})\n"
        f"actual change               = {f(n.actual)}"
    )


def nudge_frames(root: Value, leaf: Value, hs: Sequence[float] = DEFAULT_NUDGES) -> list[Any]:
    """The frames of the nudge page (``tinygrad_edu.page.Frame``), one per h."""
    from tinygrad_edu.page import Frame

    nudges = _nudges(root, leaf, hs)
    leaf_name, root_name = leaf.label or "x", root.label or "L"
    return [
        Frame(
            svg=_bars_svg(n, _scale(n)),
            caption=_caption(n, leaf_name, root_name),
            data={"h": n.h, "predicted": n.predicted, "actual": n.actual},
        )
        for n in nudges
    ]


def nudge_slider(root: Value, leaf: Value, hs: Sequence[float] = DEFAULT_NUDGES) -> Any:
    """A slider over h: the first-order prediction, the second-order one and the actual change.

    With ipywidgets: a widget whose saved output also carries the precomputed page (so it works
    with no kernel). Without: the page itself, as an object a notebook shows as HTML.
    """
    from tinygrad_edu.page import page_fragment

    frames = nudge_frames(root, leaf, hs)
    fragment = page_fragment(frames, title=f"nudge {leaf.label or 'x'}: d{root.label or 'L'}")
    try:
        import ipywidgets as widgets
    except ImportError:
        return _Html(fragment)
    hs = [float(h) for h in hs]
    slider = widgets.SelectionSlider(options=[(format_number(h), i) for i, h in enumerate(hs)])
    slider.description = "h"
    picture, caption = widgets.HTML(), widgets.HTML()

    def show(i: int) -> None:
        picture.value = frames[i].svg
        caption.value = f"<pre>{html.escape(frames[i].caption)}</pre>"

    slider.observe(lambda change: show(change["new"]), names="value")
    show(slider.value)
    box = _box(widgets)([slider, caption, picture])
    box.static_page = fragment
    return box


class _Html:
    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return self.text


def _box(widgets: Any) -> type:
    class NudgeSlider(widgets.VBox):  # type: ignore[misc, name-defined]
        static_page = ""

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            bundle = dict(super()._repr_mimebundle_(**kwargs))
            bundle["text/plain"] = "<nudge slider>"
            bundle["text/html"] = self.static_page
            return bundle

    return NudgeSlider
