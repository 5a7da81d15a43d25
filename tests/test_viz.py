"""viz: DOT content of drawings, backprop steps against backward(), rendering, the stepper."""

from __future__ import annotations

import html
import itertools
import math
import os
import re
import subprocess
import sys

import graphviz
import pytest
from hypothesis import given, settings

from tinygrad_edu import viz
from tinygrad_edu.engine import Parameter, Value, dot, topological_order
from tinygrad_edu.nn import MLP, mse_loss
from tinygrad_edu.testing import expressions
from tinygrad_edu.viz import (
    CURRENT_COLOR,
    DEFAULT_MAX_NODES,
    FILL,
    BackpropStep,
    DrawnStep,
    EdgeProduct,
    GraphTooLargeError,
    GraphvizNotFoundError,
    backprop_frames,
    backprop_steps,
    draw_graph,
    drawn_steps,
    explain_backward,
    export_frames,
    export_gif,
    export_html,
    format_matrix,
    format_number,
    gradients_after,
    node_kind,
    print_backprop,
    render,
    render_bytes,
    step_caption,
    step_frames,
    step_through,
)

needs_dot = pytest.mark.skipif(
    viz._renderer() is None, reason="no Graphviz program (graphviz-pure or dot) found"
)


def karpathy_graph() -> tuple[Value, dict[str, Value]]:
    """L = (a*b + c) * f with a=2, b=-3, c=10 (a Parameter), f=-2: the micrograd lecture example.

    By hand: e = -6, d = 4, L = -8; dL/dd = f = -2, dL/df = d = 4, dL/de = dL/dc = -2,
    dL/da = b * -2 = 6, dL/db = a * -2 = -4.
    """
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Parameter(10.0, label="c")
    f = Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, {"a": a, "b": b, "c": c, "e": e, "d": d, "f": f, "L": L}


