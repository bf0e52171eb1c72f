"""tasks/seq2seq.py: masked cross-entropy, teacher forcing, BLEU evaluation, synthetic pairs, errors."""
import math

import pytest
import torch

from gnnkit.models.transformer import Transformer
from gnnkit.tasks.seq2seq import Seq2Seq, SyntheticPairs, masked_cross_entropy
from gnnkit.train import TrainConfig, fit, seed_everything


def test_masked_cross_entropy_hand_computed():
    # two sequences of 3 steps; uniform logits over 4 classes give log 4 per token; the second
    # sequence's last two positions are padding and must not count (3 + 1 = 4 tokens).
    logits = torch.zeros(2, 3, 4)
    logits[0, 0, 1] = math.log(3.0)          # exp-sum 1 + 3 + 1 + 1 = 6: p(class 1) = 3 / 6 = 1/2
    target = torch.tensor([[1, 2, 3], [0, 0, 0]])
    loss = masked_cross_entropy(logits, target, torch.tensor([3, 1]))
    expected = (math.log(2.0) + 3 * math.log(4.0)) / 4     # tokens (0,0), (0,1), (0,2), (1,0)
    assert loss.item() == pytest.approx(expected)


def test_synthetic_pairs_targets():
    data = SyntheticPairs("reverse", num_examples=20, max_len=4, num_steps=6, seed=1)
    for s, t in zip(data.source, data.target):
        assert t == s[::-1]
    assert data.src.shape == (20, 6)
    eos = data.tgt_vocab["<eos>"]
    for i in range(20):
        assert data.tgt[i, len(data.target[i])] == eos
    srt = SyntheticPairs("sort", num_examples=10, seed=2)
    assert all(t == sorted(s, key=lambda x: int(x[1:])) for s, t in zip(srt.source, srt.target))
    with pytest.raises(ValueError, match="kind must be one of"):
        SyntheticPairs("shuffle")
    with pytest.raises(ValueError, match="room for <eos>"):
        SyntheticPairs(max_len=8, num_steps=8)


class Oracle(torch.nn.Module):
    """A 'model' that predicts the reverse exactly: teacher-forced logits from the targets it is
    given, greedy decoding returning the references (tests the task's bookkeeping, not learning)."""

    def __init__(self, data, V):
        super().__init__()
        self.data, self.V = data, V
        self.p = torch.nn.Parameter(torch.zeros(()))

    def forward(self, src, src_valid_len, dec_input):
        # dec_input = <bos>, y_1 .. y_{T-1}: find each row's target by its source
        rows = [next(i for i in range(self.data.src.size(0)) if torch.equal(self.data.src[i], s)) for s in src]
        tgt = self.data.tgt[rows]
        return torch.nn.functional.one_hot(tgt, self.V).float() * 50 + self.p

    def greedy_decode(self, src, src_valid_len, bos, eos, num_steps):
        rows = [next(i for i in range(self.data.src.size(0)) if torch.equal(self.data.src[i], s)) for s in src]
        tgt = self.data.tgt[rows]
        lengths = torch.tensor([int((r == eos).nonzero()[0]) for r in tgt])
        return tgt, lengths


def test_evaluate_with_a_perfect_model_gives_bleu_one_and_exact_one():
    data = SyntheticPairs("reverse", num_examples=40, min_len=2, max_len=4, num_steps=6, seed=3)
    task = Seq2Seq(data, torch.arange(30), torch.arange(30, 35), torch.arange(35, 40), batch_size=8)
    m = task.evaluate(Oracle(data, len(data.tgt_vocab)), "test")
    assert m["exact"] == 1.0 and m["bleu"] == pytest.approx(1.0) and m["token_acc"] == 1.0
    assert m["loss"] < 1e-6
    assert task.model_args() == {"src_vocab_size": len(data.src_vocab), "tgt_vocab_size": len(data.tgt_vocab)}


def test_teacher_forcing_input_is_bos_then_target_shifted():
    data = SyntheticPairs("copy", num_examples=8, seed=4)
    task = Seq2Seq(data, torch.arange(8), [], [], batch_size=8)
    seen = {}

    class Spy(torch.nn.Module):
        def forward(self, src, src_len, dec_input):
            seen["dec"] = dec_input
            return torch.zeros(*dec_input.shape, len(data.tgt_vocab), requires_grad=True)

    batch = next(iter(task.train_batches()))
    step = task.loss(Spy(), batch)
    assert torch.all(seen["dec"][:, 0] == data.tgt_vocab["<bos>"])
    assert torch.equal(seen["dec"][:, 1:], batch[2][:, :-1])
    assert step.size == int(batch[3].sum())
    assert task.evaluate(Spy(), "val")["bleu"] is None       # empty split


def test_errors_say_what_to_fix():
    data = SyntheticPairs("copy", num_examples=8, seed=4)
    with pytest.raises(ValueError, match="train_idx is empty"):
        Seq2Seq(data, [], [], [])
    with pytest.raises(ValueError, match=r"outside 0\.\.7"):
        Seq2Seq(data, [0, 8], [], [])
    with pytest.raises(TypeError, match="needs a 'src' attribute"):
        Seq2Seq(object(), [0], [], [])
    task = Seq2Seq(data, torch.arange(8), [], [])

    class Flat(torch.nn.Module):
        def forward(self, src, src_len, dec_input):
            return torch.zeros(dec_input.size(0), 5)

    with pytest.raises(ValueError, match=r"must return \[B, T, V\] logits"):
        task.loss(Flat(), next(iter(task.train_batches())))


@pytest.mark.slow
def test_transformer_learns_to_reverse_sequences():
    """The synthetic task trains the real model to > 99% exact match on held-out sequences."""
    seed_everything(0)
    data = SyntheticPairs("reverse", num_examples=2000, vocab_size=8, max_len=5, num_steps=6, seed=0)
    task = Seq2Seq(data, torch.arange(1600), torch.arange(1600, 2000), torch.arange(1600, 2000), batch_size=64)
    model = Transformer(**task.model_args(), num_hiddens=32, ffn_num_hiddens=64, num_heads=4, num_layers=2,
                        dropout=0.0)
    result = fit(model, task, TrainConfig(epochs=30, lr=0.01, clip_grad=1.0, lr_step=10, lr_gamma=0.5, quiet=True))
    assert result.test["exact"] > 0.99
