"""CLI fuzzing (issue 18): random flag values for ``gnnkit train`` and ``gnnkit reproduce``.

Property: ``gnnkit.cli.main(argv)`` either succeeds (exit 0) or exits non-zero with exactly one
line on stderr, ``gnnkit: error: ...`` naming the problem; it never lets an exception escape (a
traceback wall). ``main`` runs in-process (no interpreter start-up per case) on the built-in
karate-club experiment (no data files, no network), with at most 2 epochs per run.

Fast profile (``make test``): a few cases per command. The ``slow`` profile runs many:
``pytest -m slow tests/fuzz/test_cli_fuzz.py``.
"""
from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gnnkit import cli

# Values a careful new user might type for a numeric flag: valid, zero, negative, fractional,
# scientific, huge, NaN/inf, words, empty.
_NUMBERISH = st.one_of(
    st.integers(-5, 2).map(str),
    st.sampled_from(["0", "-1", "0.5", "1e-3", "1e9", "99999999999999999999", "nan", "inf", "-inf", "abc", "",
                     " ", "1.0", "2,5", "0x10", "--", "1e400", "-0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
_EPOCHS = st.one_of(st.sampled_from(["1", "2"]), _NUMBERISH.filter(lambda v: not _big_positive_int(v)))
_TRAIN_FLAGS = {
    "--epochs": _EPOCHS, "--lr": _NUMBERISH, "--weight-decay": _NUMBERISH, "--patience": _NUMBERISH,
    "--hidden": _NUMBERISH.filter(lambda v: not _big_positive_int(v)), "--dropout": _NUMBERISH, "--seed": _NUMBERISH,
    "--device": st.sampled_from(["cpu", "gpu", "", "cuda:99"]),
    "--experiment": st.sampled_from(["gcn-karate", "no-such-experiment", "", "GCN-KARATE"]),
    "--model": st.sampled_from(["gcn", "nope", "gin"]),
    "--dataset": st.sampled_from(["karate", "MUTAG-not-here", "nope"]),
}
_SWITCHES = ["--resume", "--overwrite", "--quiet", "--deterministic", "--no-download"]


def _big_positive_int(value: str) -> bool:
    """Valid positive ints above 2 would only make a case slow, not more interesting."""
    try:
        return int(value) > 2
    except ValueError:
        return False


@st.composite
def train_argv(draw):
    names = draw(st.lists(st.sampled_from(sorted(_TRAIN_FLAGS)), unique=True, max_size=4))
    argv = ["train", "--quiet"]
    for name in names:
        if name in ("--model", "--dataset") and "--experiment" in names:
            continue
        argv += [f"{name}={draw(_TRAIN_FLAGS[name])}"]
    if "--epochs" not in names:
        argv += ["--epochs", "1"]
    argv += draw(st.lists(st.sampled_from(_SWITCHES), unique=True, max_size=2))
    return argv


@st.composite
def reproduce_argv(draw):
    argv = ["reproduce"]
    argv += draw(st.lists(st.sampled_from(["gcn-karate", "nope", "--list"]), min_size=0, max_size=2, unique=True))
    argv += [f"--seeds={draw(st.one_of(st.sampled_from(['1', '2']), _NUMBERISH.filter(lambda v: not _big_positive_int(v))))}"]
    argv += [f"--epochs={draw(_EPOCHS)}"]
    argv += draw(st.lists(st.sampled_from(["--quiet", "--no-download"]), unique=True, max_size=2))
    return argv


def run_cli(argv: list[str], out_dir: Path) -> tuple[int, str]:
    """``(exit status, stderr)`` of ``gnnkit ARGV --out OUT_DIR`` run in-process; an exception that
    escapes ``main`` propagates (the test fails with it)."""
    if argv[0] in ("train", "reproduce") and "--list" not in argv:
        argv = argv + ["--out", str(out_dir)]
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:   # argparse's own exits (--help, --version) and usage errors
            code = exit_.code
    return (0 if code is None else code), err.getvalue()


def check_outcome(argv: list[str], code, stderr: str) -> None:
    assert isinstance(code, int), f"{argv}: exit status {code!r} is not an int"
    lines = [line for line in stderr.splitlines() if line.strip()]
    if code == 0:
        assert not any("Traceback" in line for line in lines), f"{argv}: a traceback on success:\n{stderr}"
        return
    assert "Traceback" not in stderr, f"{argv}: a traceback:\n{stderr}"
    assert len(lines) == 1, f"{argv}: exit {code} with {len(lines)} stderr lines (want 1):\n{stderr}"
    assert lines[0].startswith("gnnkit: "), f"{argv}: stderr does not start with 'gnnkit: ':\n{stderr}"


def _fuzz(argv):
    with tempfile.TemporaryDirectory() as tmp:
        code, stderr = run_cli(argv, Path(tmp) / "out")
    check_outcome(argv, code, stderr)


_FAST = settings(max_examples=8, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
_SLOW = settings(max_examples=400, deadline=None, phases=[Phase.explicit, Phase.generate],   # no shrinking:
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])   # argv is short


@_FAST
@given(argv=train_argv())
def test_train_with_random_flags_fails_in_one_line_or_succeeds(argv):
    _fuzz(argv)


@_FAST
@given(argv=reproduce_argv())
def test_reproduce_with_random_flags_fails_in_one_line_or_succeeds(argv):
    _fuzz(argv)


@pytest.mark.slow
@_SLOW
@given(argv=train_argv())
def test_train_fuzz_slow_profile(argv):
    _fuzz(argv)


@pytest.mark.slow
@_SLOW
@given(argv=reproduce_argv())
def test_reproduce_fuzz_slow_profile(argv):
    _fuzz(argv)


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "-5"], ["train", "--epochs", "0"], ["train", "--hidden", "-4"], ["train", "--seed", "-1"],
    ["train", "--patience", "-1"], ["train", "--lr", "nan"], ["train", "--dropout", "1.5"],
    ["reproduce", "gcn-karate", "--epochs", "-5"], ["reproduce", "gcn-karate", "--seeds", "0"],
    ["reproduce", "gcn-karate", "--seeds", "-3"],
])
def test_the_issues_bad_numbers_are_one_line_usage_errors_naming_the_flag(argv, tmp_path):
    code, stderr = run_cli(argv, tmp_path / "out")
    check_outcome(argv, code, stderr)
    assert code == 2 and argv[-2] in stderr


def test_a_good_run_succeeds(tmp_path):
    code, stderr = run_cli(["train", "--quiet", "--epochs", "2"], tmp_path / "out")
    assert code == 0, stderr
