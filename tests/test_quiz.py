"""viz.quiz: the backward pass as questions, answers checked, hints that are not the answer."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from tinygrad_edu import viz
from tinygrad_edu.engine import Value, topological_order
from tinygrad_edu.testing import expressions


def _graph() -> Value:
    x = Value(0.5, label="x")
    s = x.sin()
    s.label = "s"
    y = (s + s) * x  # s used twice: its hint has two products
    y.label = "y"
    return y


def test_questions_follow_the_backward_pass_and_answers_are_backwards() -> None:
    root = _graph()
    questions = viz.quiz_questions(root)
    names = [q.name for q in questions]
    assert names[-1] == "x" and "y" not in names  # the root's gradient is the seed
    root.backward()
    for q in questions:
        assert q.answer == q.node.grad
    s = next(q for q in questions if q.name == "s")
    assert len(s.users) == 2 and "used 2 times" in s.hint
    # the hint gives the pieces (each use's local derivative and upstream), never their sum
    assert s.hint.count("upstream dy/") == 2 and "dy/ds = " not in s.hint


@settings(max_examples=60, deadline=None, derandomize=True)
@given(expressions(max_ops=8))
def test_answers_equal_grad_on_random_graphs(expr) -> None:  # type: ignore[no-untyped-def]
    leaves = expr.leaves()
    root = expr(*leaves)
    questions = viz.quiz_questions(root)
    root.backward()
    for q in questions:
        assert q.answer == q.node.grad or (math.isnan(q.answer) and math.isnan(q.node.grad))
    in_graph = set(topological_order(root))
    assert {q.node for q in questions} >= (set(leaves) & in_graph) - {root}


@pytest.mark.parametrize(
    ("answer", "right"),
    [
        ("-2", True),
        ("-2.004", True),
        (" -1,999 ", True),
        ("-2.02", False),
        ("abc", False),
        (-2, True),
        (True, False),
        (None, False),
        ("", False),
    ],
)
def test_check_answer_tolerance_and_text(answer: object, right: bool) -> None:
    q = viz.Question(Value(1.0), "a", -2.0, (("b", 1.0, -2.0),))
    assert viz.check_answer(q, answer) is right


def test_quiz_widget_marks_hints_and_advances() -> None:
    pytest.importorskip("ipywidgets")
    root = _graph()
    box = viz.quiz(root)
    first = box.questions[0]
    assert "grad ?" in box.children[-1].value or "grad ?" in str(box.children[-1].value)
    box.answer_box.value = str(first.answer + 1)
    assert box.position == 0 and "hint" in box.feedback.value
    box.answer_box.value = repr(first.answer)
    assert box.position == 1 and "right" in box.feedback.value
    for q in box.questions[1:]:
        box.answer_box.value = repr(q.answer)
    assert box.position == len(box.questions) and box.answer_box.disabled


def test_quiz_page_has_one_answer_box_per_question(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = _graph()
    html = viz.export_html(root, tmp_path / "q.html", quiz=True).read_text(encoding="utf-8")
    for q in viz.quiz_questions(root):
        assert f'class="tge-answer" data-node="{q.name}"' in html
    with pytest.raises(ValueError, match="quiz: collapse is not supported"):
        viz.quiz_frames(root, collapse="neuron")
    with pytest.raises(TypeError, match="quiz: root must be a Value"):
        viz.quiz_questions(3.0)  # type: ignore[arg-type]