def shared_graph() -> tuple[Value, dict[str, Value]]:
    """L = ((a*b) + c + (a*b)) * f: e = a*b is used twice, so its gradient arrives in two parts."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Parameter(10.0, label="c")
    f = Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c + e
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, {"a": a, "b": b, "c": c, "e": e, "d": d, "f": f}


def node_line(source: str, node_id: str) -> str:
    """The DOT line that declares node ``node_id``."""
    (line,) = [ln for ln in source.splitlines() if ln.strip().startswith(f"{node_id} [")]
    return line


def mlp_loss(seed: int = 0) -> Value:
    """The mean squared error of ``MLP(2, [16, 16, 1])`` on one sample, after backward()."""
    model = MLP(2, [16, 16, 1], seed=seed)
    loss = mse_loss(model([Value(0.5, label="x0"), Value(-1.2, label="x1")]), 0.3)
    loss.label = "loss"
    loss.backward()
    return loss


# -- numbers and kinds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, text",
    [
        (2.0, "2"),
        (-0.5, "-0.5"),
        (3.14159265, "3.142"),
        (0.001, "0.001"),
        (0.0001234, "1.234e-04"),
        (-0.0001234, "-1.234e-04"),
        (1e-9, "1e-09"),
        (1e9, "1e+09"),
        (123456.0, "1.235e+05"),
        (1234.0, "1234"),
        (0.0, "0"),
        (-0.0, "0"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (5e-324, "4.941e-324"),
    ],
)
def test_format_number(x: float, text: str) -> None:
    assert format_number(x) == text


def test_format_number_digits_and_bad_digits() -> None:
    assert format_number(math.pi, digits=2) == "3.1"
    assert format_number(2.5e-7, digits=2) == "2.5e-07"
    with pytest.raises(ValueError, match="digits"):
        format_number(1.0, digits=0)


def test_node_kind() -> None:
    x = Value(1.0)
    w = Parameter(2.0)
    y = x * 3  # 3 becomes a constant leaf
    assert node_kind(x) == "input"
    assert node_kind(w) == "parameter"
    assert node_kind(y.parents[1]) == "constant"
    assert node_kind(Value(1.0, requires_grad=False)) == "constant"
    assert node_kind(y) == "interior"


# -- the drawing -----------------------------------------------------------------------------------


def test_dot_content_of_a_small_expression() -> None:
    L, _ = karpathy_graph()
    L.backward()
    src = draw_graph(L).source
    # ids by topological position: a, b, e, c, d, f, L
    assert [v.label for v in topological_order(L)] == ["a", "b", "e", "c", "d", "f", "L"]
    assert 'n0 [label="{ a | data 2 | grad 6 }"' in src
    assert 'n1 [label="{ b | data -3 | grad -4 }"' in src
    assert 'n2 [label="{ e | data -6 | grad -2 }"' in src
    assert 'n3 [label="{ c | data 10 | grad -2 }"' in src
    assert 'n6 [label="{ L | data -8 | grad 1 }"' in src
    # each op its own node, feeding its result
    assert 'n2_op [label="×"' in src and "n2_op -> n2" in src
    assert 'n4_op [label="+"' in src and "n4_op -> n4" in src
    # edges carry d out / d in: d(ab)/da = b = -3, d(ab)/db = a = 2, d(df)/dd = f = -2
    assert "n0 -> n2_op [label=-3]" in src
    assert "n1 -> n2_op [label=2]" in src
    assert "n4 -> n6_op [label=-2]" in src
    assert "n5 -> n6_op [label=4]" in src
    # kinds look different: input blue, parameter orange, interior white, output green and bold
    assert f'fillcolor="{FILL["input"]}"' in node_line(src, "n0")
    assert f'fillcolor="{FILL["parameter"]}"' in node_line(src, "n3")
    assert f'fillcolor="{FILL["interior"]}"' in node_line(src, "n2")
    assert f'fillcolor="{FILL["output"]}"' in node_line(src, "n6")
    assert "penwidth=2" in node_line(src, "n6")
    assert "rankdir=LR" in src
    # never Python object ids: every node id is n<k>, n<k>_op (or a legend entry)
    ids = re.findall(r"^\s*(\w+) \[", src, flags=re.M)
    assert ids and all(re.fullmatch(r"n\d+(_op)?", i) for i in ids if i not in ("node", "edge"))


def test_constants_show_no_grad_and_unlabelled_nodes_show_their_id() -> None:
    x = Value(0.5, label="x")
    y = x * 3 + x
    y.backward()
    src = draw_graph(y).source
    # x, 3, x*3, y
    assert 'n1 [label="{ data 3 }"' in src
    assert f'fillcolor="{FILL["constant"]}"' in node_line(src, "n1")
    assert 'n2 [label="{ n2 | data 1.5 | grad 1 }"' in src
    assert 'n3 [label="{ L | data 2 | grad 1 }"' in src  # an unlabelled root is called L
    assert 'n0 [label="{ x | data 0.5 | grad 4 }"' in src


def test_unlabelled_root_is_called_l_in_text_and_drawing() -> None:
    x = Value(0.5, label="x")
    y = x * 3 + x
    text = explain_backward(y)
    assert "step 1: L = n2 + x    (upstream dL/dL = 1)" in text.splitlines()
    assert "  dL/dx += 3 x 1 = 3 (total 4)" in text.splitlines()
    assert backprop_steps(y)[0].name == "L"
    # unless a node already has that label: then the root keeps its id
    z = Value(2.0, label="L") * x
    assert 'n2 [label="{ n2 | data 1 | grad 0 }"' in draw_graph(z).source


def test_op_labels_and_rankdir_tb() -> None:
    x = Value(2.0, label="x")
    y = (x**3 + 2**x - x / 4).tanh() + x.leaky_relu(0.2) + (-x)
    src = draw_graph(y, rankdir="TB").source
    assert "rankdir=TB" in src
    assert '[label="{ x | data 2 | grad 0 }"' in src  # a card: fields top to bottom in TB
    for op_label in ("x^3", "2^x", "÷", "−", "tanh", "leaky_relu(0.2)", "−x"):
        assert re.search(f'label="?{re.escape(op_label)}"? ', src), op_label
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(y, rankdir="RL")


def test_local_grads_can_be_turned_off() -> None:
    L, _ = karpathy_graph()
    src = draw_graph(L, show_local_grads=False).source
    assert not [ln for ln in src.splitlines() if "->" in ln and "label=" in ln]


def test_same_graph_same_dot_text() -> None:
    first = draw_graph(karpathy_graph()[0], legend=True).source
    second = draw_graph(karpathy_graph()[0], legend=True).source
    assert first == second
    loss1, loss2 = mlp_loss(), mlp_loss()
    assert (
        draw_graph(loss1, collapse="neuron").source == draw_graph(loss2, collapse="neuron").source
    )


_DRAW_SCRIPT = """
from tinygrad_edu.engine import Value
from tinygrad_edu.nn import MLP, mse_loss
from tinygrad_edu.viz import draw_graph
x = Value(0.5, label="x")
y = (x * x + x.exp()).tanh() * x
y.backward()
loss = mse_loss(MLP(2, [4, 1], seed=3)([x, y]), 1.0)
loss.backward()
print(draw_graph(y, legend=True).source + draw_graph(loss, max_nodes=1000).source)
"""


def test_same_dot_text_in_fresh_processes() -> None:
    # Different hash seeds and addresses: nothing may depend on id() or set order.
    sources = [
        subprocess.run(
            [sys.executable, "-c", _DRAW_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2)
    ]
    assert sources[0] == sources[1] and "digraph" in sources[0]


def test_record_special_characters_are_escaped() -> None:
    x = Value(1.0, label='a{b}|<c> "q" \\ end')
    src = draw_graph(x).source
    assert r"{ a\{b\}\|\<c\> \"q\" \\ end | data 1 | grad 0 }" in src


@needs_dot
def test_escaped_labels_render_literally() -> None:
    x = Value(1.0, label='a{b}|<c> "q"')
    svg = render_bytes(draw_graph(x), "svg").decode()
    assert "a{b}|&lt;c&gt; &quot;q&quot;" in svg


def test_legend() -> None:
    L, _ = karpathy_graph()
    src = draw_graph(L, legend=True).source
    assert "subgraph cluster_legend" in src
    for text in ("parameter (learned)", "input", "constant (no grad)", "output L", "d out / d in"):
        assert text in src
    assert "neuron" not in src
    assert (
        "neuron: dot + activation" in draw_graph(mlp_loss(), collapse="neuron", legend=True).source
    )


def test_bad_arguments() -> None:
    L, _ = karpathy_graph()
    with pytest.raises(TypeError, match="Value"):
        draw_graph(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="collapse"):
        draw_graph(L, collapse="layer")
    with pytest.raises(ValueError, match="step"):
        draw_graph(L, step=4)
    with pytest.raises(ValueError, match="step"):
        draw_graph(L, step=-1)


# -- large graphs and collapsing neurons -----------------------------------------------------------


def test_too_many_nodes_says_how_to_collapse() -> None:
    loss = mlp_loss()
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(loss)
    message = str(info.value)
    count = int(re.search(r"has (\d+) nodes", message).group(1))
    assert count > DEFAULT_MAX_NODES
    assert f"max_nodes={DEFAULT_MAX_NODES}" in message
    assert 'collapse="neuron"' in message and f"max_nodes={count}" in message
    # the count is what would be drawn: one box per Value, one oval per op
    order = topological_order(loss)
    assert count == len(order) + sum(1 for v in order if v.parents)
    assert draw_graph(loss, max_nodes=count)  # the limit can be raised
    with pytest.raises(GraphTooLargeError):
        draw_graph(loss, max_nodes=count - 1)


def test_mlp_collapsed_fits_on_a_page() -> None:
    loss = mlp_loss()
    src = draw_graph(loss, collapse="neuron").source
    boxes = re.findall(r'^\s*(n\d+) \[label="\{ ([^|"]*)', src, flags=re.M)
    names = [name.strip() for _, name in boxes]
    assert len(boxes) < DEFAULT_MAX_NODES
    # 16 + 16 relu neurons and one linear output neuron, in layer order
    assert [n for n in names if n.startswith("L0.")] == [f"L0.N{j} relu" for j in range(16)]
    assert [n for n in names if n.startswith("L1.")] == [f"L1.N{j} relu" for j in range(16)]
    assert "L2.N0 linear" in names
    assert "{ L0.N3 relu | 2 w + b | data" in src and "{ L1.N0 relu | 16 w + b | data" in src
    # the weights are hidden, the inputs stay
    assert ".w0" not in src and "x0" in src and "x1" in src
    # 2 + 16*16 + 16 edges between inputs, layers and the output neuron, plus the loss part
    into_neurons = [ln for ln in src.splitlines() if re.search(r"n\d+ -> n\d+ \[", ln)]
    assert len(into_neurons) == 2 * 16 + 16 * 16 + 16


def test_collapse_a_hand_built_neuron() -> None:
    w = [Parameter(0.5, label="L0.N0.w0"), Parameter(-1.0, label="L0.N0.w1")]
    b = Parameter(0.1, label="L0.N0.b")
    x = [Value(1.0, label="x0"), Value(2.0, label="x1")]
    out = dot(w, x, bias=b).tanh()  # z = 0.5 - 2 + 0.1 = -1.4
    out.backward()
    src = draw_graph(out, collapse="neuron", show_local_grads=True).source
    t = math.tanh(-1.4)
    assert f'label="{{ L0.N0 tanh | 2 w + b | data {format_number(t)} | grad 1 }}"' in src
    assert "L0.N0.w" not in src and "L0.N0.b" not in src
    # ids: w0 w1 x0 x1 b dot tanh = n0..n6
    # the edge x1 -> neuron carries d tanh(z)/d x1 = (1 - t^2) * w1
    local = format_number((1 - t * t) * -1.0)
    assert re.search(rf"n3 -> n6 \[.*xlabel={local}\]", src)


def test_collapse_keeps_shared_weights_and_needs_a_parameter() -> None:
    w = Parameter(0.5, label="L0.N0.w0")
    x = Value(2.0, label="x")
    z = dot([w], [x])
    y = z.relu() + w * w  # w also used by a weight-decay-like term: it stays visible
    src = draw_graph(y, collapse="neuron").source
    assert "{ L0.N0.w0 | data 0.5" in src
    assert "{ L0.N0 relu | 0 w | data 1" in src
    # unnamed weights: the neuron is called by its drawing id (w0 x z=n2 relu=n3)
    unnamed = dot([Parameter(1.0)], [Value(2.0)]).relu()
    assert "{ n3 relu | 1 w | data 2 | grad 0 }" in draw_graph(unnamed, collapse="neuron").source
    # a dot of plain inputs is not a neuron; an activation whose dot is used twice stays apart
    u, v = Value(1.0, label="u"), Value(2.0, label="v")
    plain = dot([u], [v]).relu()
    assert "label=dot " in draw_graph(plain, collapse="neuron").source
    z2 = dot([Parameter(1.0, label="L1.N0.w0")], [u])
    both = z2.relu() + z2
    src2 = draw_graph(both, collapse="neuron").source
    assert "L1.N0 linear" in src2 and "label=relu " in src2


# -- backprop steps --------------------------------------------------------------------------------


def test_backprop_steps_by_hand() -> None:
    L, n = karpathy_graph()
    steps = backprop_steps(L)
    assert [s.node for s in steps] == [L, n["d"], n["e"]]  # the leaves need no step
    first = steps[0]
    assert isinstance(first, BackpropStep) and first.upstream == 1.0
    assert first.formula == "L = d * f"
    assert [(p.parent, p.local, p.contribution) for p in first.products] == [
        (n["d"], -2.0, -2.0),
        (n["f"], 4.0, 4.0),
    ]
    last = steps[2].products
    assert isinstance(last[0], EdgeProduct)
    assert (last[0].local, last[0].upstream, last[0].contribution, last[0].running_total) == (
        -3.0,
        -2.0,
        6.0,
        6.0,
    )
    assert str(last[0]) == "dL/da += -3 x -2 = 6 (total 6)"
    assert str(steps[1]) == (
        "step 2: d = e + c    (upstream dL/dd = -2)\n"
        "  dL/de += 1 x -2 = -2 (total -2)\n"
        "  dL/dc += 1 x -2 = -2 (total -2)"
    )


def test_running_totals_of_a_shared_node() -> None:
    L, n = shared_graph()
    steps = backprop_steps(L)
    # e gets -2 from d = (e + c) + e first, then -2 more from e + c: total -4
    into_e = [p for s in steps for p in s.products if p.parent is n["e"]]
    assert [(p.contribution, p.running_total) for p in into_e] == [(-2.0, -2.0), (-2.0, -4.0)]
    assert gradients_after(L)[n["a"]] == 12.0  # b * dL/de = -3 * -4


def test_backprop_steps_touch_no_grad() -> None:
    L, n = karpathy_graph()
    nodes = topological_order(L)
    for i, v in enumerate(nodes):
        v.grad = 100.0 + i
    backprop_steps(L, grad=2.0)
    explain_backward(L)
    draw_graph(L, step=2)
    assert [v.grad for v in nodes] == [100.0 + i for i in range(len(nodes))]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(expressions(max_inputs=3, max_ops=12))
def test_last_step_equals_backward_exactly(expr) -> None:
    leaves = expr.leaves()
    root = expr(*leaves)
    for leaf in leaves:
        leaf.grad = 7.0  # left over from an earlier pass: the replay ignores it
    steps = backprop_steps(root, grad=1.5)
    final = gradients_after(root, grad=1.5)
    for leaf in leaves:
        leaf.grad = 0.0
    root.backward(1.5)
    for v in topological_order(root):
        assert final.get(v, 0.0) == v.grad  # bit for bit, not approximately
    # and the running totals are what backward adds up: the last total of each parent is its grad
    last_total = {}
    for step in steps:
        assert step.upstream == step.node.grad
        for p in step.products:
            assert p.contribution == p.local * p.upstream
            last_total[p.parent] = p.running_total
    for v, total in last_total.items():
        assert total == v.grad


def test_a_leaf_root_has_no_steps() -> None:
    x = Value(3.0, label="x")
    assert backprop_steps(x) == []
    assert gradients_after(x, grad=2.0) == {x: 2.0}
    assert 'label="{ x | data 3 | grad 2 }"' in draw_graph(x, step=0, grad=2.0).source


def test_explain_backward_text(capsys: pytest.CaptureFixture[str]) -> None:
    L, _ = karpathy_graph()
    text = explain_backward(L)
    lines = text.splitlines()
    assert lines[0] == (
        "Backward pass of L, seeded with dL/dL = 1: 3 steps, in reverse topological order."
    )
    assert "step 1: L = d * f    (upstream dL/dL = 1)" in lines
    assert "  dL/da += -3 x -2 = 6 (total 6)" in lines
    assert lines[-1] == "Gradients of the leaves: dL/da = 6, dL/db = -4, dL/dc = -2, dL/df = 4"
    print_backprop(L)
    assert capsys.readouterr().out.strip() == text
    # constants receive gradients in backward() but the text leaves them out
    x = Value(0.5, label="x")
    assert "dL/d3" not in explain_backward(x * 3)


def test_step_drawings() -> None:
    L, n = shared_graph()
    # order: a b e c n4=(e+c) d f L  ->  ids n0..n7
    assert [v.label for v in topological_order(L)][:4] == ["a", "b", "e", "c"]
    src0 = draw_graph(L, step=0).source
    assert 'n7 [label="{ L | data 4 | grad 1 }"' in src0  # only the seed is known
    assert 'n0 [label="{ a | data 2 | grad  }"' in src0  # not reached: blank
    assert CURRENT_COLOR not in src0
    # after 2 steps (L, then d): e has one of its two contributions
    src2 = draw_graph(L, step=2).source
    assert 'n2 [label="{ e | data -6 | grad -2 (so far) }"' in src2
    assert 'n5 [label="{ d | data -2 | grad -2 }"' in src2
    assert f'color="{CURRENT_COLOR}"' in node_line(src2, "n5")  # d is the current node
    assert f'n4 -> n5_op [label="1 × -2 = -2" color="{CURRENT_COLOR}"' in src2
    assert 'n6 -> n7_op [label="-2 × 1 = -2"' in src2  # done earlier: the product stays
    assert 'n0 -> n2_op [label="-3 × ?"' in src2  # not yet: local known, upstream not
    # after all steps: the drawing shows the gradients of backward()
    src4 = draw_graph(L, step=4).source
    L.backward()
    for i, v in enumerate(topological_order(L)):
        if node_kind(v) != "constant":
            assert f"grad {format_number(v.grad)} }}" in node_line(src4, f"n{i}")


# -- rendering -------------------------------------------------------------------------------------


@needs_dot
def test_render_svg_and_png(tmp_path) -> None:
    L, _ = karpathy_graph()
    L.backward()
    g = draw_graph(L, legend=True)
    svg_path = render(g, tmp_path / "graph.svg")
    svg = svg_path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    svg = html.unescape(svg)  # dot writes '-' as &#45;
    for text in ("data -8", "grad 6", "×", "-3"):
        assert text in svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]  # no stray DOT file
    png = render(g, tmp_path / "graph.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    big = render_bytes(g, "png", dpi=192)
    width = int.from_bytes(png[16:20], "big")
    assert int.from_bytes(big[16:20], "big") == pytest.approx(2 * width, rel=0.05)
    with pytest.raises(ValueError, match="format"):
        render(g, tmp_path / "noext")


def test_missing_dot_says_how_to_install(monkeypatch, tmp_path) -> None:
    import sysconfig

    L, _ = karpathy_graph()
    g = draw_graph(L)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot anywhere
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path))  # nor a bundled one
    with pytest.raises(GraphvizNotFoundError) as info:
        render(g, tmp_path / "g.svg")
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "conda install graphviz" in message and "graph.source" in message
    assert "digraph" in g.source  # the DOT text is still there
    # a notebook shows the message and the DOT text instead of a traceback
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and "digraph" in bundle["text/plain"]


def test_renders_with_no_system_dot(monkeypatch, tmp_path) -> None:
    L, _ = karpathy_graph()
    monkeypatch.setenv("PATH", str(tmp_path))  # the bundled graphviz-pure still renders
    svg = render_bytes(draw_graph(L), "svg")
    assert b"<svg" in svg and b"graphviz-pure" in svg
    assert not (tmp_path / "g.svg").exists()


@needs_dot
def test_all_frames_render(tmp_path) -> None:
    L, _ = shared_graph()
    frames = backprop_frames(L, legend=True)
    assert len(frames) == len(backprop_steps(L)) + 1 == 5
    paths = export_frames(L, tmp_path / "frames")
    assert [p.name for p in paths] == [f"frame_{k:03d}.svg" for k in range(5)]
    assert all("<svg" in p.read_text() for p in paths)


@needs_dot
def test_export_gif(tmp_path) -> None:
    image = pytest.importorskip("PIL.Image")
    L, _ = karpathy_graph()
    path = export_gif(L, tmp_path / "backprop.gif", duration_ms=500)
    with image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4


# -- the notebook stepper --------------------------------------------------------------------------


def test_step_through_without_ipywidgets(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import now raises ImportError
    L, _ = karpathy_graph()
    frames = step_through(L)
    assert isinstance(frames, list) and len(frames) == 4
    assert all(isinstance(f, graphviz.Digraph) for f in frames)
    assert frames[2].source == draw_graph(L, step=2).source


@needs_dot
def test_step_through_with_ipywidgets() -> None:
    widgets = pytest.importorskip("ipywidgets")
    L, _ = karpathy_graph()
    box = step_through(L)
    slider, caption, picture = box.children  # the step's text above the drawing
    assert isinstance(slider, widgets.IntSlider) and (slider.min, slider.max) == (0, 3)
    assert "<svg" in picture.value and "step 0" in caption.value
    slider.value = 3
    assert "step 3: e = a * b" in caption.value
    assert "dL/da += -3 x -2 = 6 (total 6)" in caption.value
    assert "grad 6" in picture.value


def test_format_matrix_aligns_columns_and_names_the_first_row() -> None:
    text = format_matrix([[1.0, -0.5], [2.25, 0.0]], name="A")
    assert text.splitlines() == ["A = [    1  -0.5 ]", "    [ 2.25     0 ]"]
    assert format_matrix([[math.pi, 1e-9]], digits=3) == "[ 3.14  1e-09 ]"


@pytest.mark.parametrize(
    "rows, message",
    [([], "at least one row"), ([[]], "at least one row"), ([[1.0], [1.0, 2.0]], "row 1 has 2")],
)
def test_format_matrix_rejects_ragged_or_empty(rows: list, message: str) -> None:
    with pytest.raises(ValueError, match="format_matrix") as info:
        format_matrix(rows)
    assert message in str(info.value)


def test_legend_names_the_output_as_the_drawing_does() -> None:
    x = Value(0.5, label="x")
    o = x.tanh()
    o.label = "o"
    src = draw_graph(o, legend=True).source
    assert "output o" in src and "output L" not in src
    assert "output L" in draw_graph(x.tanh(), legend=True).source  # unlabelled root: L


def test_drawing_text_form_has_no_memory_address() -> None:
    a = Value(2.0, label="a")
    out = (a * a).tanh()
    out.backward()
    g = draw_graph(out)
    assert isinstance(g, graphviz.Digraph)
    assert repr(g) == "<computation graph drawing: 3 values; render(graph, 'g.svg') writes it>"
    assert "step 1 of 2" in repr(draw_graph(out, step=1))
    assert " at 0x" not in repr(g) and " at 0x" not in repr(g.copy())


# -- stepping over a collapsed drawing, the saved stepper ----------------------------------------


def _can_render() -> bool:
    try:
        render_bytes(graphviz.Digraph(), "svg")
    except (GraphvizNotFoundError, RuntimeError):
        return False
    return True


needs_renderer = pytest.mark.skipif(not _can_render(), reason="no Graphviz renderer")


def drawn_grads(source: str) -> dict[str, str]:
    """``{node id: the text after 'grad '}`` for every record box of a drawing's DOT text."""
    grads = {}
    for node_id, label in re.findall(r'^\s*(n\d+) \[label="\{ (.*?) \}"', source, flags=re.M):
        for part in label.split(" | "):
            if part.startswith("grad"):
                grads[node_id] = part[len("grad") :].strip()
    return grads


