import numpy as np
import pytest
import torch
import torchdiffeq

from dynform import LinearSystem, ParameterError, RunConfig, get_system, time_grid, trajectory

from problems import LINEAR


def test_named_systems_and_types():
    assert get_system("spiral").classify() == "stable spiral"
    assert get_system("center").classify() == "center"
    assert LinearSystem(np.array([[1.0, 0.0], [0.0, -1.0]])).classify() == "saddle"
    assert LinearSystem(np.array([[-1.0, 0.0], [0.0, -2.0]])).classify() == "stable node"
    assert LinearSystem(np.array([[0.1, 2.0], [-2.0, 0.1]])).classify() == "unstable spiral"
    assert LinearSystem(np.array([[1.0, 0.0], [0.0, 2.0]])).classify() == "unstable node"


def test_center_eigenvalues():
    values = get_system("center").eigen()[0]
    np.testing.assert_allclose(np.sort(values.imag), [-np.sqrt(99.99), np.sqrt(99.99)], rtol=1e-12)
    np.testing.assert_allclose(values.real, 0.0, atol=1e-12)


def test_matrix_string_and_errors():
    assert get_system("1,2;3,4").A.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ParameterError, match="^system: unknown system 'sprial'"):
        get_system("sprial")
    with pytest.raises(ParameterError, match="^A: must be 2x2"):
        get_system("1,2,3;4,5,6;7,8,9")
    with pytest.raises(ParameterError, match="^A: must be numbers"):
        get_system("1,x;3,4")
    with pytest.raises(ParameterError, match="^A: rows have different lengths"):
        get_system("1,2;3")
    assert get_system("1,2,3;4,5,6;7,8,9", dim=None).dim == 3


def test_exact_flow_matches_high_accuracy_solve(spiral):
    t = time_grid(0.0, 4.0, 8)
    exact = trajectory(spiral, np.array([2.0, 0.0]), t)
    A = torch.tensor(spiral.A)
    ref = torchdiffeq.odeint(lambda _t, y: A @ y, torch.tensor([2.0, 0.0], dtype=torch.float64),
                             torch.tensor(t), method="dopri5", rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(exact, ref.numpy(), atol=1e-9)


@pytest.mark.parametrize("problem", list(LINEAR))
def test_exact_flow_is_the_closed_form_solution(problem):
    A, exact = LINEAR[problem]
    t = np.linspace(0.0, 3.0, 7)
    y0 = np.array([0.7, 1.9])
    np.testing.assert_allclose(LinearSystem(A).solution(y0, t), exact(y0, t), atol=1e-12)


def test_flow_map_is_n_by_n():
    A = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -0.5]])
    B = LinearSystem(A).flow_map(0.3)
    np.testing.assert_allclose(B[2, 2], np.exp(-0.15))
    np.testing.assert_allclose(B[:2, :2], [[np.cos(0.3), np.sin(0.3)], [-np.sin(0.3), np.cos(0.3)]])


def test_time_grid_errors():
    with pytest.raises(ParameterError, match="^points:"):
        RunConfig(points=1).validate()
    with pytest.raises(ParameterError, match="^t1:"):
        RunConfig(t0=1.0, t1=1.0).validate()
    np.testing.assert_allclose(np.diff(time_grid(0.0, 4.0, 8)), 4 / 7)
