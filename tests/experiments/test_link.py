"""Link-prediction experiments (experiments/link.py): entries, the 'link' builder, PubMed's absence."""
import pytest

from gnnkit.experiments import get, reproduce
from gnnkit.experiments.link import VGAE_TABLE, entries
from gnnkit.experiments.spec import PROTOCOLS, TASKS


def test_entries_carry_the_papers_auc_and_ap():
    names = {e.name: e for e in entries()}
    for model in ("gae", "vgae"):
        for ds in ("cora", "citeseer", "pubmed"):
            e = names[f"{model}-{ds}"]
            assert e.task == "link" and e.protocol == "link" and e.metric == "auc"
            assert e.metrics == ("auc", "ap", "probe_micro_f1")
            auc, ap = VGAE_TABLE[model][ds]
            assert e.paper == {"auc": pytest.approx(auc / 100), "ap": pytest.approx(ap / 100)}
            assert e.train.epochs == 200 and e.train.lr == 0.01
    assert names["gae-cora"].paper["auc"] == pytest.approx(0.910)
    assert names["vgae-citeseer"].paper["ap"] == pytest.approx(0.920)
    for aggr in ("mean", "gcn", "pool", "lstm"):
        assert names[f"sage-unsup-{aggr}-cora"].model_args["aggr"] == aggr
    assert "link" in TASKS and "link" in PROTOCOLS


def test_pubmed_entries_report_data_absent(data_root):
    out = reproduce(["gae-pubmed"], seeds=1, root=data_root, echo=lambda *_: None)
    row = out["summary"][0]
    if row["status"] == "ok":
        pytest.skip("PubMed's allx is present here")
    assert row["status"] == "data absent" and row["paper"] == pytest.approx(0.964)


def test_gae_cora_reproduces_a_short_run_with_every_metric(data_root):
    out = reproduce(["gae-cora"], seeds=1, root=data_root, epochs=3, echo=lambda *_: None)
    metrics = out["summary"][0]["metrics"]
    assert set(metrics) == {"auc", "ap", "probe_micro_f1"}
    assert 0.5 < metrics["auc"]["mean"] <= 1 and 0 < metrics["probe_micro_f1"]["mean"] <= 1


def test_negative_sampling_entries_use_the_sampled_loss_and_the_same_split(data_root):
    from gnnkit.experiments.data import load_data, make_task

    dense, sampled = get("gae-cora"), get("gae-ns-cora")
    assert sampled.protocol == "link-sampled" and sampled.paper == dense.paper
    assert get("vgae-ns-citeseer").model == "vgae"
    a, b = (make_task(e, load_data(e, data_root)) for e in (dense, sampled))
    assert a.negatives == "dense" and b.negatives == "sampled"
    assert (a.split.test_pos == b.split.test_pos).all() and (a.split.test_neg == b.split.test_neg).all()


def test_link_protocols_are_the_only_ones_for_link_tasks(data_root):
    from dataclasses import replace

    from gnnkit.experiments.data import load_data, make_task

    exp = replace(get("gae-cora"), protocol="public")
    with pytest.raises(ValueError, match="the 'link' and 'link-sampled' protocols"):
        make_task(exp, load_data(exp, data_root))
