"""experiments/seq2seq.py: the d2l.ai protocol (settings, probes appended as val/test), the synthetic
entry, and a short end-to-end run on the real fra-eng file with the heatmaps."""
import json

import torch

from gnnkit.experiments import get
from gnnkit.experiments.data import load_task
from gnnkit.experiments.seq2seq import PROBES, translation_run


def test_the_chapters_settings():
    e = get("transformer-fra-eng")
    assert e.model_args == {"num_hiddens": 32, "ffn_num_hiddens": 64, "num_heads": 4, "num_layers": 2, "dropout": 0.1}
    assert (e.train.epochs, e.train.lr, e.train.clip_grad, e.batch_size) == (200, 0.005, 1.0, 64)
    assert e.task == "seq2seq" and e.metric == "bleu"


def test_fra_eng_task_has_600_training_pairs_and_the_probes(data_root):
    task = load_task(get("transformer-fra-eng"), data_root)
    assert task.train_idx.numel() == 600 and task.num_steps == 10
    assert task.model_args() == {"src_vocab_size": 184, "tgt_vocab_size": 201}       # the chapter's vocabularies
    refs = [" ".join(task.data.target[i]) for i in task.test_idx.tolist()]
    assert refs == [fra for _, fra in PROBES]
    assert torch.equal(task.val_idx, task.test_idx)


def test_synthetic_entry_builds_without_files(tmp_path):
    task = load_task(get("transformer-synthetic-reverse"), tmp_path)
    assert task.train_idx.numel() == 1600 and task.test_idx.numel() == 400


def test_translation_run_end_to_end_writes_probes_and_heatmaps(data_root, tmp_path):
    lines = []
    result = translation_run(tmp_path, root=data_root, epochs=2, echo=lines.append)
    assert [p["source"] for p in result["probes"]] == [s for s, _ in PROBES]
    assert all(0.0 <= p["bleu"] <= 1.0 for p in result["probes"])
    assert lines[0].startswith("go . => ") and ", bleu " in lines[0]
    names = {p.split("/")[-1] for p in result["plots"]}
    assert names == {"loss.png", "encoder_self_attention.png", "decoder_self_attention.png",
                     "decoder_enc_dec_attention.png"}
    saved = json.loads((tmp_path / "translation.json").read_text())
    assert len(saved["loss_curve"]) == 2 and saved["epochs"] == 2
