"""The benchmark command: its float floor computes the engine's gradients, its checks can fail."""

from __future__ import annotations

import json
import sys

import pytest

from tinygrad_edu import bench, nn
from tinygrad_edu.__main__ import main
from tinygrad_edu.engine import topological_order


def _engine_grads(model: nn.MLP, X: list[list[float]], ys: list[int]) -> tuple[float, list[float]]:
    loss = nn.hinge_loss(model.forward_batch(X), ys) + nn.l2_penalty(
        model.parameters(), bench.L2_WEIGHT
    )
    model.zero_grad()
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def _flat(grad_w: list[list[list[float]]], grad_b: list[list[float]]) -> list[float]:
    return [x for rows, bs in zip(grad_w, grad_b) for row, b in zip(rows, bs) for x in (*row, b)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_float_floor_computes_the_engines_loss_and_gradients(seed: int) -> None:
    X, ys = bench.moons_problem(30, seed=seed)
    model = nn.MLP(2, [16, 16, 1], seed=seed)
    floor = bench.FloatMLP.from_model(model)
    assert floor.parameters() == [p.data for p in model.parameters()]
    loss, grads = _engine_grads(model, X, ys)
    floor_loss, grad_w, grad_b = floor.loss_and_grads(X, ys)
    assert floor_loss == pytest.approx(loss, abs=1e-12)
    flat = _flat(grad_w, grad_b)
    assert len(flat) == len(grads) == 337
    assert max(abs(a - b) for a, b in zip(flat, grads)) < 1e-12
    assert any(g != 0.0 for g in flat)  # a real gradient, not zeros on both sides


def test_float_floor_step_is_sgd_on_its_gradient() -> None:
    X, ys = bench.moons_problem(20, seed=3)
    floor = bench.FloatMLP.from_model(nn.MLP(2, [16, 16, 1], seed=3))
    before = floor.parameters()
    loss, grad_w, grad_b = floor.loss_and_grads(X, ys)
    assert floor.step(X, ys) == loss
    expected = [p - bench.LEARNING_RATE * g for p, g in zip(before, _flat(grad_w, grad_b))]
    assert floor.parameters() == pytest.approx(expected, abs=1e-15)


def test_engine_step_matches_the_floor_over_several_steps() -> None:
    X, ys = bench.moons_problem(20, seed=4)
    model = nn.MLP(2, [16, 16, 1], seed=4)
    floor = bench.FloatMLP.from_model(model)
    params = model.parameters()
    for _ in range(3):
        assert bench._engine_step(model, params, X, ys) == pytest.approx(floor.step(X, ys), 1e-12)
    assert [p.data for p in params] == pytest.approx(floor.parameters(), abs=1e-12)


def test_build_chain_has_the_stated_depth_and_size() -> None:
    x, y = bench.build_chain(1000)
    order = topological_order(y)
    assert len(order) == 1000 + 500 + 1
    depth, node = 0, y
    while node.parents:
        node = node.parents[0]
        depth += 1
    assert depth == 1000 and node is x
    y.backward()
    assert 0.0 < x.grad < 1.0


def test_time_interleaved_takes_turns_and_counts_calls() -> None:
    calls: list[str] = []
    medians = bench.time_interleaved(
        {"a": (lambda: calls.append("a"), 2), "b": (lambda: calls.append("b"), 1)}, rounds=3
    )
    # each block: one untimed warm-up call, then the timed ones
    assert calls == ["a", "a", "a", "b", "b"] * 3
    assert set(medians) == {"a", "b"} and all(t >= 0.0 for t in medians.values())


def test_quick_run_reports_every_number() -> None:
    report = bench.run(bench.QUICK)
    moons, chain, memory = report["moons"], report["chain"], report["memory"]
    losses = list(moons["first_loss"].values())
    assert len(losses) >= 2 and max(losses) - min(losses) < 1e-12  # same model, same loss
    assert moons["tinygrad_edu_s"] > 0 and moons["floor_s"] > 0
    assert moons["ratio_floor"] == moons["tinygrad_edu_s"] / moons["floor_s"]
    assert chain["values"] == bench.QUICK.chain_ops * 3 // 2 + 1
    assert chain["backward_over_forward"] == chain["backward_s"] / chain["forward_s"]
    assert 50 < memory["chain_bytes_per_node"] < 1000
    assert memory["moons_edges"] > memory["moons_nodes"] > 0
    assert memory["freed_by_refcount"] is True
    assert memory["cycle_objects"] == 0
    text = bench.format_report(report)
    assert "not the full-size run" in text and "bytes/node" in text
    json.dumps(report)  # plain data


def test_without_micrograd_the_table_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench, "_micrograd", lambda: None)
    report = bench.run(bench.QUICK, ["moons", "memory"])
    assert report["moons"]["micrograd_s"] is None and report["memory"]["micrograd"] is None
    assert report["chain"] == {}
    assert "pip install 'tinygrad_edu[bench]'" in bench.format_report(report)


def test_micrograd_is_compared_when_installed() -> None:
    pytest.importorskip("micrograd")
    report = bench.run(bench.QUICK, ["moons", "memory"])
    moons = report["moons"]
    # no timing is asserted (shared machines are noisy): only that micrograd ran the same step
    assert moons["micrograd_s"] > 0.0
    assert moons["speedup_micrograd"] == moons["micrograd_s"] / moons["tinygrad_edu_s"]
    assert moons["first_loss"]["micrograd"] == pytest.approx(
        moons["first_loss"]["floor"], abs=1e-12
    )
    mg = report["memory"]["micrograd"]
    assert mg["moons_bytes"] > report["memory"]["moons_bytes"]
    assert mg["cycle_objects"] > 0  # micrograd's closures make cycles; the check can see them


