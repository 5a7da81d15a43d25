"""Stepping through backprop: frames, ``step_through`` (a notebook slider), pages, strips, GIFs."""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import graphviz

from tinygrad_edu.engine import Value
from tinygrad_edu.viz._common import (
    GraphvizNotFoundError,
    format_number,
    node_kind,
)
from tinygrad_edu.viz.drawing import (
    _drawn_steps,
    _layout,
    draw_graph,
    drawn_steps,
)
from tinygrad_edu.viz.rendering import (
    render,
    render_bytes,
)
from tinygrad_edu.viz.steps import (
    _backprop_steps,
    _check_step,
    _totals_after,
    backprop_steps,
)

# -- stepping in a notebook, frames, GIF -----------------------------------------------------------


def backprop_frames(root: Value, grad: float = 1.0, **draw_kwargs: Any) -> list[graphviz.Digraph]:
    """One drawing per state of the backward pass: ``draw_graph(root, step=k)`` for k = 0 .. n.

    n is ``len(drawn_steps(root, grad, collapse))``: with ``collapse="neuron"`` a neuron's box
    is one step.
    """
    n = len(drawn_steps(root, grad, draw_kwargs.get("collapse")))
    return [draw_graph(root, step=k, grad=grad, **draw_kwargs) for k in range(n + 1)]


def step_caption(root: Value, k: int, grad: float = 1.0, collapse: str | None = None) -> str:
    """The text of drawn step ``k`` (as shown above the drawing by ``step_through``).

    Step 0 names the seed; step k lists the chain-rule products of ``drawn_steps(...)[k - 1]``
    (for a collapsed neuron, its activation's step and its dot's step, said so on a first line).
    """
    drawn = drawn_steps(root, grad, collapse)
    _check_step(k, len(drawn))
    if k == 0:
        out = root.label or "L"
        return f"step 0: nothing done yet; the seed d{out}/d{out} = {format_number(grad)}"
    step = drawn[k - 1]
    if collapse is None:
        return str(step)
    first, last = step.done - len(step.steps) + 1, step.done
    covers = f"backward step {last}" if first == last else f"backward steps {first}-{last}"
    n_all = len(backprop_steps(root, grad))
    return f"drawn step {k} of {len(drawn)}: {step.name} ({covers} of {n_all})\n{step}"


def _svg_text(graph: graphviz.Digraph) -> str:
    """The drawing as an inline ``<svg>`` element, or, when it cannot be rendered, the reason
    and the DOT text in a ``<pre>``."""
    try:
        svg = render_bytes(graph, "svg").decode("utf-8")
    except (GraphvizNotFoundError, RuntimeError) as error:
        return f"<pre>{_html_escape(str(error))}\n\n{_html_escape(graph.source)}</pre>"
    return svg[svg.find("<svg") :]  # inline in HTML: drop the XML prolog


def step_frames(root: Value, grad: float = 1.0, **draw_kwargs: Any) -> list[Any]:
    """The frames of the step page (``tinygrad_edu.page.Frame``), one per drawn step 0 .. n.

    Each holds the SVG of ``draw_graph(root, step=k, ...)``, ``step_caption(root, k, ...)``, the
    id of the node processed (scrolled into view) and, under ``data["grads"]``, the gradients
    drawn: ``{"n<i>": dL/d node}`` for every drawn non-constant node reached, the numbers of
    ``gradients_after(root, done)``.
    """
    from tinygrad_edu.page import Frame

    collapse = draw_kwargs.get("collapse")
    layout = _layout(root, collapse)
    steps = _backprop_steps(root, grad, layout.text_names())
    drawn = _drawn_steps(layout, steps)
    frames = []
    for k in range(len(drawn) + 1):
        done = drawn[k - 1].done if k > 0 else 0
        totals = _totals_after(root, steps, done, grad)[0]
        grads = {
            f"n{layout.pos[v]}": totals[v]
            for v in layout.visible
            if v in totals and node_kind(v) != "constant"
        }
        frames.append(
            Frame(
                svg=_svg_text(draw_graph(root, step=k, grad=grad, **draw_kwargs)),
                caption=step_caption(root, k, grad, collapse),
                node=f"n{layout.pos[drawn[k - 1].node]}" if k > 0 else None,
                data={"grads": grads, "done": done},
            )
        )
    return frames


