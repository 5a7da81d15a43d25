"""tinygrad_edu.compile: both backends against the eager engine, and what a trace refuses.

The python backend must give the eager numbers bit for bit (``==``), the numpy backend to 1e-12.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

import tinygrad_edu
from tinygrad_edu import Parameter, Value, compiler, custom_op, nn, ops
from tinygrad_edu.bench import moons_problem
from tinygrad_edu.compiler import TraceError, numpy_backend, tracing
from tinygrad_edu.testing import expressions

BACKENDS = ("python", "numpy")


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def agree(backend: str, a: list[float], b: list[float]) -> bool:
    if backend == "python":
        return a == b
    return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))


def test_compile_is_exported_from_the_package():
    assert tinygrad_edu.compile is compiler.compile


# -- random graphs ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=60, deadline=None)
@given(expr=expressions(max_inputs=3, max_ops=12))
def test_random_graph_matches_eager(backend, expr):
    eager_leaves = expr.leaves()
    root = expr(*eager_leaves)
    root.backward()

    params = expr.leaves()
    step = tinygrad_edu.compile(lambda: expr(*params), params, backend=backend)
    loss = step()
    assert agree(backend, [loss], [root.data])
    assert agree(backend, [p.grad for p in params], [p.grad for p in eager_leaves])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=30, deadline=None)
@given(expr=expressions(min_inputs=2, max_inputs=3, max_ops=10))
def test_random_graph_with_an_input_matches_eager_at_new_inputs(backend, expr):
    """The first leaf is data (an input): a second call at another input replays, not re-traces."""
    params = expr.leaves()[1:]
    step = tinygrad_edu.compile(lambda x: expr(x, *params), params, backend=backend)
    try:
        step(expr.inputs[0])
    except TraceError as e:  # x1 ** x0: the engine takes a constant exponent as a number
        assert "to the power of an input" in str(e)
        return
    for p in params:
        p.grad = 0.0
    x = expr.inputs[0] * 0.5 if abs(expr.inputs[0]) >= 0.2 else expr.inputs[0]
    loss = step(x)
    eager_params = expr.leaves()[1:]
    try:
        root = expr(Value(x, requires_grad=False), *eager_params)
    except (ValueError, ZeroDivisionError, OverflowError):
        return  # the new input is outside an op's domain: eager refuses, nothing to compare
    root.backward()
    if not all(map(math.isfinite, [root.data, *(p.grad for p in eager_params)])):
        return
    assert step.traces == 1
    assert agree(backend, [loss], [root.data])
    assert agree(backend, [p.grad for p in params], [p.grad for p in eager_params])


# -- an MLP over several SGD steps, with ReLUs flipping ----------------------------------------


def _moons_loss(model: nn.MLP):
    def loss(X, y):
        scores = model.forward_batch(X)
        return nn.hinge_loss(scores, y) + nn.l2_penalty(model.parameters(), 1e-4)

    return loss


def _relu_pattern(model: nn.MLP, X) -> list[bool]:
    pattern = []
    for x in X:
        h = [Value(v, requires_grad=False) for v in x]
        for layer in model.layers[:-1]:
            h = layer(h)
            pattern.extend(v.data > 0.0 for v in h)
    return pattern


@pytest.mark.parametrize("backend", BACKENDS)
def test_mlp_sgd_steps_match_eager_while_relus_flip(backend):
    X, y = moons_problem(30, seed=1)
    eager_model = nn.MLP(2, [8, 8, 1], seed=3)
    model = nn.MLP(2, [8, 8, 1], seed=3)
    step = tinygrad_edu.compile(_moons_loss(model), model.parameters(), backend=backend)
    eager_loss_fn = _moons_loss(eager_model)
    flips = 0
    for _ in range(6):
        before = _relu_pattern(model, X)
        eager_model.zero_grad()
        eager = eager_loss_fn(X, y)
        eager.backward()
        model.zero_grad()
        loss = step(X, y)
        assert agree(backend, [loss], [eager.data])
        grads = [p.grad for p in model.parameters()]
        assert agree(backend, grads, [p.grad for p in eager_model.parameters()])
        for m in (model, eager_model):
            for p in m.parameters():
                p.data -= 0.5 * p.grad
        flips += sum(a != b for a, b in zip(before, _relu_pattern(model, X)))
        if backend == "numpy":  # keep the two runs at the same point, so rounding cannot grow
            for p, q in zip(model.parameters(), eager_model.parameters()):
                p.data = q.data
    assert flips > 0
    assert step.traces == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_accumulate_as_backward_does(backend):
    w = Parameter(1.5)
    step = tinygrad_edu.compile(lambda x: (w * x).tanh(), [w], backend=backend)
    step(2.0)
    once = w.grad
    step(2.0)
    assert agree(backend, [w.grad], [once + once])


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_input_shape_traces_once(backend):
    w = Parameter(0.5)
    step = tinygrad_edu.compile(lambda xs: Value.sum([w * x for x in xs]), [w], backend=backend)
    assert step([1.0, 2.0]) == pytest.approx(1.5)
    assert step([3.0, 4.0]) == pytest.approx(3.5)
    assert step.traces == 1
    assert step([1.0, 2.0, 3.0]) == pytest.approx(3.0)
    assert step.traces == 2


def test_nested_inputs_with_the_same_count_are_different_shapes():
    w = Parameter(2.0)

    def fn(a, b):
        return w * Value.sum([*_leaves(a), *_leaves(b)])

    step = tinygrad_edu.compile(fn, [w])
    step([1.0, [2.0]], 3.0)
    step([[1.0], 2.0], 3.0)
    assert step.traces == 2


@pytest.mark.parametrize(
    "rows",
    [[[1.0, 2], [3.0, 4.0]], [[1.0], [2.0, 3.0]], [[1.0, 2.0], (3.0, 4.0)], [[], []], [[True]]],
    ids=["batch", "ragged", "a tuple row", "empty rows", "a bool"],
)
def test_a_batch_flattens_as_its_rows_one_by_one(rows):
    """flatten's shortcut for rows of numbers of one length gives the general path's key."""
    key, found = tracing.flatten([rows, 5])
    expected_key = [2, len(rows)]
    for row in rows:
        expected_key += [len(row)] + [-1] * len(row)
    assert key == (*expected_key, -1)
    assert found == [float(x) for row in rows for x in row] + [5.0]
    assert all(type(x) is float for x in found)


def _leaves(x):
    return [v for item in x for v in _leaves(item)] if isinstance(x, list) else [x]


def test_unused_parameters_keep_their_gradient():
    w, unused = Parameter(1.0), Parameter(2.0)
    unused.grad = 7.0
    step = tinygrad_edu.compile(lambda: w * 3.0, [w, unused])
    step()
    assert (w.grad, unused.grad) == (3.0, 7.0)


def test_source_is_the_chain_rule_written_out():
    w = Parameter(0.5, label="w")
    step = tinygrad_edu.compile(lambda x: (w * x).tanh(), [w])
    with pytest.raises(AttributeError, match="nothing is compiled"):
        _ = step.source
    step(2.0)
    source = step.source
    assert "def step(P, X):" in source
    assert "tanh" in source and "d_w = " in source
    numpy_step = tinygrad_edu.compile(lambda x: w * x, [w], backend="numpy")
    with pytest.raises(AttributeError, match="numpy backend"):
        _ = numpy_step.source


# -- what a trace refuses --------------------------------------------------------------------


def test_a_python_branch_on_a_parameter_dependent_value_names_the_line():
    w = Parameter(1.0)

    def fn(x):
        z = w * x
        if z > 0:  # the line the error must name
            return z
        return -z

    step = tinygrad_edu.compile(fn, [w])
    with pytest.raises(TraceError, match=r"test_compiler\.py:\d+.*piecewise op"):
        step(2.0)
    assert type(w) is Parameter  # the parameter is itself again after the failed trace


@pytest.mark.parametrize(
    "read",
    [
        lambda z: float(z),
        lambda z: z.data,
        lambda z: z.item(),
        lambda z: bool(z),
        lambda z: max([z, z * 2.0]),
    ],
    ids=["float", "data", "item", "bool", "max"],
)
def test_reading_the_data_of_a_parameter_dependent_value_is_refused(read):
    w = Parameter(1.0)

    def fn(x):
        z = w * x
        read(z)
        return z

    with pytest.raises(TraceError, match=r"test_compiler\.py:\d+ reads the data"):
        tinygrad_edu.compile(fn, [w])(2.0)


def test_the_data_of_inputs_and_constants_may_be_read():
    w = Parameter(1.0)

    def fn(x):
        assert x.data == 2.0 and float(x) == 2.0  # an input: data, not a parameter's function
        return w * x

    assert tinygrad_edu.compile(fn, [w])(2.0) == 2.0


def test_a_value_that_needs_a_gradient_must_be_in_params():
    w, free = Parameter(1.0), Value(2.0)
    with pytest.raises(TraceError, match="not in params"):
        tinygrad_edu.compile(lambda: w * free, [w])()


def test_a_custom_op_is_refused():
    """Its forward is the user's own code, not recorded: a replay cannot recompute it."""
    w = Parameter(1.0)

    def fn(x):
        return w * custom_op("cube", x.data**3, (x,), (3 * x.data**2,))

    with pytest.raises(TraceError, match="custom op 'cube'"):
        tinygrad_edu.compile(fn, [w])(2.0)
    # on a parameter, reading its data for the forward is refused first
    with pytest.raises(TraceError, match="reads the data"):
        tinygrad_edu.compile(lambda: custom_op("cube", w.data**3, (w,), (3.0,)), [w])()


