"""Shared test configuration: headless plotting, a --runslow switch, where the reference data lives, the
`device` fixture (CPU, and CUDA when CuPy and a GPU are present) and tests/helpers.py on the import path."""
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # `from helpers import compare` (--import-mode=importlib)

import glasstorch  # noqa: E402

GPU = glasstorch.cuda.is_available()
NEEDS_GPU = pytest.mark.skipif(not GPU, reason="needs CuPy and an NVIDIA GPU")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GLASSTORCH_TEST_DATA", REPO.parent / "shared" / "data"))


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run full-size (slow) tests too")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data (MNIST, Fashion-MNIST); CI always has it, elsewhere the test is skipped without it."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have the reference data at {SHARED_DATA}")
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=NEEDS_GPU)])
def device(request):
    """Run the test once on the CPU (NumPy) and once on the GPU (CuPy; skipped without CuPy and a GPU)."""
    return request.param


@pytest.fixture
def cuda_device():
    """For the tests that only make sense on a GPU ("cuda"); skipped without CuPy and a GPU."""
    if not GPU:
        pytest.skip("needs CuPy and an NVIDIA GPU")
    return "cuda"