def export_html(
    root: Value,
    path: str | Path,
    grad: float = 1.0,
    title: str | None = None,
    quiz: bool = False,
    nudge: Value | None = None,
    **draw_kwargs: Any,
) -> Path:
    """Write the backward pass of ``root`` as one self-contained HTML page; return its path.

    The page holds every step's drawing (inline SVG, ``draw_graph(root, step=k, **draw_kwargs)``
    for k = 0 .. n) with the step's text above it, a slider, previous/next buttons and the keys
    (left/right arrows step, Home/End jump); the node processed is scrolled into view. Nothing is
    loaded from the network: open the file in any browser, offline, or send it. Works with
    ``collapse="neuron"`` (a neuron's box is one step). See ``tinygrad_edu.page``.

    With ``quiz=True`` the page asks instead of showing (``viz.quiz_questions``): each node's
    gradient in the order the backward pass finds them, an answer box per node
    (``<input data-node=name>``, class ``correct`` once answered right), a hint after a wrong
    answer, the drawing filling in as the answers come.

    With ``nudge=leaf`` the page is a slider over the nudge h of that leaf instead
    (``viz.nudge_slider``, precomputed at ``viz.DEFAULT_NUDGES``): the predicted change g h, the
    second-order prediction and the actual change of root, side by side.
    """
    from tinygrad_edu.page import write_page

    if not isinstance(root, Value):
        raise TypeError(f"export_html: root must be a Value, got {type(root).__name__}")
    name = root.label or "L"
    if nudge is not None:
        from tinygrad_edu.viz.nudging import nudge_frames

        heading = title or f"Nudge {nudge.label or 'x'}: the gradient's prediction of {name}"
        return write_page(nudge_frames(root, nudge), path, heading)
    if quiz:
        from tinygrad_edu.viz.quiz import quiz_frames

        heading = title or f"Backward pass of {name}: find each gradient"
        return write_page(quiz_frames(root, grad, **draw_kwargs), path, heading)
    heading = title or f"Backward pass of {name}, one step at a time"
    return write_page(step_frames(root, grad, **draw_kwargs), path, heading)