def test_bad_arguments_name_the_argument():
    w = Parameter(1.0)
    with pytest.raises(TypeError, match="fn must be callable"):
        tinygrad_edu.compile(3.0, [w])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"params\[1\] is float"):
        tinygrad_edu.compile(lambda: w, [w, 2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="params must be a list"):
        tinygrad_edu.compile(lambda: w, w)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="backend must be one of"):
        tinygrad_edu.compile(lambda: w, [w], backend="cuda")
    step = tinygrad_edu.compile(lambda x: [w * x], [w])
    with pytest.raises(TypeError, match="one scalar Value, got list"):
        step(1.0)
    step = tinygrad_edu.compile(lambda x: w * x[0], [w])
    with pytest.raises(TypeError, match=r"input 0\[1\] is str"):
        step([1.0, "2"])


def test_the_python_backend_refuses_a_huge_graph(monkeypatch):
    monkeypatch.setattr(compiler, "MAX_PYTHON_EDGES", 10)
    w = Parameter(1.0)
    step = tinygrad_edu.compile(lambda xs: Value.sum([w * x for x in xs]), [w])
    with pytest.raises(ValueError, match='backend="numpy"'):
        step([1.0] * 20)
    numpy_step = tinygrad_edu.compile(lambda xs: Value.sum([w * x for x in xs]), [w], "numpy")
    assert numpy_step([1.0] * 20) == 20.0


