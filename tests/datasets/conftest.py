"""``need(*paths)``: the data root, or a skip naming the dataset files that are absent."""
import pytest


@pytest.fixture
def need(data_root):
    def check(*paths):
        missing = [p for p in paths if not (data_root / p).exists()]
        if missing:
            pytest.skip(f"dataset files absent under {data_root}: {', '.join(missing)}")
        return data_root

    return check
