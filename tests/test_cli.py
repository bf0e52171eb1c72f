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
    run_dir = tmp_path / "out" / "gcn-karate" / "seed-0"
    png = run_dir / "karate_embedding.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run_dir / "curves.png").is_file() and (run_dir / "metrics.jsonl").is_file()


def test_missing_dataset_is_one_line_without_traceback(tmp_path):
    proc = gnnkit(["train", "--experiment", "gcn-cora"], cwd=tmp_path, env={"GNNKIT_DATA": str(tmp_path / "empty")})
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr and lines[0].startswith("gnnkit: error: data absent")
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
    assert len((tmp_path / "gcn-karate" / "seed-0" / "metrics.jsonl").read_text().splitlines()) == 7
    assert re.search(r"model\.hidden_channels +4 +\(overridden\)", out)
    assert re.search(r"train\.epochs +7 +\(overridden\)", out) and re.search(r"train\.lr +0\.01\n", out)


def test_conflicting_flags_are_one_clear_error(capsys):
    assert main(["train", "--experiment", "gcn-cora", "--model", "gat", "--dataset", "cora"]) == 2
    assert "either --experiment NAME or --model M --dataset D" in capsys.readouterr().err


@pytest.mark.parametrize("token", ["--lr=--", "--seed=--", "--epochs=--"])
def test_double_dash_as_an_option_value_is_a_usage_error(capsys, token):
    # argparse itself would hand the option an empty list and skip its type check (found by the
    # slow CLI fuzz profile: a TypeError traceback from TrainConfig)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", token, "--epochs", "1", "--quiet"])
    assert exit_info.value.code == 2
    assert f"argument {token[:-3]}: '--' is not a value" in capsys.readouterr().err


def test_unknown_experiment_is_an_error_not_a_traceback(capsys):
    assert main(["reproduce", "gcn-coraa"]) == 2
    assert "did you mean gcn-cora" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["train", "--resume", "--epochs", "3"]])