def test_the_cycle_check_can_fail() -> None:
    def cyclic() -> object:
        loss = bench.build_chain(10)[1]
        loss.parents[0].label = loss  # type: ignore[assignment] # a deliberate cycle
        return loss

    freed, leftover = bench._frees_by_refcount(cyclic)  # type: ignore[arg-type]
    assert not freed and leftover > 0


def test_unknown_workload_is_refused() -> None:
    with pytest.raises(ValueError, match="bench: unknown workload 'speed'"):
        bench.run(bench.QUICK, ["speed"])


def test_cli_bench_quick_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json", "--only", "chain"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["chain"]["ops"] == bench.QUICK.chain_ops and report["moons"] == {}


def test_cli_bench_quick_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "memory"]) == 0
    out = capsys.readouterr().out
    assert "bytes/node" in out and "reference counting: yes" in out


def test_cli_bench_rejects_a_bad_workload(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--only", "speed"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'speed'" in capsys.readouterr().err


def test_compiled_workload_reports_backends_against_eager_and_the_floor() -> None:
    compiled = bench.run(bench.QUICK, ["compiled"])["compiled"]
    losses = compiled["first_loss"]
    assert losses["python"] == losses["eager"]  # bit for bit
    assert abs(losses["numpy"] - losses["eager"]) < 1e-12
    assert compiled["python_grads_equal"] is True
    assert compiled["numpy_max_grad_diff"] < 1e-12
    for backend in ("python", "numpy"):
        assert compiled[f"{backend}_compile_s"] > 0
        assert compiled[f"{backend}_ratio_floor"] == compiled[f"{backend}_s"] / compiled["floor_s"]
    text = bench.format_report(bench.run(bench.QUICK, ["compiled"]))
    assert "moons step compiled" in text and "pays back after" in text


def test_torch_step_is_the_float_floors_step() -> None:
    torch = pytest.importorskip("torch")
    from tinygrad_edu import bench_compiled

    X, ys = bench.moons_problem(20, seed=5)
    floor = bench.FloatMLP.from_model(nn.MLP(2, [16, 16, 1], seed=5))
    torch_model = bench_compiled.TorchMLP(torch, floor, X, ys)
    for _ in range(3):  # the same losses, and the same weights after each SGD step
        assert torch_model.step() == pytest.approx(floor.step(X, ys), abs=1e-12)
    flat = [
        x
        for W, b in torch_model.layers
        for row, bias in zip(W.tolist(), b.tolist())
        for x in (*row, bias)
    ]
    assert flat == pytest.approx(floor.parameters(), abs=1e-12)


def test_compiled_workload_compares_pytorch_when_installed() -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    report = bench.run(bench.QUICK, ["compiled"])
    compiled = report["compiled"]
    assert torch.get_num_threads() == threads  # the bench's one thread is not left behind
    assert compiled["torch_threads"] == 1 and compiled["torch_version"] == str(torch.__version__)
    assert compiled["torch_s"] > 0.0
    assert compiled["torch_ratio_floor"] == compiled["torch_s"] / compiled["floor_s"]
    assert compiled["numpy_over_torch"] == compiled["numpy_s"] / compiled["torch_s"]
    losses = compiled["first_loss"]
    assert losses["torch"] == pytest.approx(losses["floor"], abs=1e-12)
    text = bench.format_report(report)
    assert "numpy / pytorch" in text and "(target <= 2x)" in text
    json.dumps(report)


def test_compiled_workload_runs_when_torch_fails_to_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    report = bench.run(bench.QUICK, ["compiled"])
    compiled = report["compiled"]
    assert compiled["torch_s"] is None and compiled["numpy_over_torch"] is None
    assert "torch" not in compiled["first_loss"]
    text = bench.format_report(report)
    assert "pytorch not installed" in text and "numpy / floor" in text
    json.dumps(report)


def test_softmax_float_floor_computes_the_engines_loss_and_gradients() -> None:
    from tinygrad_edu import bench_compiled, nn

    X, ys = bench_compiled.digits_problem(12, seed=1)
    model = nn.MLP(64, [5, 10], seed=2)
    loss = nn.cross_entropy(model.forward_batch(X), ys)
    loss.backward()
    floor = bench_compiled.FloatSoftmaxMLP.from_model(model)
    floor_loss, grad_w, grad_b = floor.loss_and_grads(X, ys)
    assert abs(floor_loss - loss.data) < 1e-12
    flat = [g for rows, bs in zip(grad_w, grad_b) for row, b in zip(rows, bs) for g in (*row, b)]
    assert max(abs(a - p.grad) for a, p in zip(flat, model.parameters())) < 1e-12


def test_digits_workload_reports_numpy_against_eager_and_the_floor() -> None:
    digits = bench.run(bench.QUICK, ["digits"])["digits"]
    losses = list(digits["first_loss"].values())
    assert max(losses) - min(losses) < 1e-12
    assert digits["numpy_ratio_floor"] == digits["numpy_s"] / digits["floor_s"]
    assert digits["steps_per_epoch"] == -(-1797 // bench.QUICK.digits_batch)
    assert "digits-shaped step" in bench.format_report(bench.run(bench.QUICK, ["digits"]))
