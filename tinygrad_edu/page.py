"""The step page: a sequence of drawings with a slider, in one self-contained piece of HTML.

``viz.export_html`` and the saved output of ``viz.step_through`` are built here. A page is a list
of ``Frame`` s (a drawing as inline SVG, the text of its step, the drawn node to bring into view,
and any data a later mode needs) and is written as:

* one ``<figure>`` per frame, each its caption *above* its drawing, the drawing in a box of at
  most the page's width that scrolls inside. With no script (a repository page, an untrusted
  notebook) every frame shows, one below the other: the page still reads top to bottom.
* a JSON blob ``{"title": ..., "steps": [{"caption", "node", ...}, ...]}``: the page's data, for
  the script and for later modes (a quiz filling ``<input data-node=...>`` boxes from a step's
  ``grads``, a nudge slider) that reuse this builder.
* a small script: it shows one frame at a time and adds a slider, previous/next buttons and the
  keys (arrows step, Home/End jump to the first/last frame), and scrolls the current node's
  ``<g class="node"><title>id</title>`` into the middle of the drawing's box.
* a quiz: a frame whose data has ``"quiz"`` (the node's name) gets an answer box,
  ``<input class="tge-answer" data-node=name>``. Enter or a change checks it against the step's
  ``answer`` (to ``atol + rtol |answer|``): right adds the class ``correct`` and opens the next
  frame; wrong adds ``wrong`` and shows the step's ``hint``. The slider only reaches frames
  already opened.

Nothing is loaded from the network: no script, style sheet or font from a CDN (the page uses the
browser's sans-serif font), so the file works offline and wherever it is copied.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Frame", "page_document", "page_fragment", "write_page"]


@dataclass(frozen=True)
class Frame:
    """One state of the page.

    Attributes:
        svg: the drawing, an ``<svg>`` element (an XML prolog or DOCTYPE before it is dropped),
            or HTML saying why there is none.
        caption: plain text shown above the drawing (the step's chain-rule products).
        node: the Graphviz name of the node to scroll into view (``"n5"``), or None.
        data: more JSON-serialisable facts about the step, kept in the page's data blob
            (``viz`` stores the gradients drawn, ``{"n5": -2.0, ...}``, under ``"grads"``).
    """

    svg: str
    caption: str
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


_STYLE = """
.tge-stepper { font-family: sans-serif; max-width: 100%; }
.tge-stepper [hidden] { display: none !important; }
.tge-stepper .tge-controls { display: flex; align-items: center; gap: 0.5em; margin: 0.3em 0; }
.tge-stepper .tge-controls input[type=range] { flex: 1 1 auto; max-width: 40em; }
.tge-stepper .tge-position { font-variant-numeric: tabular-nums; min-width: 7em; }
.tge-stepper figure { margin: 0 0 1em 0; }
.tge-stepper .tge-caption { margin: 0 0 0.4em 0; padding: 0.4em 0.6em; background: #f8f9fa;
  border-left: 3px solid #e03131; white-space: pre-wrap; font-size: 0.9em;
  font-family: monospace; }
.tge-stepper .tge-drawing { max-width: 100%; max-height: 80vh; overflow: auto;
  border: 1px solid #dee2e6; }
.tge-stepper .tge-drawing svg { display: block; max-width: none; }
.tge-stepper:focus { outline: 2px solid #a5d8ff; }
.tge-stepper .tge-quiz { margin: 0 0 0.4em 0; }
.tge-stepper .tge-answer.correct { border: 2px solid #2f9e44; background: #ebfbee; }
.tge-stepper .tge-answer.wrong { border: 2px solid #e03131; }
.tge-stepper .tge-feedback { white-space: pre-wrap; font-family: monospace; font-size: 0.9em; }
"""

# The script. It reads the data blob, keeps frame `k` visible and the others hidden, and moves k on
# the slider, the buttons and the keys. `keysOnDocument` (a page of its own) listens on the whole
# document; inside a notebook only the stepper itself (click it first) takes the keys.
_SCRIPT = """
function tgeStepper(root, keysOnDocument) {
  var data = JSON.parse(root.querySelector("script.tge-data").textContent);
  var figures = root.querySelectorAll("figure.tge-frame");
  var controls = root.querySelector(".tge-controls");
  var slider = controls.querySelector("input[type=range]");
  var position = controls.querySelector(".tge-position");
  var last = figures.length - 1;
  var k = 0;

  function centre(figure, name) {
    // a node outside the drawing's visible part is brought to its middle
    if (name === null) return;
    var box = figure.querySelector(".tge-drawing");
    var titles = box.querySelectorAll("g.node > title");
    for (var i = 0; i < titles.length; i++) {
      if (titles[i].textContent !== name) continue;
      var node = titles[i].parentNode.getBoundingClientRect();
      var view = box.getBoundingClientRect();
      if (node.left < view.left || node.right > view.right) {
        box.scrollLeft += node.left + node.width / 2 - (view.left + view.width / 2);
      }
      if (node.top < view.top || node.bottom > view.bottom) {
        box.scrollTop += node.top + node.height / 2 - (view.top + view.height / 2);
      }
      return;
    }
  }

  function show(next) {
    k = Math.max(0, Math.min(last, next));
    for (var i = 0; i <= last; i++) figures[i].hidden = i !== k;
    slider.value = k;
    position.textContent = "step " + k + " of " + last;
    root.setAttribute("data-step", k);
    centre(figures[k], data.steps[k].node);
  }

  function onKey(event) {
    var moves = {ArrowLeft: k - 1, ArrowDown: k - 1, ArrowRight: k + 1, ArrowUp: k + 1,
                 Home: 0, End: last, PageUp: k - 1, PageDown: k + 1};
    if (!(event.key in moves)) return;
    event.preventDefault();
    show(moves[event.key]);
  }

  // A quiz (frames with an answer box): a frame opens once the one before it is answered.
  var unlocked = last;
  var boxes = root.querySelectorAll("input.tge-answer");
  if (boxes.length > 0) {
    unlocked = 0;
    var limit = show;
    show = function (next) { limit(Math.min(next, unlocked)); };
    boxes.forEach(function (box) {
      var k = Number(box.getAttribute("data-step"));
      var step = data.steps[k];
      var feedback = box.parentNode.parentNode.querySelector(".tge-feedback");
      function check() {
        var value = parseFloat(box.value.trim().replace(",", "."));
        var right = isFinite(value) &&
          Math.abs(value - step.answer) <= step.atol + step.rtol * Math.abs(step.answer);
        box.classList.toggle("correct", right);
        box.classList.toggle("wrong", !right);
        if (right) {
          feedback.textContent = "right (\uc815\ub2f5): " + step.answer_text;
          unlocked = Math.max(unlocked, k + 1);
          show(k + 1);
          var nextBox = root.querySelector('input.tge-answer[data-step="' + (k + 1) + '"]');
          if (nextBox) nextBox.focus();
        } else {
          feedback.textContent = "not quite (\ub2e4\uc2dc \ud574 \ubcf4\uc138\uc694).\\n" +
            step.hint;
        }
      }
      box.addEventListener("change", check);
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); check(); }
        event.stopPropagation();  // typing in the box moves no step
      });
    });
  }

  slider.max = last;
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  controls.querySelector(".tge-prev").addEventListener("click", function () { show(k - 1); });
  controls.querySelector(".tge-next").addEventListener("click", function () { show(k + 1); });
  (keysOnDocument ? document : root).addEventListener("keydown", onKey);
  controls.hidden = false;
  show(0);
}
"""


def _inline_svg(svg: str) -> str:
    """The ``<svg>`` element alone: an XML prolog, DOCTYPE or comment before it would not belong
    inside HTML. Text with no ``<svg>`` (why a drawing could not be rendered, in a ``<pre>``) is
    kept as it is."""
    start = svg.find("<svg")
    return svg[max(start, 0) :].strip()


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside ``<script>``: every ``<`` is written ``\\u003c``, so no
    ``</script>`` or ``<!--`` in a caption can end or upset the element early, and numbers
    JSON cannot hold (nan, inf) are written as strings."""

    def finite(x: Any) -> Any:
        if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
            return str(x)
        if isinstance(x, dict):
            return {k: finite(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [finite(v) for v in x]
        return x

    return json.dumps(finite(value), ensure_ascii=False).replace("<", "\\u003c")


def page_fragment(
    frames: Sequence[Frame], title: str | None = None, keys_on_document: bool = False
) -> str:
    """The stepper as one ``<div>`` (style, frames, data and script), to embed in a notebook.

    Its id is a hash of its content, so the same frames give the same HTML on every run.
    ``keys_on_document`` makes the arrow keys work anywhere on the page (a page of its own);
    otherwise they work once the stepper has the focus (click it).
    """
    if not frames:
        raise ValueError("page_fragment: need at least one frame")
    steps = [{"caption": f.caption, "node": f.node, **f.data} for f in frames]
    blob = _json_for_script({"title": title, "steps": steps})
    figures = []
    for k, frame in enumerate(frames):
        node = f' data-node="{html.escape(frame.node)}"' if frame.node else ""
        question = ""
        if "quiz" in frame.data:  # an answer box, checked by the script against the data blob
            question = (
                f'<div class="tge-quiz"><label>answer (답): <input type="text" class="tge-answer"'
                f' data-node="{html.escape(str(frame.data["quiz"]))}" data-step="{k}"'
                f' inputmode="decimal" autocomplete="off"></label>'
                f'<div class="tge-feedback"></div></div>'
            )
        figures.append(
            f'<figure class="tge-frame" data-step="{k}"{node}>'
            f'<pre class="tge-caption">{html.escape(frame.caption)}</pre>{question}'
            f'<div class="tge-drawing">{_inline_svg(frame.svg)}</div></figure>'
        )
    body = "\n".join(figures)
    digest = hashlib.sha1((blob + body).encode("utf-8")).hexdigest()[:12]
    element_id = f"tge-{digest}"
    heading = f"<h3>{html.escape(title)}</h3>" if title else ""
    controls = (
        '<div class="tge-controls" hidden>'
        '<button type="button" class="tge-prev" title="previous step (left arrow)">&#9664;</button>'
        '<input type="range" min="0" max="0" step="1" value="0" aria-label="step">'
        '<button type="button" class="tge-next" title="next step (right arrow)">&#9654;</button>'
        '<span class="tge-position"></span></div>'
    )
    return (
        f'<div class="tge-stepper" id="{element_id}" tabindex="0">'
        f"<style>{_STYLE}</style>{heading}{controls}\n"
        f'<script type="application/json" class="tge-data">{blob}</script>\n'
        f"{body}\n"
        f"<script>{_SCRIPT}\n"
        f'tgeStepper(document.getElementById("{element_id}"), '
        f"{'true' if keys_on_document else 'false'});</script></div>"
    )


def page_document(frames: Sequence[Frame], title: str = "backward pass") -> str:
    """A whole HTML document around ``page_fragment``, the keys working anywhere on it."""
    fragment = page_fragment(frames, title=title, keys_on_document=True)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>\n"
        f'<body style="margin: 1em;">\n{fragment}\n</body></html>\n'
    )


def write_page(frames: Sequence[Frame], path: str | Path, title: str = "backward pass") -> Path:
    """Write ``page_document(frames, title)`` to ``path`` (UTF-8); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page_document(frames, title), encoding="utf-8")
    return path