def small_mlp_loss() -> Value:
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    loss = mse_loss(model([Value(0.5, label="x0"), Value(-1.0, label="x1")]), 0.3)
    loss.label = "J"
    return loss


@pytest.mark.parametrize("collapse", [None, "neuron"])
def test_drawn_steps_cover_the_backward_pass_in_order(collapse: str | None) -> None:
    loss = small_mlp_loss()
    steps = backprop_steps(loss)
    drawn = drawn_steps(loss, collapse=collapse)
    assert all(isinstance(d, DrawnStep) for d in drawn)
    covered = [s.node for d in drawn for s in d.steps]
    assert covered == [s.node for s in steps]  # every backward step once, in its order
    assert [d.done for d in drawn] == list(itertools.accumulate(len(d.steps) for d in drawn))
    assert [d.index for d in drawn] == list(range(1, len(drawn) + 1))
    if collapse is None:
        assert len(drawn) == len(steps)
    else:
        # 3 tanh neurons of two backward steps each (activation, then dot), the rest one each
        assert sorted(len(d.steps) for d in drawn).count(2) == 3
        assert {d.name for d in drawn if len(d.steps) == 2} == {"L0.N0", "L0.N1", "L0.N2"}


def test_collapsed_step_drawings_show_the_gradients_reached() -> None:
    loss = small_mlp_loss()
    drawn = drawn_steps(loss, collapse="neuron")
    order = topological_order(loss)
    first = draw_graph(loss, collapse="neuron", step=0).source
    boxes = set(drawn_grads(first))
    for k in range(len(drawn) + 1):
        done = drawn[k - 1].done if k else 0
        reached = gradients_after(loss, done)
        src = draw_graph(loss, collapse="neuron", step=k).source
        grads = drawn_grads(src)
        assert set(grads) == boxes
        for node_id, text in grads.items():
            v = order[int(node_id[1:])]
            if v not in reached:
                assert text == ""  # not reached yet: blank
            else:
                assert text.split(" ")[0] == format_number(reached[v])
        if k:  # the node of the step is the red one
            current = f"n{order.index(drawn[k - 1].node)}"
            assert CURRENT_COLOR in node_line(src, current)
    # the last drawing shows what backward() leaves
    loss.backward()
    last = drawn_grads(draw_graph(loss, collapse="neuron", step=len(drawn)).source)
    assert last == drawn_grads(draw_graph(loss, collapse="neuron").source)