def _png_strip(frames: Sequence[graphviz.Digraph], captions: Sequence[str]) -> bytes | None:
    """The frames as one PNG, one below the other, each under its caption (for pages that show
    no HTML); None when Pillow is missing or the strip would be too big to be useful."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        return None
    import io

    # Every frame is laid out alike (only colours and labels change): from the first one's size,
    # tell whether the strip is too big before rendering and holding all of them.
    first = Image.open(io.BytesIO(render_bytes(frames[0], "png")))
    if first.width * first.height * len(frames) > _MAX_STRIP_PIXELS:
        return None
    images = [first.convert("RGB")]
    images += [Image.open(io.BytesIO(render_bytes(f, "png"))).convert("RGB") for f in frames[1:]]
    font = ImageFont.load_default()
    line = 14
    heights = [line * (len(c.splitlines()) + 1) + im.height + 20 for c, im in zip(captions, images)]
    width = max(im.width for im in images) + 20
    if sum(heights) > _MAX_STRIP_PIXELS // width:
        return None
    strip = Image.new("RGB", (width, sum(heights)), "white")
    draw = ImageDraw.Draw(strip)
    top = 0
    for caption, im, height in zip(captions, images, heights):
        draw.line([(0, top), (width, top)], fill="#adb5bd")
        for i, text in enumerate(caption.splitlines()):
            draw.text((10, top + 6 + i * line), text, fill="black", font=font)
        strip.paste(im, (10, top + line * (len(caption.splitlines()) + 1)))
        top += height
    out = io.BytesIO()
    strip.convert("P", palette=Image.Palette.ADAPTIVE).save(out, "PNG", optimize=True)
    return out.getvalue()


_MAX_STRIP_PIXELS = 40_000_000
"""A bigger strip of frames (about 6,000 x 6,000 pixels) is left out of the saved output."""


def step_through(root: Value, grad: float = 1.0, static: bool = True, **draw_kwargs: Any) -> Any:
    """Scrub through the backward pass in a notebook.

    With ipywidgets installed: returns a widget (a ``VBox``) with a slider over the drawn steps
    0 .. n (``drawn_steps``), the step's chain-rule text and, below it, the drawing after that
    many steps (SVG, in a box that scrolls when the drawing is wider than the output). Display it
    as the last expression of a cell. ``collapse="neuron"`` and the other ``draw_graph`` options
    pass through ``draw_kwargs``.

    With ``static`` (the default), the output a notebook saves also works with no kernel: beside
    the live widget it carries the step page of ``export_html`` (a slider that runs in the
    browser: nbconvert's HTML and nbviewer keep it) and a PNG strip of all the frames (for pages
    that show no HTML). A live notebook shows the widget. Building them renders every step once,
    and the slider then shows those drawings, so a move runs no Graphviz.

    Without ipywidgets: returns ``backprop_frames(...)``, the list of drawings (each shows itself
    as SVG when displayed in a notebook).
    """
    collapse = draw_kwargs.get("collapse")
    n_steps = len(drawn_steps(root, grad, collapse))
    draw_graph(root, step=n_steps, grad=grad, **draw_kwargs)  # bad options fail here, not later
    try:
        import ipywidgets as widgets
    except ImportError:
        return backprop_frames(root, grad, **draw_kwargs)

    slider = widgets.IntSlider(
        value=0, min=0, max=n_steps, step=1, description="step", continuous_update=False
    )
    slider.layout.width = "min(100%, 40em)"
    # The widget's own box is the scrolling one: as wide as the output (no margin, so its right
    # edge stays inside), and a wide or tall drawing scrolls inside it. Its value is the bare
    # SVG, as before the box was added: a <style> or wrapper sent with every step made the
    # browser restyle the whole page on every move.
    picture = widgets.HTML(
        layout=widgets.Layout(
            width="100%",
            max_height="80vh",
            overflow="auto",
            margin="0",
            border="1px solid #dee2e6",
        )
    )
    caption = widgets.HTML()

    # With ``static`` every step is rendered once anyway (for the saved page); a move then only
    # sends that SVG, with no Graphviz run in the kernel.
    frames = functools.cache(lambda: step_frames(root, grad, **draw_kwargs))

    def show(k: int) -> None:
        if static:
            picture.value = frames()[k].svg
        else:
            picture.value = _svg_text(draw_graph(root, step=k, grad=grad, **draw_kwargs))
        text = step_caption(root, k, grad, collapse)
        caption.value = f"<pre>{_html_escape(text)}</pre>"

    slider.observe(lambda change: show(change["new"]), names="value")
    show(0)
    box = _stepper_box(widgets)([slider, caption, picture])
    box.layout.width = "100%"
    if static:
        box.static_page = functools.cache(lambda: _static_output(root, grad, draw_kwargs, frames()))
    plural = "step" if n_steps == 1 else "steps"
    box.description = f"<backward pass stepper: {n_steps} {plural} of {root.label or 'L'}>"
    return box


def _stepper_box(widgets: Any) -> type:
    """A ``VBox`` whose saved output carries the no-kernel page and the PNG strip too."""

    class StepThrough(widgets.VBox):  # type: ignore[misc, name-defined]
        static_page: Any = None
        description = "<backward pass stepper>"

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            bundle = dict(super()._repr_mimebundle_(**kwargs))
            bundle["text/plain"] = self.description  # stable, unlike the widget's repr
            if self.static_page is not None:
                bundle.update(self.static_page())
            return bundle

    return StepThrough


def _static_output(
    root: Value, grad: float, draw_kwargs: dict[str, Any], frames: Sequence[Any]
) -> dict[str, str]:
    """The step page (``text/html``) and the PNG strip (``image/png``) of ``step_through``, from
    its ``step_frames``."""

    from tinygrad_edu.page import page_fragment

    out: dict[str, str] = {"text/html": page_fragment(frames)}
    try:
        strip = _png_strip(backprop_frames(root, grad, **draw_kwargs), [f.caption for f in frames])
    except (GraphvizNotFoundError, RuntimeError):
        strip = None
    if strip is not None:
        out["image/png"] = base64.b64encode(strip).decode("ascii")
    return out


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def export_frames(
    root: Value, directory: str | Path, format: str = "svg", grad: float = 1.0, **draw_kwargs: Any
) -> list[Path]:
    """Write ``frame_000.<format>``, ``frame_001`` ... (one per backward step, from step 0).

    Returns the paths. Needs the Graphviz ``dot`` program.
    """
    directory = Path(directory)
    frames = backprop_frames(root, grad, **draw_kwargs)
    return [
        render(frame, directory / f"frame_{k:03d}.{format}", format)
        for k, frame in enumerate(frames)
    ]


def export_gif(
    root: Value,
    path: str | Path,
    duration_ms: int = 1500,
    grad: float = 1.0,
    **draw_kwargs: Any,
) -> Path:
    """An animated GIF of the backward pass, one frame per step (needs Pillow and Graphviz).

    Frames differ a little in size (labels grow as products appear); each is centred on a white
    canvas of the largest size so the picture does not jump.
    """
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("export_gif needs Pillow: pip install pillow") from error
    import io

    images = [
        Image.open(io.BytesIO(render_bytes(frame, "png"))).convert("RGB")
        for frame in backprop_frames(root, grad, **draw_kwargs)
    ]
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    canvases = []
    for im in images:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(im, ((width - im.width) // 2, (height - im.height) // 2))
        canvases.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvases[0].save(path, save_all=True, append_images=canvases[1:], duration=duration_ms, loop=0)
    return path
