"""Every collective on 2 and 3 processes against NumPy (workers/check_collectives.py does the checking)."""
import pytest


@pytest.mark.parametrize("nproc", [2, 3])
def test_collectives_match_numpy(launch, nproc):
    result = launch("check_collectives.py", nproc)
    assert result.returncode == 0, result.report
    for rank in range(nproc):
        assert f"rank {rank}/{nproc}: collectives ok" in result.stdout, result.report
