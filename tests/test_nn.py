"""Tests of tinygrad_edu.nn: modules, initialisation, state files and losses."""

import json
import math
import random

import pytest

from tinygrad_edu.engine import Parameter, Value, no_grad, topological_order
from tinygrad_edu.gradcheck import gradcheck
from tinygrad_edu.nn import (
    MLP,
    Layer,
    Module,
    Neuron,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    huber_loss,
    l2_penalty,
    mae_loss,
    mse_loss,
    softmax,
)

# -- structure -----------------------------------------------------------------------------------


def test_course_regressor_structure_and_names():
    model = MLP(1, [16, 1])
    assert repr(model) == "MLP(1 -> [16 relu] -> 1)"
    names = [name for name, _ in model.named_parameters()]
    # 16 hidden neurons (w0, b) + 1 output neuron (16 weights, b) = 32 + 17
    assert len(names) == len(model.parameters()) == model.num_parameters() == 49
    assert names[:4] == ["L0.N0.w0", "L0.N0.b", "L0.N1.w0", "L0.N1.b"]
    assert names[-2:] == ["L1.N0.w15", "L1.N0.b"]
    assert len(set(names)) == 49
    for name, p in model.named_parameters():
        assert isinstance(p, Parameter) and p.label == name
    assert list(model.state_dict()) == names


def test_reprs():
    assert repr(MLP(2, [16, 16, 1])) == "MLP(2 -> [16 relu, 16 relu] -> 1)"
    assert repr(MLP(3, [4, 2], activation="tanh")) == "MLP(3 -> [4 tanh] -> 2)"
    assert repr(MLP(3, [2])) == "MLP(3 -> 2)"
    assert repr(Layer(3, 4)) == "Layer(3 -> 4, relu)"
    assert repr(Neuron(3, "tanh")) == "Neuron(3, tanh)"


def test_neuron_is_one_dot_node_and_one_activation_node():
    n = Neuron(3, "relu", seed=1)
    x = [Value(0.5), Value(-1.0), Value(2.0)]
    out = n(x)
    assert out.op == "relu"
    (pre,) = out.parents
    assert pre.op == "dot"
    assert pre.parents == (*n.w, *x, n.b)
    lin = Neuron(3, "linear", seed=1)(x)
    assert lin.op == "dot"


def test_neuron_closed_form():
    n = Neuron(2, "tanh", seed=0)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -2.0, 0.25
    assert n([1.0, 3.0]).data == pytest.approx(math.tanh(0.5 - 6.0 + 0.25))
    n.activation = "sigmoid"
    assert n([1.0, 0.0]).data == pytest.approx(1.0 / (1.0 + math.exp(-0.75)))


def test_neuron_names_standalone_and_in_layer():
    assert [name for name, _ in Neuron(2).named_parameters()] == ["w0", "w1", "b"]
    assert [p.label for p in Neuron(2).parameters()] == ["w0", "w1", "b"]
    assert [name for name, _ in Layer(1, 2).named_parameters()] == [
        "N0.w0",
        "N0.b",
        "N1.w0",
        "N1.b",
    ]


def test_layer_always_returns_a_list():
    out = Layer(2, 1)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)


def test_hidden_layer_of_width_one_works_and_backprops():
    # micrograd's Layer returns a bare Value when nout == 1 and the next layer breaks on it
    model = MLP(1, [1, 1], seed=3)
    model.layers[0].neurons[0].w[0].data = 1.0
    model.layers[0].neurons[0].b.data = 0.5
    model.layers[1].neurons[0].w[0].data = -2.0
    model.layers[1].neurons[0].b.data = 0.1
    out = model([1.0])
    assert isinstance(out, Value)
    assert out.data == pytest.approx(-2.0 * 1.5 + 0.1)
    out.backward()
    assert model.layers[0].neurons[0].w[0].grad == pytest.approx(-2.0)  # v * relu' * x
    assert model.layers[1].neurons[0].w[0].grad == pytest.approx(1.5)  # h


