"""The devices a run can train on: names checked in one place, ``auto`` picking a GPU when one is
present, and the irregular training giving the same numbers on any device up to rounding."""
from dataclasses import asdict

import pytest
import torch

from dynform import ParameterError
from dynform.devices import resolve_device
from dynform.irregular import IrregularConfig, run_members
from dynform.provenance import machine, stamp

GPU = torch.cuda.is_available()
SMALL = IrregularConfig(model="latent-ode", dataset="periodic", series=12, points=8, epochs=3, batch=4,
                        hidden=6, latent=3, width=8, dtype="float64")


def test_device_names_resolve_or_stop_with_one_line():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if GPU else "cpu")
    with pytest.raises(ParameterError, match=r"^device: unknown device 'tpu' \(choices: cpu, cuda, auto\)$"):
        resolve_device("tpu")
    with pytest.raises(ParameterError, match="^device: unknown device"):
        IrregularConfig(device="tpu").validate()
    if not GPU:
        with pytest.raises(ParameterError, match="^device: 'cuda' was asked for but no CUDA GPU is available"):
            IrregularConfig(device="cuda").validate()


def test_the_device_is_where_a_run_happens_not_what_it_is():
    """Configs that differ only in the device are the same experiment (the stored-run check relies on it);
    the record still keeps the device asked for."""
    assert SMALL.with_(device="auto") == SMALL and hash(SMALL.with_(device="auto")) == hash(SMALL)
    assert SMALL.with_(model="rnn") != SMALL
    assert asdict(SMALL.with_(device="auto"))["device"] == "auto"


def test_auto_on_a_cpu_only_machine_is_the_cpu_run_and_the_stamp_says_so():
    if GPU:
        pytest.skip("a CUDA GPU is present: auto trains there (see the GPU test)")
    cpu = run_members([SMALL.with_(seed=s) for s in (0, 1)])
    auto = run_members([SMALL.with_(seed=s, device="auto") for s in (0, 1)])
    assert [r.mse for r in auto] == [r.mse for r in cpu] and [r.mse_all for r in auto] == [r.mse_all for r in cpu]
    assert machine("auto") == machine() and "training on" not in stamp("x", "auto")["machine"]


@pytest.mark.skipif(not GPU, reason="needs a CUDA GPU")
def test_training_on_a_gpu_matches_the_cpu_up_to_rounding_and_returns_a_cpu_model():
    """A few float64 steps on the GPU: the same draws as on the CPU, so the test errors agree to far below
    the float32 rounding the book's tolerances measure; the trained model comes back on the CPU."""
    cpu = run_members([SMALL.with_(seed=s) for s in (0, 1)], track=1)
    gpu = run_members([SMALL.with_(seed=s, device="cuda") for s in (0, 1)], track=1)
    for a, b in zip(cpu, gpu):
        assert b.mse == pytest.approx(a.mse, rel=1e-9) and b.mse_all == pytest.approx(a.mse_all, rel=1e-9)
        assert b.curve["mse"] == pytest.approx(a.curve["mse"], rel=1e-9)
    assert all(p.device.type == "cpu" for p in gpu[0].model.parameters())
    assert "training on" in stamp("x", "cuda")["machine"]
