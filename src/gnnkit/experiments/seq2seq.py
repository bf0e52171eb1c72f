"""Sequence-to-sequence protocols: the d2l.ai Transformer chapter's English -> French run, and a
synthetic sequence task that exercises the same code without the sentence file.

Source: Zhang, Lipton, Li & Smola, "Dive into Deep Learning", section "The Transformer
Architecture" (training: ``num_hiddens, num_layers, dropout, batch_size, num_steps = 32, 2, 0.1,
64, 10``; ``lr, num_epochs = 0.005, 200``; ``ffn_num_hiddens, num_heads = 64, 4``; Adam, gradients
clipped to norm 1 in ``train_seq2seq``; data ``load_data_nmt(batch_size, num_steps)``: the first
600 pairs, vocabularies with ``min_freq=2``). The chapter reports no held-out score: it trains on
all 600 pairs and prints four probe translations with BLEU-2 (three of them are training pairs,
"he's calm ." is not in the file). Here the probes are appended as the validation and test split, so ``gnnkit reproduce transformer-fra-eng`` reports their mean BLEU-2.

``python -m gnnkit.experiments.seq2seq --out DIR`` runs the chapter end to end: trains, prints
each probe's translation and BLEU, writes the loss curve and the three attention heatmaps
(``viz.attention``) and ``DIR/translation.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from gnnkit.experiments.spec import Experiment
from gnnkit.train import TrainConfig

# d2l.ai Transformer section: the four probes and their references.
PROBES = (("go .", "va !"), ("i lost .", "j'ai perdu ."), ("he's calm .", "il est calme ."),
          ("i'm home .", "je suis chez moi ."))
# Data options per dataset (the chapter's load_data_nmt: 600 pairs, 10 steps, min_freq 2).
DATA = {
    "fra-eng": {"num_steps": 10, "num_examples": 600, "min_freq": 2},
    "synthetic-reverse": {"kind": "reverse", "num_examples": 2000, "vocab_size": 8, "max_len": 5, "num_steps": 6},
}
D2L_TRAIN = TrainConfig(epochs=200, lr=0.005, clip_grad=1.0)
D2L_MODEL = {"num_hiddens": 32, "ffn_num_hiddens": 64, "num_heads": 4, "num_layers": 2, "dropout": 0.1}
SOURCE = "d2l.ai, 'The Transformer Architecture' (training section; no held-out score, four probes with BLEU-2)"


def entries() -> list[Experiment]:
    return [
        Experiment("transformer-fra-eng", "fra-eng", "transformer", D2L_MODEL, D2L_TRAIN, task="seq2seq",
                   protocol="given", metric="bleu", metrics=("bleu", "exact", "token_acc"), batch_size=64,
                   source=SOURCE,
                   notes="train = the chapter's 600 pairs; val = test = the four probe pairs (mean BLEU-2)"),
        Experiment("transformer-synthetic-reverse", "synthetic-reverse", "transformer",
                   {"num_hiddens": 32, "ffn_num_hiddens": 64, "num_heads": 4, "num_layers": 2, "dropout": 0.0},
                   TrainConfig(epochs=30, lr=0.01, clip_grad=1.0, lr_step=10, lr_gamma=0.5), task="seq2seq",
                   protocol="given",
                   metric="exact", metrics=("exact", "bleu", "token_acc"), batch_size=64,
                   source="synthetic (no paper): reverse random sequences of 1-5 tokens over 8 symbols",
                   notes="the first 1600 of 2000 generated pairs train, the last 400 validate and test"),
    ]


# ------------------------------------------------------------------ the builder (experiments.data.BUILDERS)
def load(exp, root):
    """The sentence pairs: ``fra-eng`` through the datasets registry (``DataAbsent`` when the file is
    missing), ``synthetic-*`` generated (no file)."""
    options = DATA.get(exp.dataset, {})
    if exp.dataset.startswith("synthetic-"):
        from gnnkit.tasks.seq2seq import SyntheticPairs

        return SyntheticPairs(**options)
    from gnnkit import datasets

    return datasets.load(exp.dataset, root, **options)


def with_pairs(data, pairs=PROBES):
    """``(data', ids)``: ``data`` with ``pairs`` (raw ``(source, reference)`` sentences) appended as extra
    rows, tokenized with the data's vocabularies (unknown words -> ``<unk>``), and their row ids. The
    chapter's probes are not all training pairs ("he's calm ." is not in the file)."""
    from types import SimpleNamespace

    from gnnkit.datasets.sentences import preprocess, to_tensor

    source = [preprocess(s).split(" ") for s, _ in pairs]
    target = [preprocess(t).split(" ") for _, t in pairs]
    src, src_len = to_tensor(source, data.src_vocab, data.src.size(1))
    tgt, tgt_len = to_tensor(target, data.tgt_vocab, data.tgt.size(1))
    n = data.src.size(0)
    out = SimpleNamespace(src=torch.cat([data.src, src]), src_valid_len=torch.cat([data.src_valid_len, src_len]),
                          tgt=torch.cat([data.tgt, tgt]), tgt_valid_len=torch.cat([data.tgt_valid_len, tgt_len]),
                          src_vocab=data.src_vocab, tgt_vocab=data.tgt_vocab,
                          source=list(data.source) + source, target=list(data.target) + target)
    return out, torch.arange(n, n + len(pairs))


def task(exp, data, run: int):
    from gnnkit.tasks.seq2seq import Seq2Seq

    if exp.protocol != "given":
        raise ValueError(f"{exp.name}: seq2seq has only the 'given' protocol (got {exp.protocol!r})")
    n = data.src.size(0)
    if exp.dataset == "fra-eng":
        data, probes = with_pairs(data)
        return Seq2Seq(data, torch.arange(n), probes, probes, batch_size=exp.batch_size or 64)
    a = int(0.8 * n)        # generated pairs are i.i.d.: the first 80% train, the rest validate and test
    return Seq2Seq(data, torch.arange(a), torch.arange(a, n), torch.arange(a, n), batch_size=exp.batch_size or 64)


# ------------------------------------------------------------------ the chapter end to end
def translation_run(out: str | Path, seed: int = 0, root=None, name: str = "transformer-fra-eng",
                    epochs: int | None = None, echo=print) -> dict:
    """Train ``name``, translate the probes (each with its BLEU-2), plot the loss curve and the
    encoder self-, decoder self- and encoder-decoder attention of the last probe; write
    ``out/translation.json``."""
    from gnnkit.experiments.data import load_data, make_task
    from gnnkit.experiments.registry import get
    from gnnkit.experiments.run import run
    from gnnkit.metrics import bleu
    from gnnkit.train import write_json
    from gnnkit.viz.attention import plot_decoder_attention, plot_encoder_attention, plot_loss

    exp = get(name)
    if epochs is not None:
        exp = exp.override(epochs=epochs)
    out = Path(out)
    t0 = time.perf_counter()
    data = load_data(exp, root)
    tk = make_task(exp, data)
    row = run(exp, seed, task=tk, out=out / f"seed-{seed}", quiet=True)
    model = row.pop("model")
    wall = time.perf_counter() - t0
    history = [json.loads(line) for line in (out / f"seed-{seed}" / "metrics.jsonl").read_text().splitlines()]
    probes = []
    for eng, fra in PROBES:
        translation, (enc_w, dec_w, n) = tk.translate(model, [eng], save_attention=True)
        score = bleu(translation[0], fra, k=2)
        echo(f"{eng} => {translation[0]}, bleu {score:.3f}")
        probes.append({"source": eng, "reference": fra, "translation": translation[0], "bleu": score})
    plots = [plot_loss(history, out / "loss.png", title=f"{name}: training loss"),
             plot_encoder_attention(enc_w, out / "encoder_self_attention.png", num_keys=len(PROBES[-1][0].split()) + 1),
             *plot_decoder_attention(dec_w, n, out / "decoder_self_attention.png", out / "decoder_enc_dec_attention.png",
                                     num_keys=len(PROBES[-1][0].split()) + 1)]
    result = {"experiment": name, "seed": seed, "epochs": row["epochs"], "wall_seconds": round(wall, 2),
              "train_seconds": row["seconds"], "seconds_per_epoch": row["seconds"] / max(row["epochs"], 1),
              "final_train_loss": history[-1]["train_loss"], "final_d2l_loss": history[-1].get("train_d2l_loss"),
              "loss_curve": [h["train_loss"] for h in history],
              "d2l_loss_curve": [h.get("train_d2l_loss") for h in history],
              "probes": probes, "mean_probe_bleu": sum(p["bleu"] for p in probes) / len(probes),
              "test_metrics": row["test_metrics"], "plots": [str(p) for p in plots],
              "torch_version": torch.__version__, "threads": torch.get_num_threads()}
    write_json(result, out / "translation.json")
    write_json(_results_file(exp, row, result, wall), out / "results.json")
    echo(f"loss {result['final_train_loss']:.4f} (d2l's definition {result['final_d2l_loss']:.4f}), "
         f"{row['epochs']} epochs in {row['seconds']:.1f} s ({result['seconds_per_epoch'] * 1000:.0f} ms/epoch)")
    return result


def _results_file(exp, row: dict, translation: dict, wall: float) -> dict:
    """A ``gnnkit reproduce``-style results.json (one run) with the translation's extras beside it."""
    import platform
    import sys
    from datetime import datetime, timezone

    import gnnkit
    from gnnkit.experiments.run import summarize

    row = {k: v for k, v in row.items() if k != "model"}
    return {"gnnkit_version": gnnkit.__version__, "torch_version": torch.__version__,
            "python": platform.python_version(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command_seeds": 1, "wall_seconds": round(wall, 2), "summary": [summarize(exp, [row])], "runs": [row],
            "configs": {exp.name: exp.to_dict()}, "command": "python -m gnnkit.experiments.seq2seq " + " ".join(sys.argv[1:]),
            "translation": {k: translation[k] for k in ("probes", "mean_probe_bleu", "final_train_loss", "final_d2l_loss",
                                                        "loss_curve", "d2l_loss_curve", "seconds_per_epoch",
                                                        "train_seconds", "wall_seconds")}}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=translation_run.__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None)
    p.add_argument("--name", default="transformer-fra-eng")
    p.add_argument("--epochs", type=int, default=None)
    a = p.parse_args(argv)
    translation_run(a.out, a.seed, a.root, a.name, a.epochs)


if __name__ == "__main__":
    main()