def test_the_source_of_a_small_regressor_reads_as_the_chain_rule():
    """Section 3: names from labels and arguments, one line per product with its op, folded."""
    model = nn.MLP(1, [2, 1], seed=0)

    def loss(x, t):
        return nn.mse_loss([model(x)], [t])

    step = tinygrad_edu.compile(loss, model.parameters())
    assert step(0.5, 1.0) == loss(0.5, 1.0).data
    lines = [line.strip() for line in step.source.splitlines()]
    assert "(x, t) = X" in lines
    assert "(L0_N0_w0, L0_N0_b, L0_N1_w0, L0_N1_b, L1_N0_w0, L1_N0_w1, L1_N0_b) = P" in lines
    assert "relu1 = 0.0 if dot1 <= 0.0 else dot1  # relu" in lines
    assert "e = dot3 - t  # -" in lines
    # d loss / d e = 2 e: the mean over one sample and the sum fold into the constant 1
    assert "d_e = 2.0 * e  # **: d x^n/dx = n x^(n-1)" in lines
    assert any(line.startswith("d_L1_N0_w0 = relu1 * d_dot3  # dot") for line in lines)
    assert "d_dot1 = (0.0 if dot1 <= 0.0 else 1.0) * d_relu1" in " ".join(lines)
    assert "d_L0_N0_w0 = x * d_dot1" in " ".join(lines)
    assert len(lines) < 40


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_sum_of_inf_and_minus_inf_is_nan_as_in_eager(backend):
    """math.fsum raises at inf - inf; the python backend then runs its careful twin."""
    w1, w2 = Parameter(1e308), Parameter(-1e308)
    eager = tinygrad_edu.dot([w1, w2], [Value(10.0), Value(10.0)])
    step = tinygrad_edu.compile(lambda x: tinygrad_edu.dot([w1, w2], [x, x]), [w1, w2], backend)
    assert math.isnan(eager.data) and math.isnan(step(10.0))
    assert step(1.0) == 0.0  # finite again: the fast path


