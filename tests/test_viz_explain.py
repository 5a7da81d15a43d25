"""draw_graph's explaining options: formulas on edges, the paths of a node, the wrong edges."""

from __future__ import annotations

import re

import pytest

from tinygrad_edu import engine, explain, viz
from tinygrad_edu.engine import Value
from tinygrad_edu.gradcheck import check_local_derivatives
from tinygrad_edu.nn import MLP, mse_loss


def _twice() -> tuple[Value, Value]:
    x = Value(0.7, label="x")
    s = x.sin()
    s.label = "s"
    u = s + s
    u.label = "u"
    z = u.sin()
    z.label = "z"
    return x, z


def test_formula_labels_come_from_the_rules() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    t = e.tanh()
    t.label = "t"
    src = viz.draw_graph(t, edge_labels="formula").source
    assert 'label="∂e/∂a = b = -3"' in src and 'label="∂e/∂b = a = 2"' in src
    assert re.search(r'label="∂t/∂e = 1 - t² = [0-9.e-]+"', src)
    assert viz.draw_graph(t).source.count("∂") == 0  # "value" stays today's drawing


def test_paths_from_marks_every_edge_of_every_path() -> None:
    x, z = _twice()
    src = viz.draw_graph(z, paths_from=x).source
    found = explain.paths(z, x)
    assert len(found) == 2  # through each of u = s + s's two edges
    edges = {(p.nodes[k + 1], i) for p in found for k, i in enumerate(p.parent_indices)}
    assert src.count(viz.PATH_COLOR) // 2 == len(edges) == 4  # color and fontcolor per edge


def test_highlight_marks_the_edges_check_local_derivatives_reports(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(engine, "d_tanh", lambda out, x: (1.0 - out,))  # a planted wrong rule
    a = Value(0.4, label="a")
    t = (a * 2.0).tanh()
    failures = check_local_derivatives(t)
    assert [(f.op, f.parent_index) for f in failures] == [("tanh", 0)]
    src = viz.draw_graph(t, highlight=failures).source
    assert src.count("wrong: ") == 1 and "penwidth=3" in src


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"edge_labels": "latex"}, ValueError, "edge_labels must be 'value' or 'formula'"),
        ({"edge_labels": "formula", "collapse": "neuron"}, ValueError, "needs collapse=None"),
        ({"paths_from": 3.0}, TypeError, "paths_from must be a Value"),
        ({"highlight": [("x", 0)]}, ValueError, "is no edge"),
    ],
)
def test_explaining_options_refuse_bad_input(kwargs: dict, error: type, message: str) -> None:
    loss = mse_loss(MLP(1, [2, 1], seed=0)([0.5]), [0.1])
    with pytest.raises(error, match=re.escape(message)):
        viz.draw_graph(loss, **kwargs)


def test_viz_nudge_is_explains() -> None:
    x = Value(1.2, label="x")
    n = viz.nudge((x**2).sin(), x, 0.01)
    assert viz.nudge is explain.nudge and abs(n.actual - n.predicted_second_order) < 1e-5


def test_nudge_frames_hold_the_three_numbers_for_every_h(tmp_path) -> None:  # type: ignore[no-untyped-def]
    x = Value(1.2, label="x")
    s = (x**2).sin()
    s.label = "s"
    frames = viz.nudge_frames(s, x, hs=(-0.1, 0.01, 0.5))
    assert [f.data["h"] for f in frames] == [-0.1, 0.01, 0.5]
    for frame in frames:
        n = explain.nudge(s, x, frame.data["h"])
        assert frame.data["actual"] == n.actual and frame.data["predicted"] == n.predicted
        assert viz.format_number(n.predicted_second_order) in frame.caption
        assert frame.svg.count("<rect") == 3
    html = viz.export_html(s, tmp_path / "n.html", nudge=x).read_text(encoding="utf-8")
    assert html.count('class="tge-frame"') == len(viz.DEFAULT_NUDGES)
    with pytest.raises(ValueError, match="at least one step h"):
        viz.nudge_frames(s, x, hs=())


def test_nudge_slider_saves_the_precomputed_page() -> None:
    pytest.importorskip("ipywidgets")
    x = Value(0.5, label="x")
    y = x.exp()
    box = viz.nudge_slider(y, x, hs=(0.1, 1.0))
    bundle = box._repr_mimebundle_()
    assert bundle["text/html"].count('class="tge-frame"') == 2
    box.children[0].value = 1
    assert "h = 1:" in box.children[1].value


def test_explain_backward_can_show_each_products_formula() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    text = viz.explain_backward(e, formulas=True)
    assert "de/da += (∂e/∂a = b = -3) x 1 = -3 (total -3)" in text
    assert text.endswith("Gradients of the leaves: de/da = -3, de/db = 2")
    assert "∂" not in viz.explain_backward(e)
