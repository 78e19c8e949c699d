"""The loss of the linear Neural ODE over its matrix: the minimum next to A, the second minimum that
descent from zero finds, and the path between them."""
import numpy as np
import pytest
import torch

from dynform import ParameterError, get_system
from dynform.note import landscape
from dynform.note.settings import stated
from dynform.regular.experiment import matrix_loss, matrix_objective


@pytest.fixture(scope="module")
def center_rk4():
    return stated("center", "nodem").with_(data_mode="rk4")


def test_objective_is_the_matrix_loss_and_differentiable(center_rk4):
    A = get_system("center").A
    M = torch.tensor(A * 0.5, requires_grad=True)
    loss = matrix_objective(center_rk4)(M)
    assert float(loss.detach()) == pytest.approx(matrix_loss(center_rk4, A * 0.5), rel=1e-14)
    (grad,) = torch.autograd.grad(loss, M)
    eps = 1e-6
    bumped = A * 0.5
    bumped[0, 1] += eps
    numeric = (matrix_loss(center_rk4, bumped) - matrix_loss(center_rk4, A * 0.5)) / eps
    assert float(grad[0, 1]) == pytest.approx(numeric, rel=1e-4)
    with pytest.raises(ParameterError, match="^M:"):
        matrix_objective(center_rk4)(torch.zeros(3, 3, dtype=torch.float64))


def test_descent_from_A_finds_the_fit_and_from_zero_a_second_minimum(center_rk4):
    A = get_system("center").A
    fit = landscape.descend(center_rk4, A)
    assert fit.loss < 1e-20 and np.abs(fit.M - A).max() < 1e-8  # RK4 data: M = A fits exactly
    second = landscape.descend(center_rk4, np.zeros((2, 2)))
    assert second.is_minimum and second.loss > 1.0
    assert np.abs(second.M - A).max() > 5.0 and second.distance_bound < 1e-3
    s, path = landscape.along(center_rk4, second.M, fit.M, points=11)
    assert path[0] == pytest.approx(second.loss) and path[-1] == pytest.approx(fit.loss, abs=1e-18)
    assert path.max() > 10 * second.loss  # a barrier separates the two basins


def test_a_saddle_is_not_a_minimum():
    saddle = landscape.Stationary(np.zeros((2, 2)), 0.0, 0.0, np.array([-1.0, 1.0, 2.0, 3.0]))
    assert not saddle.is_minimum and saddle.distance_bound == float("inf")


def test_the_gradient_flow_from_zero_and_where_bfgs_parts_from_it():
    """The gradient flow from M = 0 ends in the center's second minimum (loss 5.8046 at
    [[-0.137, -15.27], [-10.75, -4.389]], Hessian eigenvalues 2.8e-3, 4.8e-3, 1.9e-2 and 196, as an
    independent computation found), while on the spiral's RK4 data it reaches A, where BFGS from
    M = 0 stops in a second minimum (loss 2.15)."""
    center = stated("center", "nodem")
    where, end = landscape.basin(center, np.zeros((2, 2)), get_system("center").A)
    assert where == landscape.SECOND and end.loss == pytest.approx(5.8046, abs=1e-4)
    assert np.allclose(end.M, [[-0.137, -15.27], [-10.75, -4.389]], atol=6e-3)
    assert np.allclose(end.curvature, [2.8e-3, 4.8e-3, 1.9e-2, 196], rtol=0.05)
    spiral = stated("spiral", "nodem").with_(data_mode="rk4")
    A = get_system("spiral").A
    where, end = landscape.basin(spiral, np.zeros((2, 2)), A)
    assert where == landscape.FIT and end.loss < 1e-20 and np.abs(end.M - A).max() < 1e-8
    assert landscape.descend(spiral, np.zeros((2, 2))).loss == pytest.approx(2.148, abs=1e-3)


def test_the_loss_range_a_printed_matrix_allows():
    """The note's center M̂, within its printed digits, scores 0.000788-0.000793 on RK4 data and
    0.000841-0.000845 (truncated) under MSELoss on exact data, as an independent computation found."""
    from dynform.note.printed import printed

    M = np.array(printed()["center"]["matrices"]["nodem"]["predicted"])
    rk4 = stated("center", "nodem").with_(data_mode="rk4")
    low, high = landscape.loss_range(rk4, M, 0.5e-4)
    assert (round(low, 6), round(high, 6)) == (0.000788, 0.000793)
    assert low <= matrix_loss(rk4, M) <= high
    low, high = landscape.loss_range(stated("center", "nodem").with_(loss="mse"), M, 0.5e-4)
    assert (np.floor(low * 1e6), np.floor(high * 1e6)) == (841, 845)
