"""Fixtures for the training tests."""

import pytest
import torch

from tests.helpers.fake_reviews import write_dataset


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(tmp_path / "prepared")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
