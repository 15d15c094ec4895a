"""Shared test set-up.

Every test runs torch on one thread (``SSN_TEST_THREADS`` overrides): the tests use small
convolutions, and on a small shared CPU several threads per op oversubscribe the cores and
run 5-8x slower, while one thread costs little on an idle machine. It also makes float
results independent of the machine's core count.
"""

import os

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def torch_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("SSN_TEST_THREADS", "1")))
    yield
    torch.set_num_threads(threads)