def test_a_neuron_box_gets_its_gradient_when_the_pass_reaches_it() -> None:
    loss = small_mlp_loss()
    drawn = drawn_steps(loss, collapse="neuron")
    order = topological_order(loss)
    k = next(d.index for d in drawn if d.name == "L0.N0")
    box = f"n{order.index(drawn[k - 1].node)}"
    # its gradient arrived with the output neuron's step, before its own step
    arrival = next(d.index for d in drawn if d.name == "L1.N0")
    assert arrival < k
    for j in range(len(drawn) + 1):
        text = drawn_grads(draw_graph(loss, collapse="neuron", step=j).source)[box]
        assert (text != "") == (j >= arrival)
    # on its own step its edges from the inputs carry local x upstream = contribution
    src = draw_graph(loss, collapse="neuron", step=k, show_local_grads=True).source
    into = [ln for ln in src.splitlines() if f"-> {box} [" in ln]
    assert len(into) == 2 and all(CURRENT_COLOR in ln and " = " in ln for ln in into)


def test_step_caption_of_a_collapsed_neuron_names_its_two_steps() -> None:
    loss = small_mlp_loss()
    drawn = drawn_steps(loss, collapse="neuron")
    k = next(d.index for d in drawn if d.name == "L0.N1")
    text = step_caption(loss, k, collapse="neuron")
    first, *rest = text.splitlines()
    done = drawn[k - 1].done
    assert first == (
        f"drawn step {k} of {len(drawn)}: L0.N1 (backward steps {done - 1}-{done} of "
        f"{len(backprop_steps(loss))})"
    )
    assert rest[0].startswith(f"step {done - 1}: L0.N1 = tanh(L0.N1.z)")
    assert any(ln.startswith(f"step {done}: L0.N1.z = L0.N1.w0*x0") for ln in rest)
    assert step_caption(loss, 0) == "step 0: nothing done yet; the seed dJ/dJ = 1"
    with pytest.raises(ValueError, match="step"):
        step_caption(loss, len(drawn) + 1, collapse="neuron")


