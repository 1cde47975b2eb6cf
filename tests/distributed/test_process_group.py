"""What needs no running job: availability, errors before init_process_group, ReduceOp, backend names."""
import sys

import pytest

import glasstorch
import glasstorch.distributed as dist
from glasstorch.distributed import process_group


def test_importing_glasstorch_does_not_start_mpi():
    assert "mpi4py.MPI" not in sys.modules
    assert glasstorch.distributed is dist and glasstorch.nn.parallel.DistributedDataParallel is not None


def test_available_without_starting_mpi():
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install -e '.[distributed]')")
    assert dist.is_available() and dist.is_mpi_available()
    assert "mpi4py.MPI" not in sys.modules


@pytest.mark.parametrize("call", [lambda: dist.get_rank(), lambda: dist.get_world_size(), lambda: dist.barrier(),
                                  lambda: dist.all_reduce(glasstorch.ones(2)), lambda: dist.new_group([0]),
                                  lambda: dist.destroy_process_group()])
def test_calls_before_init_process_group_raise(call):
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        call()


def test_reduce_op_names():
    assert [op.name for op in dist.ReduceOp][:5] == ["SUM", "PRODUCT", "MIN", "MAX", "BAND"]
    assert dist.ReduceOp.AVG in list(dist.ReduceOp)
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>"


def test_backend_names():
    assert process_group._backend_name(None) == "mpi"
    assert process_group._backend_name("GLOO") == "gloo"
    assert process_group._backend_name("cpu:gloo,cuda:nccl") in ("gloo", "nccl")
    with pytest.raises(ValueError, match="Invalid backend: 'ucc'"):
        process_group._backend_name("ucc")
