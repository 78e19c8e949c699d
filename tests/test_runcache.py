"""The run cache: off by default; on, it answers a repeated run from disk, keyed by the settings and
the package's sources."""
import numpy as np
import pytest

from dynform import RunConfig, runcache


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv(runcache.ENV, str(tmp_path))
    runcache._memory.cache_clear()
    yield tmp_path
    runcache._memory.cache_clear()


def test_off_unless_asked_for(monkeypatch):
    monkeypatch.delenv(runcache.ENV, raising=False)
    runcache._memory.cache_clear()
    assert runcache._memory() is None


def test_a_repeated_run_is_read_back_and_other_settings_or_sources_are_not(cache, monkeypatch):
    def stored():
        return len(list(cache.rglob("output.pkl")))

    config = RunConfig(model="nnm", epochs=30)
    first, again = config.run(), config.run()
    assert stored() == 1  # the second answer came from disk
    assert first.loss == again.loss and np.array_equal(first.record.history, again.record.history)
    assert config.with_(epochs=31).run().record.history.shape[0] == 31 and stored() == 2
    monkeypatch.setattr(runcache, "source_hash", lambda: "another version of the package")
    assert config.run().loss == first.loss and stored() == 3  # recomputed under a new key
