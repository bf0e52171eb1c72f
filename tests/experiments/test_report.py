"""experiments/report.py and `gnnkit results`: docs/results.md regenerated from results files."""
import json
from pathlib import Path

import pytest

from gnnkit.cli import main
from gnnkit.experiments import report

REPO = Path(__file__).resolve().parents[2]

RESULTS = {
    "command": "gnnkit reproduce gcn-cora gcn-pubmed --seeds 2 --out /tmp/x", "date": "2026-12-02T10:00:00+00:00",
    "wall_seconds": 200.0, "gnnkit_version": "0.1.0", "torch_version": "2.13.0",
    "summary": [
        {"experiment": "gcn-cora", "metric": "acc", "seeds": 2, "mean": 0.8125, "std": 0.005, "paper": 0.815,
         "paper_std": None, "difference": -0.0025, "seconds": 1.5, "status": "ok",
         "metrics": {"acc": {"mean": 0.8125, "std": 0.005, "paper": 0.815, "paper_std": None,
                             "difference": -0.0025}}},
        {"experiment": "gcn-pubmed", "metric": "acc", "status": "data absent", "paper": 0.79, "paper_std": None},
    ],
}


def test_section_has_prose_command_date_and_a_row_per_metric(tmp_path):
    (tmp_path / "_intro.md").write_text("# Results\n")
    (tmp_path / "10-gcn.json").write_text(json.dumps(RESULTS))
    (tmp_path / "10-gcn.md").write_text("## GCN paper\n\nProse.\n")
    text = report.render(tmp_path)
    assert text.startswith("# Results\n\n## GCN paper\n\nProse.\n\n```\ngnnkit reproduce gcn-cora")
    assert "Run on 2026-12-02, 3.3 min wall time" in text
    assert "| gcn-cora | acc | 81.2 ± 0.5 | 2 | 81.5 | -0.2 | 2 s |" in text
    assert "| gcn-pubmed | acc | data absent | — | 79.0 | — | — |" in text


def test_sections_follow_file_names_and_a_missing_prose_gets_a_heading(tmp_path):
    (tmp_path / "20-b.json").write_text(json.dumps(RESULTS))
    (tmp_path / "10-a.json").write_text(json.dumps(RESULTS))
    text = report.render(tmp_path)
    assert text.index("## 10-a") < text.index("## 20-b")


def test_results_command_writes_then_checks(tmp_path, capsys):
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "10-gcn.json").write_text(json.dumps(RESULTS))
    out = tmp_path / "results.md"
    assert main(["results", "--dir", str(tmp_path / "res"), "--out", str(out), "--check"]) == 1
    assert main(["results", "--dir", str(tmp_path / "res"), "--out", str(out)]) == 0
    assert main(["results", "--dir", str(tmp_path / "res"), "--out", str(out), "--check"]) == 0
    assert "| gcn-cora | acc |" in out.read_text()


def test_a_file_that_is_not_a_results_file_is_named(tmp_path):
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match=r"bad\.json: not a results.json"):
        report.render(tmp_path)


def test_docs_results_md_is_regenerated_from_docs_results():
    # The committed document equals what `gnnkit results` makes from the committed files.
    assert (REPO / "docs" / "results.md").read_text() == report.render(REPO / "docs" / "results")


def test_errors_in_the_datas_units_are_not_printed_as_percentages():
    from gnnkit.experiments.run import fmt_metric

    assert fmt_metric("mae@15", 3.58) == "3.58" and fmt_metric("rmse", 5.1, signed=True) == "+5.10"
    assert fmt_metric("acc", 0.815) == "81.5" and fmt_metric("mape@60", 0.0712) == "7.1"
    assert fmt_metric("acc", None) == "—"