def test_the_too_large_error_suggests_a_call_that_works() -> None:
    loss = mlp_loss()
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(loss)
    suggestion = re.search(r'pass collapse="neuron"(, max_nodes=(\d+))? ', str(info.value))
    assert suggestion is not None
    kwargs: dict = {"collapse": "neuron"}
    if suggestion.group(2):
        kwargs["max_nodes"] = int(suggestion.group(2))
    assert draw_graph(loss, **kwargs)
    n = len(drawn_steps(loss, collapse="neuron"))
    assert draw_graph(loss, step=n, **kwargs)  # stepping works on it too
    pytest.importorskip("ipywidgets")
    box = step_through(loss, static=False, **kwargs)
    box.children[0].value = n
    assert "drawn step" in box.children[1].value
    # a graph that collapsing would not shrink enough gets the max_nodes it needs
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(loss, max_nodes=10)
    needed = int(re.search(r'collapse="neuron", max_nodes=(\d+)', str(info.value)).group(1))
    assert draw_graph(loss, collapse="neuron", max_nodes=needed)
    with pytest.raises(GraphTooLargeError):
        draw_graph(loss, collapse="neuron", max_nodes=needed - 1)


def test_no_collapse_hint_when_there_are_no_neurons() -> None:
    x = Value(1.0, label="x")
    y = sum((x * i for i in range(1, 60)), Value(0.0))
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(y, max_nodes=50)
    assert "collapse" not in str(info.value)


