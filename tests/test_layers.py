"""The per-member layers: one formula for every MLP, the two initialisations, one parameter count."""
import math

import pytest
import torch

from dynform.layers import MLP, GRUCell, Linear, Matrix, generators, normal_init, parameter_count, uniform_init


def test_mlp_is_the_notes_formula_for_each_member():
    mlp = MLP(2, 5, generators([0, 1, 2]))
    y = torch.randn(3, 4, 2)
    for k in range(3):
        expected = torch.tanh(y[k] @ mlp.W1[k].T + mlp.b1[k]) @ mlp.W2[k].T + mlp.b2[k]
        torch.testing.assert_close(mlp(y)[k], expected)


def test_algorithm1_initialisation_draws_weights_only():
    mlp = MLP(2, 4000, generators([0]), normal_init(0.1))
    assert torch.all(mlp.b1 == 0) and torch.all(mlp.b2 == 0)
    assert abs(mlp.W1.std().item() - 0.1) < 0.005 and abs(mlp.W2.std().item() - 0.1) < 0.005


def test_pytorch_default_initialisation_is_uniform_in_one_over_root_fan_in():
    layer = Linear(400, 300, generators([0]), uniform_init)
    bound = 1 / math.sqrt(400)
    assert layer.weight.abs().max() <= bound and layer.weight.abs().max() > 0.99 * bound
    assert abs(layer.weight.std().item() - bound / math.sqrt(3)) < 0.002


def test_members_draw_from_their_own_seed():
    a, b = MLP(2, 3, generators([5, 6])), MLP(2, 3, generators([6]))
    torch.testing.assert_close(a.W1[1], b.W1[0])
    assert not torch.equal(a.W1[0], a.W1[1])


def test_gru_cell_is_torchs():
    ours = GRUCell(3, 4, generators([0]))
    ref = torch.nn.GRUCell(3, 4)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ref, name).copy_(getattr(ours, name)[0])
    x, h = torch.randn(1, 5, 3), torch.randn(1, 5, 4)
    torch.testing.assert_close(ours(x, h)[0], ref(x[0], h[0]))


@pytest.mark.parametrize("layer, count", [(lambda: MLP(2, 50, generators([0, 1]), normal_init(0.1)), 252),
                                          (lambda: Matrix(2, 3), 4),
                                          (lambda: GRUCell(2, 4, generators([0])), 3 * 4 * (2 + 4 + 2))])
def test_parameter_count_is_per_member(layer, count):
    assert parameter_count(layer()) == count