def test_resume_continues_from_checkpoint(tmp_path, capsys, args):
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(tmp_path)]) == 0
    first = capsys.readouterr().out.splitlines()[-1]
    assert main(args + ["--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == first
    # a fresh run into the folder of a run is refused without --resume or --overwrite
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(tmp_path)]) == 2
    assert "holds an earlier run's checkpoint; pass --resume to continue it or --overwrite" in capsys.readouterr().err
    assert main(["train", "--epochs", "3", "--quiet", "--overwrite", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == first


def test_a_node_model_on_a_graph_dataset_names_the_task_it_needs(capsys):
    assert main(["train", "--model", "gcn", "--dataset", "MUTAG"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"MUTAG is a graph dataset \(graph task\) but gcn is a [a-z/]*node[a-z/]* model; models for "
                     r"it: .*\bgin\b", err)


def test_model_and_dataset_start_from_the_models_protocol_for_that_task(data_root, tmp_path, capsys):
    assert main(["train", "--model", "gin", "--dataset", "PTC_MR", "--epochs", "1", "--quiet", "--root",
                 str(data_root), "--out", str(tmp_path)]) == 0
    assert "test accuracy:" in capsys.readouterr().out
    assert (tmp_path / "gin-ptc_mr" / "seed-0" / "curves.png").is_file()


def test_train_and_reproduce_help_show_every_default(capsys):
    from gnnkit.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices      # argparse's subcommand table
    for command in ("train", "reproduce"):
        for action in sub[command]._actions:
            if action.dest != "help":
                assert action.help and "default" in action.help, (command, action.dest)
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "(default: 0)" in capsys.readouterr().out


def test_version(capsys):
    import gnnkit

    with pytest.raises(SystemExit) as err:
        main(["--version"])
    assert err.value.code == 0 and capsys.readouterr().out.strip() == f"gnnkit {gnnkit.__version__}"


@pytest.mark.parametrize("args, flag, what", [
    (["train", "--epochs", "-5"], "--epochs", "a positive integer"), (["train", "--epochs", "0"], "--epochs", "a positive integer"),
    (["train", "--hidden", "-4"], "--hidden", "a positive integer"), (["train", "--seed", "-1"], "--seed", "an integer >= 0"),
    (["train", "--patience", "-1"], "--patience", "a positive integer"), (["train", "--lr", "0"], "--lr", "a finite number > 0"),
    (["train", "--dropout", "1.5"], "--dropout", "in [0, 1)"), (["train", "--lr", "nan"], "--lr", "a finite number > 0"),
    (["reproduce", "gcn-cora", "--seeds", "0"], "--seeds", "a positive integer"),
    (["reproduce", "gcn-cora", "--seeds", "-3"], "--seeds", "a positive integer"),
    (["reproduce", "gcn-cora", "--epochs", "x"], "--epochs", "a positive integer"),
])
def test_bad_numbers_are_refused_before_training_naming_the_flag(capsys, args, flag, what):
    with pytest.raises(SystemExit) as err:
        main(args)
    line = capsys.readouterr().err.strip()
    assert err.value.code == 2 and "\n" not in line
    assert line.startswith(f"gnnkit: error: argument {flag}: must be {what}")


def test_out_onto_a_file_or_a_read_only_folder_fails_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["train", "--out", str(tmp_path / "file")]) == 2
    assert "is a file; pass a folder" in capsys.readouterr().err
    assert main(["reproduce", "gcn-karate", "--out", str(tmp_path / "file" / "sub")]) == 2
    assert "--out" in capsys.readouterr().err
    if os.geteuid() != 0:        # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        assert main(["reproduce", "gcn-karate", "--out", str(ro)]) == 2
        assert "is not writable" in capsys.readouterr().err


def test_ctrl_c_prints_the_epoch_and_the_resume_hint(tmp_path, capsys, monkeypatch):
    import gnnkit.experiments as experiments
    from gnnkit.train import TrainingInterrupted

    def interrupted(*args, **kwargs):
        raise TrainingInterrupted(4, tmp_path / "checkpoint.pt")

    monkeypatch.setattr(experiments, "run", interrupted)
    assert main(["train", "--quiet", "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err.strip() == (f"gnnkit: interrupted at epoch 4; rerun with --resume to continue "
                                               f"from {tmp_path / 'checkpoint.pt'}")


def test_resume_without_a_checkpoint_is_a_usage_error(tmp_path, capsys):
    assert main(["train", "--resume", "--out", str(tmp_path)]) == 2
    assert "--resume: no checkpoint in" in capsys.readouterr().err


@pytest.mark.parametrize("args, code", [
    (["train", "--experiment", "nosuch"], 2), (["reproduce", "nosuch"], 2), (["train", "--nosuchflag"], 2),
    (["results", "--dir", "/nonexistent-gnnkit-dir", "--out", "/tmp/gnnkit-results-test.md"], 1),
    (["data", "info", "nosuch"], 2), (["wl", "/nonexistent-gnnkit-1", "/nonexistent-gnnkit-2"], 1), (["wl"], 2),
])
def test_every_subcommand_errors_in_one_style(capsys, args, code):
    try:
        status = main(args)
    except SystemExit as err:
        status = err.code
    err_text = capsys.readouterr().err.strip()
    assert status == code, err_text
    assert err_text.startswith("gnnkit: error: ") and "Traceback" not in err_text


def test_reproduce_list_has_a_header_and_the_data_status(data_root, capsys):
    assert main(["reproduce", "--list", "--root", str(data_root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:7] == ["name", "task", "dataset", "protocol", "metric", "paper", "data"]
    cora = next(line for line in lines if line.startswith("gcn-cora "))
    pubmed = next(line for line in lines if line.startswith("gcn-pubmed "))
    assert " present " in cora and " 81.5 " in cora and " absent " in pubmed
