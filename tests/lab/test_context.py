"""The lab context's run outputs."""
import numpy as np

import glasstorch
from glasstorch.lab.context import Lab


def test_a_checkpoint_loads_back_into_its_model_with_batchnorm_counters(tmp_path):
    model = glasstorch.nn.Sequential(glasstorch.nn.Linear(3, 4), glasstorch.nn.BatchNorm1d(4))
    model(glasstorch.randn(5, 3))  # running statistics and the 0-d num_batches_tracked move
    path = Lab(glasstorch, "glass", tmp_path, verbose=False).checkpoint(model)
    state = glasstorch.load(path)
    assert state["1.num_batches_tracked"].shape == ()  # a 0-d buffer stays 0-d
    fresh = glasstorch.nn.Sequential(glasstorch.nn.Linear(3, 4), glasstorch.nn.BatchNorm1d(4))
    fresh.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name].numpy(), value.numpy(), err_msg=name)
