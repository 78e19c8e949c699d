import os

import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")
torch.set_num_threads(1)


@pytest.fixture
def spiral():
    from dynform import get_system

    return get_system("spiral")


@pytest.fixture(scope="module")
def spiral_data():
    from problems import spiral_series

    return spiral_series()
