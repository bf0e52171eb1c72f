"""train.seed: a seed reproduces every generator the training loop draws from, and the saved random
state survives a checkpoint (weights_only) and resumes the same draws."""
import random

import numpy as np
import torch

from gnnkit.train.checkpoint import load_checkpoint, save_checkpoint
from gnnkit.train.seed import rng_state, seed_everything, set_rng_state


def draws():
    return torch.rand(3).tolist(), random.random(), np.random.rand(2).tolist(), torch.randperm(5).tolist()


def test_the_same_seed_gives_the_same_draws_and_another_seed_other_draws():
    seed_everything(11)
    first = draws()
    seed_everything(11)
    assert draws() == first
    seed_everything(12)
    other = draws()
    assert all(a != b for a, b in zip(other[:3], first[:3]))


def test_rng_state_restores_every_generator(tmp_path):
    seed_everything(3)
    draws()                                    # move away from the seed's start
    state = rng_state()
    expected = draws()
    draws()
    save_checkpoint({"model": {}, "epoch": 1, "rng": state}, tmp_path / "ckpt.pt")   # as the trainer stores it
    set_rng_state(load_checkpoint(tmp_path / "ckpt.pt")["rng"])
    assert draws() == expected


def test_deterministic_flag_switches_torch_deterministic_algorithms():
    try:
        seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        seed_everything(0)
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
