"""traffic.py: chronological split, train-only z-score, sliding windows; Los-loop and METR-LA files."""
import pytest
import torch

from gnnkit import Graph
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.datasets.traffic import TrafficSeries, ZScore, los_loop, metr_la_graph, sliding_windows
from gnnkit.ops import is_undirected

LOS = ["traffic/los-loop/los_speed.csv", "traffic/los-loop/los_adj.csv"]
METR = ["traffic/METR-LA-sensor-graph/adj_mx.pkl", "traffic/METR-LA-sensor-graph/graph_sensor_locations.csv"]


def _series(T=20, N=2):
    signal = torch.arange(T * N, dtype=torch.float32).view(T, N)  # s[t, n] = 2t + n
    return TrafficSeries(signal, Graph(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=N))


def test_sliding_windows_hand_computed():
    s = torch.arange(6.0).view(6, 1)  # s_t = t
    w = sliding_windows(s, input_len=2, horizons=[1, 3])
    # windows end at t = 1, 2 (t + 3 must be < 6): inputs [t-1, t], targets [t+1, t+3]
    assert w.x.view(2, 2).tolist() == [[0, 1], [1, 2]]
    assert w.y.view(2, 2).tolist() == [[2, 4], [3, 5]]
    assert w.t.tolist() == [1, 2]


def test_split_is_chronological_and_windows_stay_in_their_span():
    data = _series(T=100).windows(input_len=3, horizons=2, split=(0.6, 0.2, 0.2))
    assert data.spans == {"train": (0, 60), "val": (60, 80), "test": (80, 100)}
    for name, part in (("train", data.train), ("val", data.val), ("test", data.test)):
        lo, hi = data.spans[name]
        assert int(part.t.min()) - 2 >= lo and int(part.t.max()) + 2 < hi
        assert len(part) == (hi - lo) - 3 - 2 + 1
    # inputs and targets are the normalised signal at the right steps
    raw = data.scaler.inverse(data.val.x[0, :, 0])
    t = int(data.val.t[0])
    torch.testing.assert_close(raw, torch.tensor([2.0 * (t - 2), 2.0 * (t - 1), 2.0 * t]))


def test_zscore_is_fitted_on_the_training_span_only():
    a = _series(T=50)
    b = _series(T=50)
    b.signal[40:] = 1e6  # a change in the test span
    sa = a.windows(input_len=2, horizons=1, split=(0.7, 0.1, 0.2)).scaler
    sb = b.windows(input_len=2, horizons=1, split=(0.7, 0.1, 0.2)).scaler
    assert sa == sb
    train = a.signal[:35]
    assert sa.mean == pytest.approx(float(train.mean())) and sa.std == pytest.approx(float(train.std()))


def test_zscore_inverse():
    z = ZScore(mean=10.0, std=2.0)
    torch.testing.assert_close(z.inverse(z(torch.tensor([12.0, 6.0]))), torch.tensor([12.0, 6.0]))


def test_window_errors():
    s = _series(T=10)
    with pytest.raises(ValueError, match="too short for input_len=12"):
        s.windows(input_len=12, horizons=3, split=(0.8, 0.1, 0.1))
    with pytest.raises(ValueError, match="split must be three fractions"):
        s.windows(split=(0.5, 0.5))
    with pytest.raises(ValueError, match=r"signal must be \[T, N\] with N = 3"):
        TrafficSeries(torch.zeros(5, 2), Graph(num_nodes=3))


def test_los_loop_real(need):
    data_root = need(*LOS)
    series = los_loop(data_root)
    assert series.signal.shape == (2016, 207)
    assert float(series.signal.min()) == 1.0 and float(series.signal.max()) == 70.0
    assert series.signal.mean().item() == pytest.approx(58.891, abs=1e-3)
    g = series.graph
    assert g.num_edges == 2 * 1313 and is_undirected(g.edge_index, 207)
    data = series.windows(input_len=12, horizons=[3, 6, 12])
    assert data.train.x.shape[1:] == (12, 207) and data.train.y.shape[1:] == (3, 207)
    assert len(data.train) + len(data.val) + len(data.test) == 2016 - 3 * (12 + 12 - 1)


def test_metr_la_graph_real_matches_los_loop(need):
    data_root = need(*LOS, *METR)
    g = metr_la_graph(data_root)
    assert g.num_nodes == 207 and g.num_edges == 1515 and g.pos.shape == (207, 2)
    los = los_loop(data_root).graph
    a = torch.zeros(207, 207)
    a[g.edge_index[0], g.edge_index[1]] = g.edge_weight
    b = torch.zeros(207, 207)
    b[los.edge_index[0], los.edge_index[1]] = los.edge_weight
    torch.testing.assert_close(torch.maximum(a, a.t()), b, atol=1e-6, rtol=0)  # los_adj = max(adj, adj^T)
    assert los.sensor_id[0].item() == 773869


def test_truncated_csv_names_the_file(need, tmp_path):
    data_root = need(*LOS)
    folder = tmp_path / "traffic" / "los-loop"
    folder.mkdir(parents=True)
    text = (data_root / "traffic" / "los-loop" / "los_speed.csv").read_text()
    (folder / "los_speed.csv").write_text(text[: len(text) // 3])  # cut inside a row
    (folder / "los_adj.csv").symlink_to(data_root / "traffic" / "los-loop" / "los_adj.csv")
    with pytest.raises(DatasetFileError, match=r"los_speed\.csv: .*truncated or corrupted"):
        los_loop(tmp_path)


def test_missing_traffic_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Los-loop: missing file\(s\) .*los_speed\.csv"):
        los_loop(tmp_path)


@pytest.mark.parametrize("cell", ["NaN", "inf", "nan"])
def test_a_non_finite_speed_is_named_with_its_place(tmp_path, cell):
    from gnnkit.datasets.traffic import read_csv_matrix

    path = tmp_path / "speed.csv"
    path.write_text(f"7,9\n1.0,2.0\n3.0,{cell}\n")
    with pytest.raises(DatasetFileError, match=r"speed\.csv: holds 1 non-finite value\(s\) \(NaN/inf; the first in "
                                               r"data row 2, column 2\)"):
        read_csv_matrix(path, header=True)


@pytest.mark.parametrize("text", ["", "7,9\n", "\n\n"])
def test_an_empty_csv_is_named(tmp_path, text):
    from gnnkit.datasets.traffic import read_csv_matrix

    path = tmp_path / "speed.csv"
    path.write_text(text)
    with pytest.raises(DatasetFileError, match=r"speed\.csv: holds no (data rows|lines)"):
        read_csv_matrix(path, header=True)
