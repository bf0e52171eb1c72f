"""cli.py and registry.py: `gnnkit data list` and `gnnkit data info`."""
import io

import pytest

from gnnkit.datasets import registry
from gnnkit.datasets.cli import info, list_datasets, main


def test_info_cora_prints_the_statistics(need, capsys):
    data_root = need("planetoid/ind.cora.x", "planetoid/ind.cora.graph")
    assert main(["info", "cora", "--root", str(data_root)]) == 0
    out = capsys.readouterr().out
    for line in ("nodes                  2,708", "edges (directed)       10,556", "features               1,433",
                 "classes                7", "train                  140", "val                    500",
                 "test                   1,000"):
        assert line in out, line


def test_info_tu_prints_graph_counts(need):
    data_root = need("tu/IMDBMULTI/IMDBMULTI.txt")
    out = io.StringIO()
    info("IMDB-MULTI", data_root, out=out)
    text = out.getvalue()
    assert "graphs                 1,500" in text and "classes                3" in text
    assert "avg nodes              13.00" in text and "folds                  10" in text


def test_list_marks_present_and_missing(tmp_path):
    (tmp_path / "planetoid").mkdir()
    out = io.StringIO()
    list_datasets(tmp_path, out=out)
    text = out.getvalue()
    cora = next(line for line in text.splitlines() if line.startswith("cora "))
    assert cora.split()[:3] == ["cora", "node", "missing"] and "missing planetoid/ind.cora.x" in cora
    assert "8 file(s) pinned by sha256" in cora
    karate = next(line for line in text.splitlines() if line.startswith("karate "))
    assert "present" in karate and karate.endswith("(built in)")


def test_list_real_root(need):
    data_root = need("planetoid/ind.cora.x", "planetoid/ind.cora.graph", "tu/COLLAB")
    out = io.StringIO()
    list_datasets(data_root, out=out)
    lines = {ln.split()[0]: ln for ln in out.getvalue().splitlines()[2:]}
    assert " present " in lines["cora"] and " present " in lines["COLLAB"]
    if not (data_root / "planetoid" / "ind.pubmed.allx").exists():
        assert "missing planetoid/ind.pubmed.allx" in lines["pubmed"]


def test_unknown_and_missing_datasets_exit_nonzero(tmp_path, capsys):
    assert main(["info", "nope", "--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("gnnkit: error: unknown dataset 'nope'")
    assert main(["info", "pubmed", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gnnkit: error: data absent: pubmed needs ind.pubmed.x") and err.count("\n") == 1


def test_registry_finds_aliases(tmp_path):
    assert registry.find("imdb-binary", tmp_path).name == "IMDBBINARY"
    with pytest.raises(ValueError, match="unknown dataset"):
        registry.find("cora2", tmp_path)


def test_gnnkit_command_runs_data_info(need, capsys):
    data_root = need("planetoid/ind.cora.x", "planetoid/ind.cora.graph")
    cli = pytest.importorskip("gnnkit.cli")
    assert cli.main(["data", "info", "cora", "--root", str(data_root)]) == 0
    assert "nodes                  2,708" in capsys.readouterr().out
