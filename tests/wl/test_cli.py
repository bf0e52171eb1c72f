"""gnnkit wl FILE1 FILE2 [--plot] (gnnkit/wl/cli.py)."""
import pytest

from gnnkit.cli import main
from gnnkit.wl.cli import read_edge_list


def _files(tmp_path):
    (tmp_path / "c6.txt").write_text("# six-cycle\n" + "".join(f"{i} {(i + 1) % 6}\n" for i in range(6)))
    (tmp_path / "tt.txt").write_text("0 1\n1 2\n2 0\n3,4\n4 5\n5 3\n")
    (tmp_path / "star.txt").write_text("0 1\n0 2\n0 3\n")
    (tmp_path / "path.txt").write_text("0 1\n1 2\n2 3\n")
    return tmp_path


def test_cli_prints_verdict_and_histograms(tmp_path, capsys):
    d = _files(tmp_path)
    assert main(["wl", str(d / "c6.txt"), str(d / "tt.txt")]) == 0
    out = capsys.readouterr().out
    assert "possibly isomorphic" in out and "iteration 0: graph 1 {0:6}  graph 2 {0:6}" in out
    assert main(["wl", str(d / "star.txt"), str(d / "path.txt")]) == 0
    out = capsys.readouterr().out
    assert "not isomorphic (colour histograms differ at iteration 1)" in out and "<- differ" in out


def test_cli_plot_writes_a_png(tmp_path, capsys):
    d = _files(tmp_path)
    assert main(["wl", str(d / "star.txt"), str(d / "path.txt"), "--plot", str(d / "wl.png")]) == 0
    assert (d / "wl.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {d / 'wl.png'}" in capsys.readouterr().out


def test_read_edge_list_isolated_nodes_and_one_based(tmp_path):
    (tmp_path / "g.txt").write_text("1 2\n")
    e, n = read_edge_list(tmp_path / "g.txt", num_nodes=4, one_based=True)
    assert n == 4 and e.tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize("text, args, match", [
    ("0 x\n", [], r"line 1: expected two integer node ids"),
    ("1 2\n", ["--nodes1", "2"], r"node id 2 but --nodes says 2 nodes"),
    ("0 1\n", ["--one-based"], r"node id 0 is below the first id \(1\)"),
])
def test_cli_errors_name_the_file(tmp_path, capsys, text, args, match):
    import re

    (tmp_path / "bad.txt").write_text(text)
    (tmp_path / "ok.txt").write_text("1 2\n")
    code = main(["wl", str(tmp_path / "bad.txt"), str(tmp_path / "ok.txt"), *args])
    err = capsys.readouterr().err
    assert code != 0 and "bad.txt" in err and re.search(match, err)


def test_cli_missing_file(tmp_path, capsys):
    assert main(["wl", str(tmp_path / "nope.txt"), str(tmp_path / "nope.txt")]) != 0
    assert "no such file" in capsys.readouterr().err