def test_mlp_outputs_value_or_list_and_output_layer_is_linear():
    assert isinstance(MLP(2, [3, 1])([1.0, 2.0]), Value)
    out = MLP(2, [3, 2])([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2
    model = MLP(2, [4, 4, 1], activation="tanh")
    assert [layer.activation for layer in model.layers] == ["tanh", "tanh", "linear"]
    assert model([0.3, -0.2]).op == "dot"  # no activation after the last dot
    # a linear output can be negative (a ReLU output could not)
    out_neuron = model.layers[-1].neurons[0]
    for w in out_neuron.w:
        w.data = -1.0
    out_neuron.b.data = -1.0
    assert model([0.3, -0.2]).data < -1.0 + 1e-12


def test_scalar_input_accepted_when_nin_is_one():
    model = MLP(1, [4, 1], seed=2)
    assert model(0.7).data == model([0.7]).data


def test_forward_batch_matches_loop():
    model = MLP(2, [5, 1], seed=4)
    X = [[0.1, 0.2], [-1.0, 3.0], [2.0, 0.0]]
    assert [p.data for p in model.forward_batch(X)] == [model(x).data for x in X]
    with pytest.raises(TypeError, match="forward_batch"):
        model.forward_batch(1.0)


def _graph(root):
    return [(v.op, v.data, v.local_grads) for v in topological_order(root)]


def test_forward_batch_builds_the_graph_that_neurons_called_one_by_one_build():
    # MLP.forward_batch reads each weight's data once per batch, a layer its input's data once
    # per sample: the nodes, numbers, local derivatives and edges are those of Neuron.forward.
    model = MLP(3, [4, 4, 2], activation="tanh", seed=1)
    X = [[0.5, -1.0, 2.0], [0.0, 0.25, -3.0]]
    for x, out in zip(X, model.forward_batch(X)):
        h = [Value(v, label=f"x{i}", requires_grad=False) for i, v in enumerate(x)]
        for layer in model.layers:
            h = [neuron.forward(h) for neuron in layer.neurons]
        for mine, by_neuron in zip(out, h):
            assert [a[:3] for a in _graph(mine)] == [b[:3] for b in _graph(by_neuron)]
            weights = [
                [id(p) for p in v.parents if isinstance(p, Parameter)] for v in (mine, by_neuron)
            ]
            assert weights[0] == weights[1] and len(weights[0]) == 5  # 4 weights and the bias


def test_forward_batch_calls_a_subclass_forward_per_sample():
    class Doubled(MLP):
        def forward(self, x):
            return super().forward(x) * 2

    model, plain = Doubled(1, [3, 1], seed=0), MLP(1, [3, 1], seed=0)
    assert [v.data for v in model.forward_batch([1.0, 2.0])] == [
        2 * v.data for v in plain.forward_batch([1.0, 2.0])
    ]


@pytest.mark.parametrize(
    "sample, message",
    [
        (b"a", "MLP: a sample must be a number, a Value or a list of one, got bytes b'a'"),
        ({0.5}, "MLP: a sample must be .* got set {0.5}"),
        (None, "MLP: a sample must be .* got NoneType None"),
        ("a", "MLP: a sample must be .* got str 'a'"),
        (1j, "MLP: a sample must be .* got complex 1j"),
        (iter([0.5]), "MLP: a sample must be .* got list_iterator"),
        ([None], "MLP: input x0 must be a number or a Value, got NoneType None"),
        (["0.5"], "MLP: input x0 must be a number or a Value, got str '0.5'"),
    ],
)
def test_a_sample_that_is_not_numbers_in_order_is_refused_by_name(sample, message):
    with pytest.raises(TypeError, match=message):
        MLP(1, [1])(sample)


def test_forward_batch_refuses_unordered_or_non_list_batches():
    model = MLP(1, [1])
    for batch, shown in [
        ({0.5, 1.5}, "set"),
        (b"ab", "bytes"),
        (None, "NoneType"),
        ({0.5: 1}, "dict"),
    ]:
        with pytest.raises(
            TypeError, match=f"MLP.forward_batch: expected a list of samples, got {shown}"
        ):
            model.forward_batch(batch)
    assert len(model.forward_batch(x for x in [0.5, 1.5])) == 2  # any ordered iterable


def test_numpy_samples_still_work():
    np = pytest.importorskip("numpy")
    model = MLP(2, [3, 1], seed=1)
    assert model(np.array([0.5, -1.0])).data == model([0.5, -1.0]).data
    assert MLP(1, [1])(np.float32(0.5)).data == MLP(1, [1])(0.5).data
    with pytest.raises(TypeError, match="MLP: a sample must be a list of 2 numbers, got ndarray"):
        model(np.array([[0.5, -1.0]]))


def test_wrong_input_length_raises():
    with pytest.raises(ValueError, match="expected 2 input"):
        MLP(2, [3, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected 3 input"):
        Neuron(3)([1.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: MLP(0, [1]),
        lambda: MLP(2, []),
        lambda: MLP(2, [0, 1]),
        lambda: MLP(2, 3),
        lambda: MLP(2, [3, 1], activation="swish"),
        lambda: Layer(2, 0),
    ],
)
def test_bad_architecture_raises(call):
    with pytest.raises(ValueError):
        call()


def test_zero_grad():
    model = MLP(2, [3, 1])
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_mlp_parameter_gradients_match_finite_differences():
    model = MLP(2, [3, 2], activation="tanh", seed=7)
    x, eps = [0.4, -0.9], 1e-6

    def objective() -> Value:
        a, b = model(x)
        return a * a + 3.0 * b

    model.zero_grad()
    objective().backward()
    for name, p in model.named_parameters():
        analytic = p.grad
        old = p.data
        with no_grad():
            p.data = old + eps
            plus = objective().data
            p.data = old - eps
            minus = objective().data
        p.data = old
        assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-5, abs=1e-7), name


def test_mlp_input_gradient_passes_gradcheck():
    model = MLP(2, [4, 4, 1], activation="tanh", seed=1)
    assert gradcheck(lambda a, b: model([a, b]), [0.3, -0.8])


# -- initialisation ------------------------------------------------------------------------------


def test_same_seed_same_weights_different_seed_different():
    assert MLP(2, [8, 1], seed=5).state_dict() == MLP(2, [8, 1], seed=5).state_dict()
    assert MLP(2, [8, 1], seed=5).state_dict() != MLP(2, [8, 1], seed=6).state_dict()


def test_shared_rng_stream():
    # one random.Random for the whole MLP: neurons differ, and a Neuron can share a stream
    rng = random.Random(0)
    a, b = Neuron(3, seed=rng), Neuron(3, seed=rng)
    assert [w.data for w in a.w] != [w.data for w in b.w]
    model = MLP(1, [4, 1], seed=0)
    ws = [n.w[0].data for n in model.layers[0].neurons]
    assert len(set(ws)) == 4


@pytest.mark.parametrize(
    "activation, gain",
    [("relu", math.sqrt(2.0)), ("tanh", 5.0 / 3.0), ("sigmoid", 1.0), ("linear", 1.0)],
)
def test_kaiming_uniform_bounds_and_variance(activation, gain):
    nin = 50
    layer = Layer(nin, 40, activation=activation, seed=11)
    bound = gain * math.sqrt(3.0 / nin)  # relu: sqrt(6 / nin)
    ws = [w.data for n in layer.neurons for w in n.w]
    bs = [n.b.data for n in layer.neurons]
    assert all(-bound <= w <= bound for w in ws)
    assert max(abs(w) for w in ws) > 0.95 * bound  # the whole interval is used
    # Var U(-a, a) = a^2 / 3 = gain^2 / nin  (2000 draws: within ~10%)
    var = sum(w * w for w in ws) / len(ws)
    assert var == pytest.approx(gain**2 / nin, rel=0.12)
    assert all(abs(b) <= 1.0 / math.sqrt(nin) for b in bs)
    assert len(set(bs)) == len(bs)  # biases are not all zero


def test_relu_preactivation_variance_is_preserved():
    # He init: E[h^2] of the next pre-activation ~ E[x^2] (the reason for the gain sqrt 2)
    rng = random.Random(0)
    layer = Layer(200, 200, activation="relu", seed=1)
    x = [rng.gauss(0, 1) for _ in range(200)]
    with no_grad():
        pre = [sum(w.data * xi for w, xi in zip(n.w, x)) for n in layer.neurons]
        hidden = [max(p, 0.0) for p in pre]
        nxt = Layer(200, 200, activation="relu", seed=2)
        pre2 = [sum(w.data * h for w, h in zip(n.w, hidden)) for n in nxt.neurons]
    m1 = sum(p * p for p in pre) / len(pre)
    m2 = sum(p * p for p in pre2) / len(pre2)
    assert m2 / m1 == pytest.approx(1.0, abs=0.35)


# -- state dict and files ------------------------------------------------------------------------


def test_state_dict_roundtrip_makes_outputs_equal():
    a, b = MLP(2, [4, 1], seed=1), MLP(2, [4, 1], seed=2)
    x = [0.3, -0.7]
    assert a(x).data != b(x).data
    state = a.state_dict()
    assert all(isinstance(v, float) for v in state.values())
    b.load_state_dict(state)
    assert a(x).data == b(x).data
    state["L0.N0.w0"] = 123.0  # a copy: changing it does not change the model
    assert a.state_dict()["L0.N0.w0"] != 123.0


@pytest.mark.parametrize(
    "mutate, error, message",
    [
        (lambda s: s.pop("L0.N1.b"), ValueError, "missing 1 key"),
        (lambda s: s.update({"L9.N0.w0": 1.0}), ValueError, "unexpected 1 key"),
        (lambda s: s.update({"L0.N2.w1": float("nan")}), ValueError, "'L0.N2.w1' must be finite"),
        (lambda s: s.update({"L1.N0.b": float("inf")}), ValueError, "'L1.N0.b' must be finite"),
        (lambda s: s.update({"L0.N0.w0": 10**400}), ValueError, "'L0.N0.w0' must be finite"),
        (lambda s: s.update({"L0.N0.w0": "0.5"}), TypeError, "'L0.N0.w0' must be a number"),
        (lambda s: s.update({"L0.N0.w0": True}), TypeError, "'L0.N0.w0' must be a number"),
        (lambda s: s.update({"L0.N0.w0": [0.5]}), TypeError, "must be a number"),
    ],
)
def test_load_state_dict_rejects_bad_state_and_leaves_model_unchanged(mutate, error, message):
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    state = {name: 0.5 for name in before}  # all valid values, changed later by mutate
    mutate(state)
    with pytest.raises(error, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_load_state_dict_rejects_non_dict():
    with pytest.raises(TypeError, match="expected a dict"):
        MLP(1, [2, 1]).load_state_dict([1.0, 2.0])


def test_save_load_roundtrip(tmp_path):
    path = tmp_path / "model.json"
    a = MLP(1, [16, 1], seed=3)
    a.save(path)
    document = json.loads(path.read_text())  # plain JSON, not pickle
    assert document["format"] == "tinygrad_edu.state_dict"
    assert document["version"] == 1
    assert document["model"] == "MLP(1 -> [16 relu] -> 1)"
    assert document["params"] == a.state_dict()
    b = MLP(1, [16, 1], seed=4)
    assert b.load(path) is b
    assert b.state_dict() == a.state_dict()  # floats survive JSON exactly (repr round-trips)


def _corrupt(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "make_text, message",
    [
        (lambda good: good[: len(good) // 2], "not valid JSON"),
        (lambda good: "[1, 2, 3]", "not a tinygrad_edu state file"),
        (lambda good: good.replace("tinygrad_edu.state_dict", "something_else"), "not a tinygrad"),
        (lambda good: good.replace('"version": 1', '"version": 99'), "version 99"),
        (
            lambda good: good.replace("MLP(1 -> [16 relu] -> 1)", "MLP(1 -> [8 relu] -> 1)"),
            "saved from",
        ),
        (lambda good: good.replace('"L0.N3.w0":', '"L0.N3.wX":'), "missing 1 key"),
        (lambda good: good.replace('"L0.N3.b": ', '"L0.N3.b": NaN, "x": '), "not valid JSON"),
        (lambda good: good.replace('"L0.N3.b": ', '"L0.N3.b": "1.0", "x": '), None),
        # json keeps the last of two equal keys: a file that says two things is refused
        (lambda good: good.replace('"L0.N3.b": ', '"L0.N3.b": 5.0, "L0.N3.b": '), "twice"),
        (lambda good: good.replace('"version": 1', '"version": true'), "version True"),
        (lambda good: "\ufeff" + good, "not valid JSON"),
    ],
)
def test_load_rejects_bad_files_and_leaves_model_unchanged(tmp_path, make_text, message):
    good_path = tmp_path / "good.json"
    MLP(1, [16, 1], seed=1).save(good_path)
    good = good_path.read_text()
    model = MLP(1, [16, 1], seed=2)
    before = model.state_dict()
    with pytest.raises((ValueError, TypeError), match=message):
        model.load(_corrupt(tmp_path, make_text(good)))
    assert model.state_dict() == before


def test_load_rejects_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00 not text")
    model = MLP(1, [2, 1])
    before = model.state_dict()
    with pytest.raises(ValueError, match="load: .*binary.json is not UTF-8 text"):
        model.load(path)
    assert model.state_dict() == before


def test_load_rejects_wrong_shape(tmp_path):
    path = tmp_path / "wide.json"
    MLP(1, [32, 1]).save(path)
    model = MLP(1, [16, 1])
    before = model.state_dict()
    with pytest.raises(ValueError, match="saved from 'MLP\\(1 -> \\[32 relu\\] -> 1\\)'"):
        model.load(path)
    # and with the model name removed, the keys catch it
    document = json.loads(path.read_text())
    del document["model"]
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="unexpected 48 key"):
        model.load(path)
    assert model.state_dict() == before


def test_save_refuses_non_finite(tmp_path):
    model = MLP(1, [2, 1])
    model.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match="finite"):
        model.save(tmp_path / "m.json")


@pytest.mark.parametrize(
    "nested", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_load_of_deeply_nested_json_is_a_value_error_and_changes_nothing(tmp_path, nested):
    model = MLP(1, [2, 1])
    before = model.state_dict()
    with pytest.raises(ValueError, match="load: .*deep.json is not a state file: .*nested too"):
        model.load(_corrupt(tmp_path, nested).rename(tmp_path / "deep.json"))
    assert model.state_dict() == before


def test_failed_save_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "m.json"
    target.mkdir()  # the rename onto a directory fails
    with pytest.raises(OSError):
        MLP(1, [2, 1]).save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    assert list(target.iterdir()) == []


def test_custom_module_finds_parameters_by_attribute():
    class Affine(Module):
        def __init__(self):
            self.scale = Parameter(2.0)
            self.inner = MLP(1, [2, 1], seed=0)
            self.extra = [Parameter(1.0), Parameter(3.0)]
            self.tied = self.scale  # a shared weight is listed once

        def forward(self, x):
            return self.scale * self.inner(x) + self.extra[0]

    model = Affine()
    names = [name for name, _ in model.named_parameters()]
    assert names[0] == "scale" and names[1] == "inner.L0.N0.w0"
    assert names[-2:] == ["extra.0", "extra.1"]
    assert len(names) == 1 + 7 + 2
    model.load_state_dict(model.state_dict())


# -- losses --------------------------------------------------------------------------------------


def test_mse_closed_form_and_gradient():
    p = [Value(1.0), Value(2.0), Value(4.0)]
    loss = mse_loss(p, [1.0, 1.0, 1.0])
    assert loss.data == pytest.approx((0 + 1 + 9) / 3)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([0.0, 2 / 3, 2 * 3 / 3])  # 2 (p - t) / n
    assert mse_loss(p, [1.0, 1.0, 1.0], reduction="sum").data == pytest.approx(10.0)


def test_mae_closed_form():
    assert mae_loss([1.0, -2.0], [0.0, 0.0]).data == pytest.approx(1.5)
    assert mae_loss([1.0, -2.0], [0.0, 0.0], reduction="sum").data == pytest.approx(3.0)


def test_huber_closed_form_both_regions():
    # d = 0.5 (quadratic: 0.125), d = -3 (linear: 1 * (3 - 0.5) = 2.5)
    assert huber_loss([0.5, -3.0], [0.0, 0.0], delta=1.0, reduction="sum").data == pytest.approx(
        0.125 + 2.5
    )
    # delta = 2: d = 3 -> 2 * (3 - 1) = 4
    assert huber_loss([3.0], [0.0], delta=2.0).data == pytest.approx(4.0)
    # continuous at |d| = delta
    below = huber_loss([1.0 - 1e-9], [0.0]).data
    above = huber_loss([1.0 + 1e-9], [0.0]).data
    assert below == pytest.approx(above, abs=1e-8)


def test_hinge_closed_form():
    # margins y*s: 2 (no loss), 0.5 (loss 0.5), -1 (loss 2)
    loss = hinge_loss([2.0, 0.5, 1.0], [1, 1, -1])
    assert loss.data == pytest.approx((0 + 0.5 + 2) / 3)


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_bce_with_logits_closed_form():
    zs, ys = [0.3, -1.2, 2.0], [1.0, 0.0, 0.25]
    expected = [
        -y * math.log(_sigmoid(z)) - (1 - y) * math.log(1 - _sigmoid(z)) for z, y in zip(zs, ys)
    ]
    assert binary_cross_entropy_with_logits(zs, ys).data == pytest.approx(sum(expected) / 3)


def test_bce_with_logits_stable_for_huge_logits():
    z = [Value(500.0), Value(-500.0), Value(500.0), Value(-500.0)]
    loss = binary_cross_entropy_with_logits(z, [1.0, 0.0, 0.0, 1.0], reduction="sum")
    # right with confidence: ~0; wrong with confidence: |z| each
    assert loss.data == pytest.approx(1000.0)
    loss.backward()
    # d/dz = sigmoid(z) - y
    assert [v.grad for v in z] == pytest.approx([0.0, 0.0, 1.0, -1.0])
    assert all(math.isfinite(v.grad) for v in z)


def test_cross_entropy_closed_form_and_gradient():
    logits = [[Value(1.0), Value(2.0), Value(0.5)], [Value(-1.0), Value(0.0), Value(3.0)]]
    targets = [1, 0]
    loss = cross_entropy(logits, targets)
    expected = 0.0
    for row, t in zip(logits, targets):
        exps = [math.exp(v.data) for v in row]
        expected += -math.log(exps[t] / sum(exps))
    assert loss.data == pytest.approx(expected / 2)
    loss.backward()
    for row, t in zip(logits, targets):
        exps = [math.exp(v.data) for v in row]
        for k, v in enumerate(row):
            # d l / dz_k = (softmax_k - [k == t]) / n
            assert v.grad == pytest.approx((exps[k] / sum(exps) - (k == t)) / 2)


def test_cross_entropy_stable_for_large_logits():
    row = [Value(500.0), Value(0.0), Value(-500.0)]
    assert cross_entropy([row], [0]).data == pytest.approx(0.0, abs=1e-12)
    assert cross_entropy([row], [1]).data == pytest.approx(500.0)
    loss = cross_entropy(row, 2)  # one sample: a flat list and an int
    assert loss.data == pytest.approx(1000.0)
    loss.backward()
    assert [v.grad for v in row] == pytest.approx([1.0, 0.0, -1.0])
    big = cross_entropy([[1000.0, 1000.0]], [0])
    assert big.data == pytest.approx(math.log(2.0))


def test_softmax_sums_to_one_and_is_stable():
    probs = softmax([Value(800.0), Value(799.0), Value(-800.0)])
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    assert probs[0].data == pytest.approx(1.0 / (1.0 + math.exp(-1.0)))


LOSSES = {
    "mse": lambda p, t, r: mse_loss(p, t, reduction=r),
    "mae": lambda p, t, r: mae_loss(p, t, reduction=r),
    "huber": lambda p, t, r: huber_loss(p, t, delta=0.7, reduction=r),
    "hinge": lambda p, t, r: hinge_loss(p, [1, -1, 1, -1], reduction=r),
    "bce": lambda p, t, r: binary_cross_entropy_with_logits(p, [1.0, 0.0, 0.3, 1.0], reduction=r),
}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_pass_gradcheck(name, reduction):
    # points away from the kinks: |pred - target| not 0 or delta, margins not 1
    preds = [0.3, -1.1, 2.3, -0.45]
    targets = [1.0, 0.5, 0.2, -2.0]
    loss = LOSSES[name]
    assert gradcheck(lambda *p: loss(list(p), targets, reduction), preds)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_passes_gradcheck(reduction):
    z = [0.3, -1.2, 2.0, 0.1, 0.0, -0.7, 5.0, 4.0, 4.5]
    targets = [2, 0, 1]
    assert gradcheck(
        lambda *v: cross_entropy([v[0:3], v[3:6], v[6:9]], targets, reduction=reduction), z
    )


def test_bce_passes_gradcheck_at_large_logits():
    assert gradcheck(
        lambda a, b: binary_cross_entropy_with_logits([a, b], [1.0, 0.0]), [30.0, -25.0]
    )
    assert gradcheck(lambda a, b, c: cross_entropy([[a, b, c]], [1]), [60.0, 50.0, -40.0])


def test_l2_penalty_value_and_gradient():
    ps = [Parameter(1.0), Parameter(-2.0), Parameter(0.5)]
    penalty = l2_penalty(ps, 0.1)
    assert penalty.data == pytest.approx(0.1 * (1 + 4 + 0.25))
    penalty.backward()
    assert [p.grad for p in ps] == pytest.approx([0.2, -0.4, 0.1])  # 2 * weight * p


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "bce"])
def test_regression_losses_bad_input(name):
    fn = {
        "mse": mse_loss,
        "mae": mae_loss,
        "huber": huber_loss,
        "bce": binary_cross_entropy_with_logits,
    }[name]
    with pytest.raises(ValueError, match="length mismatch"):
        fn([1.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="empty batch"):
        fn([], [])
    with pytest.raises(ValueError, match="reduction"):
        fn([1.0], [1.0], reduction="average")
    with pytest.raises(TypeError, match="target 0"):
        fn([1.0], ["1"])


def test_single_value_accepted():
    assert mse_loss(Value(3.0), 1.0).data == pytest.approx(4.0)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        hinge_loss([0.5, 0.2], [0, 1])
    with pytest.raises(ValueError, match="targets must be in \\[0, 1\\]"):
        binary_cross_entropy_with_logits([0.5], [2.0])
    with pytest.raises(ValueError, match="delta"):
        huber_loss([1.0], [0.0], delta=0.0)
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        cross_entropy([[1.0, 2.0, 3.0]], [3])
    with pytest.raises(ValueError, match="out of range"):
        cross_entropy([[1.0, 2.0, 3.0]], [-1])
    with pytest.raises(ValueError, match="length mismatch"):
        cross_entropy([[1.0, 2.0], [0.0, 1.0]], [0])
    with pytest.raises(ValueError, match="empty batch"):
        cross_entropy([], [])
    with pytest.raises(TypeError, match="int class index"):
        cross_entropy([[1.0, 2.0]], [1.0])
    with pytest.raises(TypeError, match="int class index"):
        cross_entropy([[1.0, 2.0]], [True])
    with pytest.raises(TypeError, match="int class index .* got True"):
        cross_entropy([1.0, 2.0], True)  # one sample: a bool is not a class
    with pytest.raises(ValueError, match="sample 1 has 3 class scores"):
        cross_entropy([[1.0, 2.0], [0.0, 1.0, 2.0]], [0, 1])


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_every_hidden_activation_is_one_node_after_the_dot(activation):
    model = MLP(2, [3, 1], activation=activation, seed=0)
    hidden = model.layers[0]([0.4, -1.3])
    assert all(h.op == activation and h.parents[0].op == "dot" for h in hidden)
    assert model.layers[-1].activation == "linear"


def test_save_leaves_only_the_file(tmp_path):
    MLP(1, [2, 1]).save(tmp_path / "m.json")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_losses_take_numpy_targets_and_refuse_2d_ones():
    np = pytest.importorskip("numpy")
    preds = [Value(1.0), Value(2.0)]
    assert mse_loss(preds, np.array([1.0, 3.0])).data == mse_loss(preds, [1.0, 3.0]).data == 0.5
    assert hinge_loss(preds, np.array([1, -1])).data == hinge_loss(preds, [1, -1]).data == 1.5
    with pytest.raises(ValueError, match=r"mse_loss: target must be 1-D .* got shape \(1, 2\)"):
        mse_loss(preds, np.array([[1.0, 3.0]]))


def test_losses_name_their_interior_nodes_for_drawings() -> None:
    from tinygrad_edu.engine import topological_order

    pred = Value(0.5)
    loss = mse_loss([pred], [0.2])
    names = {v.label: v for v in topological_order(loss) if v.label}
    assert set(names) == {"e", "e\u00b2", "\u03a3"}
    assert names["e"].data == pytest.approx(0.3) and names["e\u00b2"].data == pytest.approx(0.09)
    assert loss.data == pytest.approx(0.09)  # naming changes no number
    batch = hinge_loss([Value(0.2), Value(-1.0)], [1, -1])
    labels = {v.label for v in topological_order(batch) if v.label}
    assert labels == {"ts0", "ts1", "1-ts0", "1-ts1", "hinge0", "hinge1", "\u03a3"}


LOSSES_OF_TWO = {
    "mse_loss": mse_loss,
    "mae_loss": mae_loss,
    "huber_loss": huber_loss,
    "hinge_loss": hinge_loss,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
}


@pytest.mark.parametrize("name", sorted(LOSSES_OF_TWO))
@pytest.mark.parametrize("bad", [bytearray(b"\x01\x00"), memoryview(b"\x01\x00"), {1.0, 0.0}])
def test_losses_refuse_bytes_and_sets_naming_the_loss_and_the_argument(name, bad):
    # Before: bytearray and memoryview (which even has a shape) were read as the numbers 1, 0,
    # and a set was refused without the reason (no order, so no pairing).
    fn = LOSSES_OF_TWO[name]
    kind = "the set" if isinstance(bad, set) else type(bad).__name__
    with pytest.raises(TypeError, match=rf"{name}: pred must be .*, got {kind}"):
        fn(bad, [1.0, -1.0])
    with pytest.raises(TypeError, match=rf"{name}: target must be .*, got {kind}"):
        fn([1.0, -1.0], bad)


def test_cross_entropy_and_softmax_refuse_bytes_as_scores():
    # Before: cross_entropy([b"ab"], [0]) and softmax(b"ab") read the bytes 97, 98 as scores,
    # and softmax({1.0, 2.0}) took a set's arbitrary order.
    with pytest.raises(TypeError, match="cross_entropy: sample 0 must be a list of class scores"):
        cross_entropy([b"ab"], [0])
    with pytest.raises(TypeError, match="cross_entropy: logits must be .*, got bytearray"):
        cross_entropy(bytearray(b"ab"), [0, 1])
    for bad in (b"ab", bytearray(b"ab"), {1.0, 2.0}):
        with pytest.raises(TypeError, match="softmax: logits must be a list of scores"):
            softmax(bad)
    np = pytest.importorskip("numpy")
    assert [p.data for p in softmax(np.array([0.0, 0.0]))] == [0.5, 0.5]  # arrays still work
