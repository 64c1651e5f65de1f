"""Input fuzzing of the CLI (issue 14): mutated arch/workload/scenario/sweep YAMLs, corrupted .tflite, bad
.npy inputs and corrupted results files either run with finite figures or are refused in one line (exit 2);
never an internal error, a traceback, a hang or memory past the limit. Seeded: the same cases every run.
The long run is `python benchmarks/fuzz.py --cases 20000`."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_inputs import Case, Category, Outcome, Result, Sandbox, judge, make_case, prepare, run_cases, warm_up
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

JOBS = 2
BATCHES = 40  # hypothesis examples; each runs one case of every category (7): 280 cases


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    sandbox = Sandbox(tmp_path_factory.mktemp("fuzz"))
    warm_up()
    prepare(sandbox)
    return sandbox


def _run(cases: list[Case], workdir: Path) -> list[Result]:
    return list(run_cases(cases, workdir, jobs=JOBS))


@settings(
    max_examples=BATCHES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate,),  # a failing case prints its seed and command: re-run that, no shrinking
    suppress_health_check=list(HealthCheck),
)
@given(seed=st.integers(0, 2**31 - 1))
def test_fuzzed_inputs_are_run_or_refused_in_one_line(box: Sandbox, seed: int) -> None:
    cases = [make_case(category, seed, box) for category in Category]
    failed = [r for r in _run(cases, box.root) if not r.outcome.passed]
    assert not failed, "\n".join(
        f"[{r.outcome.value}] seed {r.case.seed}: {r.case.command()}\n  {r.detail}" for r in failed
    )


def test_the_checker_tells_each_outcome() -> None:
    """The judge itself: a case that must fail does (an honest fuzz test needs a checker that can fail)."""
    case = Case(Category.ARCH, 0, ("run", "a", "b", "--format", "json"))
    assert judge(case, 0, '{"a": [1, 2.5, {"b": "x"}]}', "")[0] is Outcome.OK
    assert judge(case, 0, '{"a": [1, NaN]}', "")[0] is Outcome.NONFINITE
    assert judge(case, 0, '{"a": {"b": "inf"}}', "")[0] is Outcome.NONFINITE
    assert judge(case, 0, '{"a": Infinity}', "")[0] is Outcome.NONFINITE
    assert judge(case, 2, "", "tinysim: a.yaml:3: x: expected a size, got -1\n")[0] is Outcome.REFUSED
    assert judge(case, 2, "", "tinysim: one\ntinysim: two\n")[0] is Outcome.BAD_ERROR
    assert judge(case, 2, "", "Traceback (most recent call last):\n  ...\n")[0] is Outcome.BAD_ERROR
    assert judge(case, 1, "", "tinysim: internal error: ValueError: x\n")[0] is Outcome.INTERNAL
    assert judge(case, None, "", "")[0] is Outcome.HANG
    assert judge(case, -9, "", "")[0] is Outcome.CRASH
    check = Case(Category.ARCH, 0, ("check", "a.yaml"), "none")
    assert judge(check, 2, "", "tinysim: a.yaml:1: x: bad\ntinysim: a.yaml:2: y: bad\n")[0] is Outcome.REFUSED


def test_a_hang_is_killed_at_the_timeout(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-case timeout: a command that sleeps past it is reported as a hang, not waited for."""
    import fuzz_inputs

    monkeypatch.setattr(fuzz_inputs, "TIMEOUT_S", 0.5)
    monkeypatch.setattr("tinysim.cli.main.main", lambda argv: __import__("time").sleep(60) or 0)
    (result,) = _run([Case(Category.ARCH, 0, ("check", "x"), "none")], box.root)
    assert result.outcome is Outcome.HANG and result.wall_s < 5