@needs_renderer
@pytest.mark.parametrize("collapse", [None, "neuron"])
def test_step_frames_carry_the_drawn_gradients(collapse: str | None) -> None:
    loss = small_mlp_loss()
    frames = step_frames(loss, collapse=collapse)
    drawn = drawn_steps(loss, collapse=collapse)
    order = topological_order(loss)
    assert len(frames) == len(drawn) + 1
    for k, frame in enumerate(frames):
        done = drawn[k - 1].done if k else 0
        reached = gradients_after(loss, done)
        grads = {order[int(i[1:])]: g for i, g in frame.data["grads"].items()}
        assert grads and all(grads[v] == reached[v] for v in grads)  # the same floats
        assert frame.caption == step_caption(loss, k, collapse=collapse)
        assert frame.node == (f"n{order.index(drawn[k - 1].node)}" if k else None)
        assert frame.svg.startswith("<svg")
        # what the SVG shows is what the DOT says
        for text in drawn_grads(draw_graph(loss, step=k, collapse=collapse).source).values():
            if text:
                assert f">grad {html.escape(text)}<" in frame.svg.replace("&#45;", "-")


@needs_renderer
def test_export_html_writes_one_page_with_every_step(tmp_path) -> None:
    L, _ = karpathy_graph()
    path = export_html(L, tmp_path / "out" / "backprop.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<figure class="tge-frame"') == len(backprop_steps(L)) + 1
    assert page.count("<svg") == len(backprop_steps(L)) + 1
    # nothing from the network: no external script, style sheet, font or image
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "@import" not in page and "<link" not in page and "url(http" not in page
    assert html.escape("step 3: e = a * b") in page
    # the same graph, the same file
    assert export_html(L, tmp_path / "again.html").read_text(encoding="utf-8") == page
    with pytest.raises(TypeError, match="export_html"):
        export_html(3.0, tmp_path / "x.html")  # type: ignore[arg-type]


@needs_renderer
def test_step_through_saves_a_page_and_a_strip_for_no_kernel() -> None:
    pytest.importorskip("ipywidgets")
    image = pytest.importorskip("PIL.Image")
    import base64
    import io

    loss = small_mlp_loss()
    box = step_through(loss, collapse="neuron")
    slider, caption, picture = box.children
    n = len(drawn_steps(loss, collapse="neuron"))
    assert slider.max == n
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live: the widget
    assert bundle["text/plain"] == f"<backward pass stepper: {n} steps of J>"
    assert bundle["text/html"].count('<figure class="tge-frame"') == n + 1
    assert box._repr_mimebundle_()["text/html"] == bundle["text/html"]  # built once, stable
    with image.open(io.BytesIO(base64.b64decode(bundle["image/png"]))) as strip:
        one = image.open(io.BytesIO(render_bytes(draw_graph(loss, collapse="neuron"), "png")))
        assert strip.height > (n + 1) * one.height  # every frame, one below the other
    live = step_through(loss, static=False, collapse="neuron")
    no_static = live._repr_mimebundle_()
    assert "text/html" not in no_static and "image/png" not in no_static
    # the live slider, with and without the saved page: each move shows that step's drawing, the
    # bare SVG in a widget box as wide as the output (no margin) that scrolls inside
    for stepper in (box, live):
        slider, caption, picture = stepper.children
        layout = picture.layout
        assert (layout.width, layout.margin, layout.overflow) == ("100%", "0", "auto")
        assert layout.max_height == "80vh"
        for k in (n, 2, 0):
            slider.value = k
            assert f"step {k}" in caption.value
            drawing = render_bytes(draw_graph(loss, step=k, collapse="neuron"), "svg").decode()
            assert picture.value == drawing[drawing.find("<svg") :]


def test_notebook_output_carries_png_beside_svg() -> None:
    import base64

    L, _ = karpathy_graph()
    bundle = draw_graph(L)._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") or "<svg" in bundle["image/svg+xml"]
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert "0x" not in bundle["text/plain"]  # no memory address in the saved text form


def test_a_format_the_renderer_cannot_write_names_those_it_can(monkeypatch, tmp_path) -> None:
    L, _ = karpathy_graph()
    monkeypatch.setenv("PATH", str(tmp_path))  # only the bundled graphviz-pure is left
    with pytest.raises(RuntimeError, match="pdf") as info:
        render_bytes(draw_graph(L), "pdf")
    assert "svg" in str(info.value) and "png" in str(info.value)
    assert not isinstance(info.value, GraphvizNotFoundError)
