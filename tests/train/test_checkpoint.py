"""train.checkpoint: atomic writes (no half-written file, no temp file left) and loads that never run code."""
import json
import os
from pathlib import Path

import pytest
import torch

from gnnkit.train.checkpoint import CheckpointError, _atomic, load_checkpoint, save_checkpoint, write_json, write_jsonl


def test_checkpoint_round_trip(tmp_path):
    state = {"model": {"w": torch.arange(6.0).view(2, 3)}, "epoch": 7, "best": 0.81, "history": [{"loss": 1.5}],
             "name": "gcn", "done": False}
    path = tmp_path / "run" / "checkpoint.pt"          # the folder is made
    save_checkpoint(state, path)
    back = load_checkpoint(path)
    assert torch.equal(back["model"]["w"], state["model"]["w"])
    assert {k: v for k, v in back.items() if k != "model"} == {k: v for k, v in state.items() if k != "model"}
    assert os.listdir(path.parent) == ["checkpoint.pt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "results.json"
    write_json({"old": 1}, path)

    def half_then_crash(f):
        f.write(b'{"new": ')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _atomic(path, half_then_crash)
    assert json.loads(path.read_text()) == {"old": 1}
    assert sorted(os.listdir(tmp_path)) == ["results.json"]


def test_an_interrupted_first_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _atomic(tmp_path / "checkpoint.pt", lambda f: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert os.listdir(tmp_path) == []


class _Payload:
    """Unpickling this would run ``Path(marker).touch()``: what a malicious checkpoint does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_load_refuses_a_pickle_payload_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": _Payload(marker)}, path)
    with pytest.raises(CheckpointError, match=r"evil.pt is not a readable gnnkit checkpoint \(UnpicklingError"):
        load_checkpoint(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)       # the payload is real: unpickling without the guard runs it
    assert marker.exists()


def test_load_of_a_missing_checkpoint_says_how_to_start(tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint at .*nothing.pt; run without --resume"):
        load_checkpoint(tmp_path / "nothing.pt")


def test_load_refuses_a_file_that_is_not_a_training_checkpoint(tmp_path):
    save_checkpoint({"weights": torch.zeros(2)}, tmp_path / "other.pt")      # loads, but no model / epoch
    with pytest.raises(CheckpointError, match=r"other.pt is not a gnnkit training checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_json_and_jsonl_are_readable_by_others(tmp_path):
    write_json({"a": [1, 2]}, tmp_path / "r.json")
    write_jsonl([{"epoch": 1}, {"epoch": 2}], tmp_path / "m.jsonl")
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": [1, 2]}
    assert [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()] == [{"epoch": 1},
                                                                                              {"epoch": 2}]
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644   # not mkstemp's 0600
