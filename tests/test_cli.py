import os
import re
import subprocess
import sys

import pytest

from gnnkit.cli import main


def gnnkit(args, cwd, env=None, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "gnnkit.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_train_without_arguments_is_the_karate_demo(tmp_path):
    proc = gnnkit(["train"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"test accuracy: (\d\.\d+)", last)
    assert match and float(match.group(1)) >= 0.9
    png = tmp_path / "out" / "karate_embedding.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "out" / "curves.png").is_file() and (tmp_path / "out" / "metrics.jsonl").is_file()


def test_missing_dataset_is_one_line_without_traceback(tmp_path):
    proc = gnnkit(["train", "--experiment", "gcn-cora"], cwd=tmp_path, env={"GNNKIT_DATA": str(tmp_path / "empty")})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert str(tmp_path / "empty" / "planetoid") in lines[0] and "GNNKIT_DATA" in lines[0] and "--root" in lines[0]


def test_reproduce_list_names_every_experiment(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("gcn-cora", "cheb3-citeseer", "mlp-pubmed", "gat-ppi", "sage-lstm-ppi", "sage-pool-cora-inductive"):
        assert name in out


def test_flags_override_the_experiment(tmp_path, capsys):
    assert main(["train", "--model", "gcn", "--dataset", "karate", "--epochs", "7", "--hidden", "4", "--quiet",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "epochs: 7," in out
    assert len((tmp_path / "gcn-karate" / "metrics.jsonl").read_text().splitlines()) == 7


def test_conflicting_flags_are_one_clear_error(capsys):
    assert main(["train", "--experiment", "gcn-cora", "--model", "gat", "--dataset", "cora"]) == 2
    assert "either --experiment NAME or --model M --dataset D" in capsys.readouterr().err


def test_unknown_experiment_is_an_error_not_a_traceback(capsys):
    assert main(["reproduce", "gcn-coraa"]) == 2
    assert "did you mean gcn-cora" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["train", "--resume", "--epochs", "3"]])
def test_resume_continues_from_checkpoint(tmp_path, capsys, args):
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(tmp_path)]) == 0
    first = capsys.readouterr().out.splitlines()[-1]
    assert main(args + ["--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == first
