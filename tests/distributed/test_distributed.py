"""Distributed training (distributed/): two processes on localhost over gloo through torchrun keep
identical weights and lower the loss; a killed rank makes the survivor exit non-zero, saying why."""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from gnnkit.distributed import torchrun_command
from gnnkit.distributed.worker import EXIT_LOST_PEER


def _env(tmp_path) -> dict:
    return os.environ | {"OMP_NUM_THREADS": "1", "GNNKIT_CACHE": str(tmp_path / "cache")}


def test_torchrun_two_processes_keep_identical_weights_and_learn(tmp_path, capfd, monkeypatch):
    from gnnkit.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "cache"))
    status = main(["train", "-e", "cluster-gcn-synth-small", "--nproc", "2", "--epochs", "6",
                   "--out", str(tmp_path / "out"), "--quiet"])
    out = capfd.readouterr().out
    assert status == 0, out
    checksums = dict(re.findall(r"rank (\d): parameters ([0-9a-f]+)", out))
    assert set(checksums) == {"0", "1"} and checksums["0"] == checksums["1"]      # DDP kept them identical
    run = tmp_path / "out" / "cluster-gcn-synth-small"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and rows[-1]["train_loss"] < rows[0]["train_loss"]
    result = json.loads((run / "result.json").read_text())
    assert result["world_size"] == 2 and result["parameters"] == checksums["0"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(proc, pattern: str, seconds: float) -> bool:
    deadline, seen = time.monotonic() + seconds, ""
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            seen += os.read(proc.stdout.fileno(), 4096).decode()
            if re.search(pattern, seen):
                return True
    return False


@pytest.mark.slow
def test_a_killed_rank_makes_the_other_exit_with_a_clear_message(tmp_path):
    port, timeout = _free_port(), 20
    procs = []
    for rank in range(2):
        env = _env(tmp_path) | {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                                "LOCAL_RANK": str(rank), "WORLD_SIZE": "2"}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gnnkit.distributed.worker", "-e", "cluster-gcn-synth-small", "--epochs", "100000",
             "--timeout", str(timeout), "--out", str(tmp_path / "out"), "--quiet"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    try:
        assert _wait_for(procs[1], r"rank 1: epoch 2 ", 240), "rank 1 never reached epoch 2"
        procs[1].send_signal(signal.SIGKILL)
        started = time.monotonic()
        code = procs[0].wait(timeout=timeout + 30)
        elapsed = time.monotonic() - started
        err = procs[0].stderr.read().decode()
        assert code == EXIT_LOST_PEER, err
        assert "rank 0 of 2 lost contact with the other ranks" in err and "a rank died" in err
        assert elapsed < timeout + 30
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def _args(**kw):
    base = dict(nproc=2, nnodes=1, node_rank=0, rdzv_endpoint=None, dist_timeout=60.0, experiment="cluster-gcn-cora",
                model=None, dataset=None, seed=0, out="out", epochs=None, root=None, quiet=False)
    return SimpleNamespace(**(base | kw))


def test_torchrun_command_one_machine_and_several():
    cmd = torchrun_command(_args())
    assert cmd[1:4] == ["-m", "torch.distributed.run", "--nproc-per-node=2"] and "--standalone" in cmd
    assert cmd[cmd.index("-m", 2) + 1] == "gnnkit.distributed.worker"
    cmd = torchrun_command(_args(nproc=4, nnodes=2, node_rank=1, rdzv_endpoint="10.0.0.1:29500", epochs=5))
    assert {"--nnodes=2", "--node-rank=1", "--rdzv-backend=c10d", "--rdzv-endpoint=10.0.0.1:29500"} <= set(cmd)
    assert "--standalone" not in cmd and cmd[-2:] == ["--epochs", "5"]


@pytest.mark.parametrize("kw, message", [
    (dict(nnodes=2), "needs --rdzv-endpoint"),
    (dict(experiment=None), "needs --experiment NAME"),
    (dict(model="gcn", dataset="cora"), "not --model/--dataset"),
    (dict(nproc=0), "--nproc must be >= 1"),
])
def test_torchrun_command_errors(kw, message):
    with pytest.raises(ValueError, match=message):
        torchrun_command(_args(**kw))


def test_worker_refuses_to_run_outside_torchrun(capsys, monkeypatch):
    from gnnkit.distributed.worker import main

    monkeypatch.delenv("RANK", raising=False)
    assert main(["-e", "cluster-gcn-cora"]) == 2
    assert "start it through torchrun" in capsys.readouterr().err
