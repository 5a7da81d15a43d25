"""The bug zoo: each bug is caught by a gradient check, and leaves the engine exactly as it was."""

from __future__ import annotations

import pytest

from tinygrad_edu import GradcheckError, Value, engine, exercises, gradcheck
from tinygrad_edu.exercises import BUGS, PROBES, bug, gradcheck_backward_twice


def _snapshot() -> dict[str, object]:
    """Every name of the engine module and every attribute of Value, by identity."""
    names = {f"engine.{k}": v for k, v in vars(engine).items()}
    names.update({f"Value.{k}": v for k, v in vars(Value).items()})
    return names


def _same(before: dict[str, object], after: dict[str, object]) -> bool:
    return before.keys() == after.keys() and all(before[k] is after[k] for k in before)


def test_the_zoo_has_at_least_five_bugs_each_with_a_source():
    assert len(BUGS) >= 5
    for name, entry in BUGS.items():
        assert entry.name == name
        assert entry.description and entry.title and entry.fix
        assert "#" in entry.source  # names a real issue or pull request
        assert entry.caught_by in ("gradcheck", "gradcheck_backward_twice")


@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_bug_is_caught_and_only_while_on(name):
    entry = BUGS[name]
    assert entry.check()  # the example passes on the correct engine
    with bug(name):
        with pytest.raises(GradcheckError):
            entry.check()
    assert entry.check()


@pytest.mark.parametrize("name", sorted(BUGS))
def test_the_engine_is_restored_exactly_also_after_an_exception(name):
    before = _snapshot()
    with pytest.raises(RuntimeError, match="inside"):
        with bug(name):
            assert not _same(before, _snapshot())  # something really was switched
            raise RuntimeError("inside the block")
    assert _same(before, _snapshot())
    x = Value(0.7)
    y = (x * x + x.exp() - x).tanh()
    y.backward()
    y.backward()  # leaves accumulate, interior nodes reset: the correct engine
    assert gradcheck(lambda v: (v * v + v.exp() - v).tanh(), [0.7])
    assert gradcheck_backward_twice(lambda v: (v * v) * v + v.exp(), [0.7])


def test_the_probes_tell_every_bug_apart():
    assert all(probe.passes() for probe in PROBES)
    signatures = {}
    for name in BUGS:
        with bug(name):
            failing = frozenset(p.name for p in PROBES if not p.passes())
        assert failing, f"{name} fails no probe"
        signatures[failing] = name
    assert len(signatures) == len(BUGS)


def test_a_mystery_is_seeded_and_hidden_until_revealed():
    first, again = exercises.mystery(3), exercises.mystery(3)
    assert first.reveal() is again.reveal()
    assert {exercises.mystery(s).reveal().name for s in range(40)} == set(BUGS)
    assert first.reveal().name not in repr(first)
    before = _snapshot()
    with first:
        with pytest.raises(GradcheckError):
            first.reveal().check()
    assert _same(before, _snapshot())


def test_unknown_bug_names_the_zoo():
    with pytest.raises(KeyError, match="sub_sign"):
        with bug("no_such_bug"):
            pass


def test_gradcheck_backward_twice_table():
    with bug("leaf_grad_reset"):
        with pytest.raises(GradcheckError, match=r"gradcheck\(backward_twice=True\)"):
            gradcheck_backward_twice(lambda a, b: a * b, [2.0, -3.0])
        assert not gradcheck_backward_twice(lambda a, b: a * b, [2.0, -3.0], raise_exception=False)


def test_every_bug_shows_in_the_symptom(capsys):
    assert exercises.full_check(exercises.symptom, [0.5, 1.5])
    for name in BUGS:
        with bug(name):
            assert not exercises.full_check(exercises.symptom, [0.5, 1.5]), name
    assert "FAIL" in capsys.readouterr().out
