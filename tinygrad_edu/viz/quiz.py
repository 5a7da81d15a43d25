"""Predict, then reveal: the backward pass as questions, one node's gradient at a time.

``quiz_questions(root)`` walks the backward pass in the order ``Value.backward`` processes the
nodes and asks, for each, dL/d node, the gradient it has once all its users are done; then the
leaves'. A wrong answer gets a hint: for each user of the node, its local derivative and its
upstream gradient (both already known at that point), not the sum. ``quiz(root)`` is the notebook
widget; ``export_html(root, path, quiz=True)`` the same as a page that needs no kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_edu.engine import Value, topological_order
from tinygrad_edu.viz._common import format_number, node_kind
from tinygrad_edu.viz.drawing import _layout, _quiz_drawing
from tinygrad_edu.viz.steps import _backprop_steps, _totals_after

__all__ = ["Question", "quiz_questions", "check_answer", "quiz_frames", "quiz"]

RTOL = 5e-3
"""An answer within 0.5% (or ``ATOL``) of the gradient counts as right: 3 significant digits."""
ATOL = 5e-4


@dataclass(frozen=True)
class Question:
    """One question of the quiz: what is dL/d ``name``?

    Attributes:
        node: the Value asked about.
        name: how the drawing and the text call it (its label, or ``n<k>``).
        answer: dL/d node, as a fresh ``root.backward(grad)`` gives it.
        users: for each use of the node, ``(user's name, d user / d node, dL / d user)``.
        output_name: the name of L.
    """

    node: Value
    name: str
    answer: float
    users: tuple[tuple[str, float, float], ...]
    output_name: str = "L"

    @property
    def prompt(self) -> str:
        """The question, in English and Korean."""
        out = self.output_name
        return f"d{out}/d{self.name} = ?   ({self.name}에 대한 {out}의 기울기는?)"

    @property
    def hint(self) -> str:
        """The chain rule's pieces for this node, not their sum (the answer)."""
        f = format_number
        out = self.output_name
        parts = [
            f"{user}: d{user}/d{self.name} = {f(local)}, upstream d{out}/d{user} = {f(upstream)}"
            for user, local, upstream in self.users
        ]
        used = "once" if len(parts) == 1 else f"{len(parts)} times"
        return (
            f"hint (힌트): {self.name} is used {used}; d{out}/d{self.name} is the sum over its "
            f"uses of (local derivative x upstream gradient):\n  " + "\n  ".join(parts)
        )


def quiz_questions(root: Value, grad: float = 1.0) -> list[Question]:
    """The questions of the backward pass of ``root``, in the order they can be answered.

    First every node the backward pass processes (each after all its users: its gradient is then
    complete), except the root, whose gradient is the seed ``grad``; then the leaves that are not
    constants, in topological order.
    """
    if not isinstance(root, Value):
        raise TypeError(f"quiz: root must be a Value, got {type(root).__name__}")
    layout = _layout(root, None)
    names = layout.text_names()
    steps = _backprop_steps(root, grad, names)
    totals = _totals_after(root, steps, len(steps), grad)[0]
    users: dict[Value, list[tuple[str, float, float]]] = {}
    for step in steps:
        for p in step.products:
            users.setdefault(p.parent, []).append((step.name, p.local, p.upstream))
    out = root.label or "L"
    asked = [s.node for s in steps if s.node is not root]
    asked += [v for v in topological_order(root) if not v.parents and node_kind(v) != "constant"]
    return [Question(v, names[v], totals.get(v, 0.0), tuple(users.get(v, ())), out) for v in asked]


def check_answer(question: Question, answer: object) -> bool:
    """Whether ``answer`` (a number, or text such as ``"-1.5"`` or ``"-1,5"``) is right, to
    ``RTOL`` relative or ``ATOL`` absolute. Text that is no number is wrong, not an error."""
    if isinstance(answer, str):
        try:
            answer = float(answer.strip().replace(",", "."))
        except ValueError:
            return False
    if isinstance(answer, Value):
        answer = answer.data
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False
    x, want = float(answer), question.answer
    if not math.isfinite(want):
        return x == want
    return abs(x - want) <= ATOL + RTOL * abs(want)


def _known_before(questions: Sequence[Question], j: int, root: Value, grad: float) -> dict:
    known: dict[Value, float] = {root: float(grad)}
    known.update((q.node, q.answer) for q in questions[:j])
    return known


def _all_found(root: Value, grad: float, draw_kwargs: dict[str, Any]) -> Any:
    """The end of the quiz: the whole backward pass drawn, every product on its edge."""
    from tinygrad_edu.viz.drawing import draw_graph
    from tinygrad_edu.viz.steps import backprop_steps

    return draw_graph(root, step=len(backprop_steps(root, grad)), grad=grad, **draw_kwargs)


def quiz_frames(root: Value, grad: float = 1.0, **draw_kwargs: Any) -> list[Any]:
    """The frames of the quiz page (``tinygrad_edu.page.Frame``): one per question, the drawing
    showing the gradients found before it, and a last one with every gradient."""
    from tinygrad_edu.page import Frame
    from tinygrad_edu.viz.stepping import _svg_text

    if draw_kwargs.get("collapse") is not None:
        raise ValueError("quiz: collapse is not supported (every node is a question)")
    questions = quiz_questions(root, grad)
    pos = _layout(root, None).pos
    frames = []
    for j, q in enumerate(questions):
        drawing = _quiz_drawing(
            root, _known_before(questions, j, root, grad), q.node, **draw_kwargs
        )
        frames.append(
            Frame(
                svg=_svg_text(drawing),
                caption=f"question {j + 1} of {len(questions)}: {q.prompt}",
                node=f"n{pos[q.node]}",
                data={
                    "quiz": q.name,
                    "answer": q.answer,
                    "answer_text": format_number(q.answer),
                    "hint": q.hint,
                    "rtol": RTOL,
                    "atol": ATOL,
                },
            )
        )
    frames.append(
        Frame(
            svg=_svg_text(_all_found(root, grad, draw_kwargs)),
            caption=f"all {len(questions)} gradients found (모든 기울기를 찾았습니다)",
        )
    )
    return frames


def quiz(root: Value, grad: float = 1.0, **draw_kwargs: Any) -> Any:
    """A notebook widget: the drawing, a question, an answer box and a check button.

    A right answer (Enter or the button) fills the node's gradient into the drawing and moves on;
    a wrong one shows the hint. The output a notebook saves also carries the quiz page of
    ``export_html(..., quiz=True)``, so the quiz works with no kernel (nbconvert, nbviewer).

    The returned box has ``.questions``, ``.position`` (the question shown), ``.answer_box``,
    ``.feedback`` and ``.submit()`` (what Enter does), for tests and for driving it from code.
    Needs ipywidgets (``pip install "tinygrad_edu[notebook]"``).
    """
    try:
        import ipywidgets as widgets
    except ImportError as error:
        raise ImportError(
            'quiz needs ipywidgets: pip install "tinygrad_edu[notebook]"; or write the same quiz '
            "as a page with viz.export_html(root, path, quiz=True)"
        ) from error
    from tinygrad_edu.page import page_fragment
    from tinygrad_edu.viz.stepping import _html_escape, _svg_text

    questions = quiz_questions(root, grad)
    picture = widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto", margin="0"))
    prompt = widgets.HTML()
    answer_box = widgets.Text(placeholder="your answer", continuous_update=False)
    button = widgets.Button(description="check (확인)")
    feedback = widgets.HTML()
    box = _quiz_box(widgets)([prompt, widgets.HBox([answer_box, button]), feedback, picture])
    box.static_page = lambda: page_fragment(quiz_frames(root, grad, **draw_kwargs))
    box.questions = questions
    box.position = 0
    box.answer_box = answer_box
    box.feedback = feedback

    def show() -> None:
        j = box.position
        known = _known_before(questions, j, root, grad)
        if j < len(questions):
            drawing = _quiz_drawing(root, known, questions[j].node, **draw_kwargs)
        else:
            drawing = _all_found(root, grad, draw_kwargs)
        picture.value = _svg_text(drawing)
        if j < len(questions):
            text = f"question {j + 1} of {len(questions)}: {questions[j].prompt}"
        else:
            text = f"all {len(questions)} gradients found (모든 기울기를 찾았습니다)"
        prompt.value = f"<b>{_html_escape(text)}</b>"
        answer_box.value = ""
        answer_box.disabled = button.disabled = j >= len(questions)

    def submit(*_: Any) -> bool:
        j = box.position
        if j >= len(questions):
            return False
        q = questions[j]
        if check_answer(q, answer_box.value):
            feedback.value = f"right (정답): d{q.output_name}/d{q.name} = {format_number(q.answer)}"
            box.position = j + 1
            show()
            return True
        feedback.value = f"<pre>not quite (다시 해 보세요).\n{_html_escape(q.hint)}</pre>"
        return False

    box.submit = submit
    button.on_click(submit)
    answer_box.observe(lambda change: change["new"].strip() and submit(), names="value")
    show()
    return box


def _quiz_box(widgets: Any) -> type:
    """A ``VBox`` whose saved output carries the kernel-free quiz page too."""

    class Quiz(widgets.VBox):  # type: ignore[misc, name-defined]
        static_page: Any = None

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            bundle = dict(super()._repr_mimebundle_(**kwargs))
            n = len(getattr(self, "questions", ()))
            bundle["text/plain"] = f"<backprop quiz: {n} questions>"
            if self.static_page is not None:
                bundle["text/html"] = self.static_page()
            return bundle

    return Quiz
