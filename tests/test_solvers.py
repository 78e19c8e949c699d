import numpy as np
import pytest
import torch

from dynform import ParameterError, RunConfig, rk4_amplification, rk4_step, rk4_step_matrix, solve, trajectory
from dynform.regular.data import time_grid
from dynform.solvers import SOLVERS

from problems import LINEAR, as_tensor


def _rk4_error(system, h):
    A = torch.tensor(system.A)
    y0 = torch.tensor([[2.0, 0.0]], dtype=torch.float64)
    t = torch.linspace(0.0, 2.0, 2)
    steps = round(2.0 / h)
    y = solve(lambda y: y @ A.T, y0, t, substeps=steps)[0, -1].numpy()
    return np.abs(y - system.solution([2.0, 0.0], [0.0, 2.0])[-1]).max()


@pytest.mark.parametrize("solver", ["rk4", "odeint:dopri5", "odeint:rk4"])
@pytest.mark.parametrize("problem", list(LINEAR))
def test_every_solver_reaches_the_closed_form_solution(problem, solver):
    A, exact = LINEAR[problem]
    t = np.linspace(0.0, 2.0, 41)
    y0 = np.array([1.5, -0.5])
    y = solve(lambda y: y @ as_tensor(A).T, as_tensor([y0]), as_tensor(t), solver=solver, substeps=20,
              rtol=1e-10, atol=1e-12)[0].numpy()
    np.testing.assert_allclose(y, exact(y0, t), atol=1e-5 if solver == "odeint:rk4" else 1e-8)
    assert solver in SOLVERS


def test_rk4_is_fourth_order(spiral):
    errors = [_rk4_error(spiral, h) for h in (0.05, 0.025, 0.0125)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 4.0) < 0.1), orders


def test_rk4_step_matrix_equals_stage_form(spiral):
    A = torch.tensor(spiral.A)
    y = torch.tensor([1.3, -0.4], dtype=torch.float64)
    stage = rk4_step(lambda v: A @ v, y, 0.3)
    np.testing.assert_allclose(stage.numpy(), rk4_step_matrix(spiral.A, 0.3) @ y.numpy(), atol=1e-14)


def test_rk4_amplification_closed_form():
    z = np.array([0.3j, -0.2 + 1.0j, 2.0j, 2.8j])
    closed = 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24
    np.testing.assert_allclose(rk4_amplification(z), closed)
    # on the imaginary axis |R(iy)|^2 = 1 - y^6/72 + y^8/576: stable up to y = 2*sqrt(2)
    y = np.array([1.0, 2.0, 2 * np.sqrt(2), 3.0])
    np.testing.assert_allclose(np.abs(rk4_amplification(1j * y)) ** 2, 1 - y**6 / 72 + y**8 / 576)
    assert abs(abs(rk4_amplification(2j * np.sqrt(2))) - 1.0) < 1e-12


def test_rk4_data_mode_matches_torch_solver(spiral):
    t = time_grid(0.0, 4.0, 8)
    data = trajectory(spiral, np.array([2.0, 0.0]), t, mode="rk4", substeps=2)
    A = torch.tensor(spiral.A)
    ours = solve(lambda y: y @ A.T, torch.tensor([[2.0, 0.0]], dtype=torch.float64), torch.tensor(t), substeps=2)
    np.testing.assert_allclose(data, ours[0].numpy(), atol=1e-12)


def test_odeint_method_and_bad_solver(spiral):
    A = torch.tensor(spiral.A)
    t = torch.tensor(time_grid(0.0, 1.0, 5))
    y = solve(lambda y: y @ A.T, torch.tensor([[2.0, 0.0]], dtype=torch.float64), t, solver="odeint:dopri5",
              rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y[0].numpy(), spiral.solution([2.0, 0.0], t.numpy()), atol=1e-8)
    with pytest.raises(ParameterError, match="^solver: unknown solver 'rk5'"):
        RunConfig(solver="rk5").validate()


def test_euler_is_first_order(spiral):
    A = torch.tensor(spiral.A)
    y0 = torch.tensor([[2.0, 0.0]], dtype=torch.float64)
    t = torch.linspace(0.0, 1.0, 2, dtype=torch.float64)
    exact = spiral.solution([2.0, 0.0], [0.0, 1.0])[-1]
    errors = [np.abs(solve(lambda y: y @ A.T, y0, t, solver="euler", substeps=n)[0, -1].numpy() - exact).max()
              for n in (200, 400, 800)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.05), orders
