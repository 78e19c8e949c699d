"""The regular-time models: shapes, parameter counts, per-member seeds, the linear RK4 fast path."""
import pytest
import torch

from dynform import ParameterError, RunConfig, build_model, parameter_count, solve
from dynform.regular.models import MODELS


T = torch.linspace(0.0, 4.0, 8)


@pytest.mark.parametrize("kind", list(MODELS))
def test_shapes(kind):
    model = build_model(kind, seeds=(0, 1, 2))
    assert model(torch.tensor([2.0, 0.0]), T).shape == (3, 1, 8, 2)
    assert model(torch.randn(5, 2), T).shape == (3, 5, 8, 2)
    assert model(torch.randn(3, 4, 2), T).shape == (3, 4, 8, 2)
    with pytest.raises(ParameterError, match="^y0: expected shape"):
        model(torch.randn(2, 4, 2), T)


def test_parameter_counts_and_initialisation():
    assert parameter_count(build_model("nn")) == 50 * 2 + 50 + 2 * 50 + 2
    assert parameter_count(build_model("nnm")) == 4
    mlp = build_model("node", hidden=2000, init_std=0.1).g
    assert torch.all(mlp.b1 == 0) and torch.all(mlp.b2 == 0)
    assert abs(mlp.W1.std().item() - 0.1) < 0.005
    assert torch.all(build_model("nodem").matrix() == 0)
    with pytest.raises(ParameterError, match="^hidden:"):
        RunConfig(hidden=0).validate()
    with pytest.raises(ParameterError, match="^model: unknown model 'mlp'"):
        build_model("mlp")


def test_members_start_from_their_own_seed():
    ens = build_model("nn", seeds=(4, 7)).g
    alone = build_model("nn", seeds=(7,)).g
    torch.testing.assert_close(ens.W1[1], alone.W1[0], rtol=0, atol=0)
    torch.testing.assert_close(ens.W2[1], alone.W2[0], rtol=0, atol=0)


def test_linear_rk4_fast_path_equals_stage_form():
    model = build_model("nodem", substeps=3)
    with torch.no_grad():
        model.g.M.copy_(torch.tensor([[[-0.1, 2.0], [-2.0, -0.1]]]))
    fast = model(torch.tensor([2.0, 0.0]), T)
    stages = solve(model.g.function(), torch.tensor([[[2.0, 0.0]]]), T, substeps=3)
    torch.testing.assert_close(fast, stages, rtol=1e-5, atol=1e-5)


def test_step_matrix_is_matrix_power():
    model = build_model("nnm")
    B = torch.tensor([[0.9, 0.2], [-0.3, 0.8]])
    with torch.no_grad():
        model.g.M.copy_(B)
    out = model(torch.tensor([1.0, 1.0]), T)[0, 0]
    expected = torch.stack([torch.linalg.matrix_power(B, k) @ torch.tensor([1.0, 1.0]) for k in range(8)])
    torch.testing.assert_close(out, expected)
    with pytest.raises(TypeError):
        build_model("nn").matrix()
