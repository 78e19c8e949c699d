"""Sampling and RK4 on a linear system: aliasing, the stability limit, the solver bias."""
import math

import numpy as np
import pytest
import scipy.linalg

from dynform import ParameterError, get_system, rk4_amplification, rk4_step_matrix
from dynform.note import analysis
from dynform.note.settings import stated
from dynform.regular.experiment import matrix_loss


def test_rk4_amplification_against_closed_form():
    z = np.array([0.0, 0.5, -1.0 + 0.3j, 2.0j, -2.7 + 0.0j, 5.714j])
    closed = sum(z**k / math.factorial(k) for k in range(5))
    np.testing.assert_allclose(rk4_amplification(z), closed, rtol=1e-14)
    np.testing.assert_allclose(analysis._rk4_coefficients(), [1 / math.factorial(k) for k in range(5)], atol=1e-14)


def test_imaginary_stability_limit_is_sqrt8():
    # |R(iy)|^2 = 1 - y^6/72 + y^8/576, which equals 1 again at y^2 = 576/72 = 8
    limit = analysis.rk4_imaginary_limit()
    assert limit == pytest.approx(2 * math.sqrt(2), rel=1e-12)
    assert np.all(np.abs(rk4_amplification(1j * np.linspace(0, limit * (1 - 1e-9), 200))) <= 1.0)
    assert abs(rk4_amplification(1j * limit * 1.01)) > 1.0


def test_rk4_growth_is_amplification_of_each_eigenvalue():
    A = get_system("center").A
    h = 4 / 7
    lam = np.linalg.eigvals(A)
    np.testing.assert_allclose(analysis.rk4_growth(A, h), np.abs(rk4_amplification(lam * h)))
    assert analysis.rk4_growth(A, h).min() > 1.0  # outside the stability interval: |lambda| h > sqrt 8
    assert analysis.rk4_growth(A, 0.5 / 7).max() < 1.0


@pytest.mark.parametrize("name, h", [("spiral", 4 / 7), ("center", 0.5 / 7), ("center", 4 / 7), ("spiral", 0.01)])
def test_bias_matrix_reproduces_the_exact_flow(name, h):
    A = get_system(name).A
    M = analysis.rk4_bias_matrix(A, h)
    assert M.dtype == np.float64
    np.testing.assert_allclose(rk4_step_matrix(M, h), scipy.linalg.expm(A * h), rtol=0, atol=1e-10)


def test_bias_vanishes_with_the_step_at_fifth_order():
    A = get_system("spiral").A
    errors = np.array([np.abs(analysis.rk4_bias_matrix(A, h) - A).max() for h in (0.2, 0.1)])
    # R(z) = e^z - z^5/120 + ..., so M - A = O(h^4): halving h divides the bias by about 16
    assert errors[0] / errors[1] == pytest.approx(16, rel=0.05)


def test_aliasing_logm_property_and_numbers():
    A = get_system("center").A
    dt = 4 / 7
    al = analysis.aliasing(A, dt)
    np.testing.assert_allclose(scipy.linalg.expm(al.rate * dt), scipy.linalg.expm(A * dt), atol=1e-12)
    omega = math.sqrt(np.linalg.det(A))  # trace 0: eigenvalues +-i sqrt(det)
    assert al.omega == pytest.approx(omega, rel=1e-12)
    assert al.angle == pytest.approx(omega * dt) and al.turns == pytest.approx(omega * dt / (2 * math.pi))
    assert al.aliased
    assert al.apparent_omega == pytest.approx(omega - 2 * math.pi / dt, rel=1e-12)
    rate_values = np.linalg.eigvals(al.rate)
    np.testing.assert_allclose(np.abs(rate_values.imag), [abs(al.apparent_omega)] * 2, rtol=1e-10)
    np.testing.assert_allclose(rate_values.real, 0.0, atol=1e-10)
    # below half a turn per sample the logarithm gives A back
    fine = analysis.aliasing(A, 0.5 / 7)
    assert not fine.aliased
    np.testing.assert_allclose(fine.rate, A, atol=1e-10)


def test_bad_parameters():
    A = get_system("center").A
    with pytest.raises(ParameterError, match="^dt:"):
        analysis.aliasing(A, 0.0)
    with pytest.raises(ParameterError, match="^h:"):
        analysis.rk4_bias_matrix(A, -1.0)
    with pytest.raises(ParameterError, match="^A:"):
        analysis.rk4_growth(np.ones((2, 3)), 0.1)
    with pytest.raises(ParameterError, match="^A:"):
        analysis.rk4_bias_matrix(np.array([[0.0, 1.0], [0.0, 0.0]]), 0.1)  # not diagonalizable
    with pytest.raises(ParameterError, match="^model:"):
        matrix_loss(stated("center", "nn"), A)
