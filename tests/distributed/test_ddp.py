"""DistributedDataParallel on 2 and 3 processes: training equals one process on the global batch (float64),
from different random starts; no_sync accumulation; buffers; unused parameters (workers/check_ddp.py)."""
import pytest


@pytest.mark.parametrize("nproc", [2, 3])
def test_ddp_equals_one_process_on_the_global_batch(launch, nproc):
    result = launch("check_ddp.py", nproc)
    assert result.returncode == 0, result.report
    for rank in range(nproc):
        assert f"rank {rank}/{nproc}: ddp ok" in result.stdout, result.report
    assert result.stdout.count("max |DDP - one process|") == 2 * nproc
