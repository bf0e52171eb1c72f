"""experiments/graph.py: the GIN-page entries, their paper numbers, and the side-by-side table."""
import json

import pytest

from gnnkit.experiments import get
from gnnkit.experiments.graph import DATASETS, UNCONFIRMED, side_by_side


@pytest.mark.parametrize("key, kind", [(k, kind) for k, _, kind in DATASETS])
def test_every_dataset_has_every_entry(key, kind):
    for prefix in ("gin0", "gineps", "gin-fair", "baseline", "wl", "gin-sum-mlp", "gin-mean-1layer", "gin-max-mlp"):
        e = get(f"{prefix}-{key}")
        # GIN's node inputs, except the 'fair' entries on the social sets: Errica et al.'s degree
        fair_social = prefix in ("gin-fair", "baseline") and kind == "social"
        assert e.task == "graph" and e.folds == 10 and e.transform == ("gin-degree" if fair_social else "gin")
    assert get(f"gin0-{key}").protocol == "gin-paper" and get(f"gin-fair-{key}").protocol == "fair"
    assert get(f"gin-fair-{key}").grid and get(f"baseline-{key}").model == "graph-mlp"
    assert get(f"wl-{key}").model == "wl-subtree"


def test_paper_architecture_and_readouts():
    bio, social = get("gin0-mutag"), get("gin0-imdb-b")
    assert bio.model_args["num_layers"] == 5 and bio.iters_per_epoch == 50 and bio.train.epochs == 350
    assert bio.train.lr == 0.01 and bio.train.lr_step == 50 and bio.train.lr_gamma == 0.5
    assert (bio.model_args["hidden_channels"], bio.model_args["readout"]) == (32, "sum")
    assert (social.model_args["hidden_channels"], social.model_args["readout"]) == (64, "mean")
    assert get("gineps-mutag").model_args["train_eps"] and not get("gin0-mutag").model_args.get("train_eps")
    assert get("gin-max-1layer-mutag").model_args["readout"] is None      # follows the aggregation


def test_the_social_baselines_also_select_errica_s_lower_learning_rate():
    from gnnkit.experiments.protocols import configure

    social, bio = get("baseline-collab"), get("baseline-nci1")
    assert {(g["hidden_channels"], g["lr"]) for g in social.grid} == {(32, 0.01), (128, 0.01), (32, 0.001), (128, 0.001)}
    assert configure(social, social.grid[-1]).train.lr == 0.001 and social.train.lr == 0.01
    assert [g["hidden_channels"] for g in bio.grid] == [32, 128] and all("lr" not in g for g in bio.grid)


def test_only_confirmed_paper_numbers_are_printed():
    assert get("gin0-mutag").paper_value() == 0.894 and get("gin0-mutag").paper_std_value() == 0.056
    assert get("gineps-reddit-b").paper_value() is None and "not yet confirmed" in get("gineps-reddit-b").source
    assert get("wl-nci1").paper_value() == 0.860 and get("baseline-imdb-m").paper_value() == 0.491
    assert get("baseline-nci1").source.endswith("(chemical sets)") and "degree" in get("baseline-collab").source
    assert get("baseline-mutag").paper_value() is None                    # not in Errica's tables
    assert ("WL", "mutag") not in UNCONFIRMED and get("gin-fair-nci1").paper_value() == 0.800


def test_absent_dataset_says_data_absent(tmp_path):
    from gnnkit.experiments import reproduce

    (tmp_path / "tu").mkdir()
    r = reproduce(["wl-reddit-m5k"], root=tmp_path, echo=lambda *_: None)
    assert r["summary"][0]["status"] == "data absent"


def test_side_by_side_table(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"summary": [{"experiment": "gin0-mutag", "status": "ok", "mean": 0.9, "std": 0.05},
                                            {"experiment": "wl-reddit-m5k", "status": "data absent"}]}))
    table = side_by_side([path])
    row = next(line for line in table.splitlines() if line.startswith("| mutag |"))
    assert row.startswith("| mutag | 90.0 ± 5.0 | 89.4 ± 5.6 | not run |")
    assert "| reddit-m5k |" in table and "data absent" in table


def test_figure4_writes_the_six_training_curves_with_the_overrides(data_root, tmp_path):
    from gnnkit.experiments.graph import FIGURE4_VARIANTS, figure4

    out = tmp_path / "fig4.png"
    curves = figure4(("mutag",), epochs=2, root=data_root, out=str(out), model_args={"hidden_channels": 8})
    saved = json.loads(out.with_suffix(".json").read_text())
    assert out.stat().st_size > 0 and saved["model_args"] == {"hidden_channels": 8}
    assert set(curves["mutag"]) == set(FIGURE4_VARIANTS) == set(saved["curves"]["mutag"])
    for accs in curves["mutag"].values():
        assert len(accs) == 2 and all(0.0 <= a <= 1.0 for a in accs)
    # the overrides reach the model's constructor
    with pytest.raises((TypeError, ValueError), match="not_an_argument"):
        figure4(("mutag",), epochs=1, root=data_root, out=str(tmp_path / "bad.png"), model_args={"not_an_argument": 1})