def test_a_step_called_under_no_grad_still_traces_the_graph():
    w = Parameter(3.0)
    step = tinygrad_edu.compile(lambda x: w * x, [w])
    with tinygrad_edu.no_grad():
        assert step(2.0) == 6.0
    assert w.grad == 2.0
    assert step(5.0) == 15.0  # the input is data, not a constant of the trace


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda w, x: (w * x).detach() * w, "detach"),
        (lambda w, x: Value(w * x) * w, "Value"),
        (lambda w, x: w * (x if x > 0 else -x), "depends on the inputs"),
    ],
    ids=["detach", "Value(v)", "branch on an input"],
)
def test_what_would_freeze_a_number_of_the_trace_is_refused(fn, message):
    w = Parameter(1.0)
    with pytest.raises(TraceError, match=message):
        tinygrad_edu.compile(lambda x: fn(w, x), [w])(2.0)


def test_no_grad_inside_fn_is_refused():
    w = Parameter(1.0)

    def fn(x):
        with tinygrad_edu.no_grad():
            scale = w * 2.0
        return scale * w * x

    with pytest.raises(TraceError, match=r"test_compiler\.py:\d+ computes under no_grad"):
        tinygrad_edu.compile(fn, [w])(2.0)


# -- the numpy backend's two ways to a local derivative ---------------------------------------

# (op, fan-in, constant argument) for every op of ops.OPS
_OP_SHAPES = [
    *((op, 1, None) for op in ("neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu")),
    *((op, 1, None) for op in ("sin", "cos", "softplus")),
    *((op, 2, None) for op in ("+", "-", "*", "/", "pow")),
    ("**", 1, 3.0),
    ("**", 1, 1.0),
    ("**", 1, 0.0),
    ("c**x", 1, 2.0),
    ("leaky_relu", 1, 0.1),
    ("huber", 1, 1.0),
    ("==", 1, 2.0),
    ("sum", 4, None),
    ("max_shift", 3, None),
    ("dot", 4, None),
    ("dot", 5, None),
]


def test_every_op_of_ops_has_a_shape_in_this_table():
    assert {op for op, _, _ in _OP_SHAPES} == set(ops.OPS)


@pytest.mark.parametrize(("op", "k", "arg"), _OP_SHAPES, ids=lambda x: repr(x))
def test_a_rule_read_as_a_gather_gives_the_rule_on_numbers(op, k, arg):
    """A rule that only returns its inputs, its output or numbers becomes a gather of values
    (numpy_backend._gathered_rule); read that way it must give what the rule gives on floats."""
    forward, rule, _, has_arg = ops.OPS[op]
    inputs = [0.3 + 0.4 * j for j in range(k)]
    extra = (arg,) if has_arg else ()
    out = forward(*ops.rule_args(op, inputs), *extra)
    expected = list(rule(out, *ops.rule_args(op, inputs), *extra))
    gathered = numpy_backend._gathered_rule(op, k, arg)
    if gathered is None:  # a rule that computes: it runs on each step's arrays instead
        return

    def read(d):
        if isinstance(d, float):
            return d
        return out if d.position == numpy_backend.OUTPUT else inputs[d.position]

    assert [read(d) for d in gathered] == expected


def test_which_rules_the_numpy_backend_reads_as_gathers():
    def positions(op, k, arg=None):
        found = numpy_backend._gathered_rule(op, k, arg)
        return None if found is None else [getattr(d, "position", d) for d in found]

    assert positions("*", 2) == [1, 0]  # d(ab)/da = b, d(ab)/db = a
    assert positions("dot", 5) == [2, 3, 0, 1, 1.0]  # (w0, w1, x0, x1, b): x, w, then 1
    assert positions("exp", 1) == [-1]  # e^x: the output
    assert positions("-", 2) == [1.0, -1.0]
    assert positions("**", 1, 1.0) == [1.0]
    assert positions("**", 1, 2.0) is None  # 2 x: computed
    assert positions("relu", 1) is None  # where(x <= 0, ...): a comparison of its input
