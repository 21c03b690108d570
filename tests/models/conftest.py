import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine's cores are shared: keep each test on one thread and deterministic.
    torch.set_num_threads(1)
    torch.manual_seed(0)
