"""Worksheets: seeded, and their answers are backward()'s and the finite differences'."""

from __future__ import annotations

import math

import pytest

from tinygrad_edu import Value, exercises
from tinygrad_edu.gradcheck import numerical_jacobian


def test_the_same_seed_gives_the_same_sheet():
    a, b = exercises.worksheet(6, seed=7), exercises.worksheet(6, seed=7)
    assert a.markdown == b.markdown and a.answer_key == b.answer_key and a.html == b.html
    assert [p.answers for p in a.problems] == [p.answers for p in b.problems]
    assert exercises.worksheet(6, seed=8).markdown != a.markdown


@pytest.mark.parametrize(
    "options",
    [{}, {"ops": exercises.WORKSHEET_OPS, "inputs": 3, "steps": 5}, {"inputs": 1, "steps": 2}],
)
def test_answers_match_backward_and_finite_differences(options):
    sheet = exercises.worksheet(8, seed=3, **options)
    assert len(sheet.problems) == 8
    for p in sheet.problems:
        leaves = [Value(v) for v in p.inputs.values()]
        out = p.function(*leaves)
        out.backward()
        numeric = numerical_jacobian(p.function, list(p.inputs.values()))[0]
        for (name, _), leaf, n in zip(p.inputs.items(), leaves, numeric):
            assert p.answers[name] == leaf.grad
            assert math.isclose(p.answers[name], n, rel_tol=1e-6, abs_tol=1e-6), (p.number, name)
        # every intermediate node too, against backward() on the labelled graph
        nodes, root = p.graph()
        root.backward()
        assert {k: v.grad for k, v in nodes.items()} == p.answers
        assert root.data == out.data


def test_default_sheets_have_integer_answers_and_every_input_used():
    for p in exercises.worksheet(20, seed=0).problems:
        assert all(v == int(v) for v in p.answers.values())
        used = {o for s in p.steps for o in s.operands}
        assert set(p.inputs) <= used


def test_sheet_has_blanks_and_the_key_has_the_numbers():
    sheet = exercises.worksheet(2, seed=42)
    p = sheet.problems[0]
    assert "____" in sheet.markdown
    assert "____" not in sheet.answer_key
    for name, g in p.answers.items():
        assert f"dL/d{name} = ____" in sheet.markdown
        assert f"= {int(g)}" in sheet.answer_key
    assert "dL/d" in "\n".join(p.chain_rule())


def test_html_is_self_contained_with_drawings():
    page = exercises.worksheet(2, seed=42).html
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2
    assert "http://" not in page.replace("http://www.w3.org", "")  # no network resources
    assert "https://" not in page
    key = exercises.worksheet(2, seed=42).answer_key_html
    assert "<pre>" in key and key.count("<svg") == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "positive int"),
        ({"ops": ("nope",)}, "unknown ops"),
        ({"inputs": 5}, "inputs must be"),
        ({"inputs": 3, "steps": 1}, "at least 2 steps"),
        ({"ops": ("relu",), "inputs": 2}, "binary op"),
    ],
)
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        exercises.worksheet(**{"n": 1, **kwargs})
