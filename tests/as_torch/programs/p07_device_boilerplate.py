"""The device-selection boilerplate published code starts with, then a small model on that device."""
import random

import numpy as np
import torch

seed = 0
random.seed(seed)
np.random.seed(seed)
torch.manual_seed(seed)
torch.cuda.manual_seed(seed)
torch.cuda.manual_seed_all(seed)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.use_deterministic_algorithms(True)
torch.set_float32_matmul_precision("highest")
print("deterministic", torch.are_deterministic_algorithms_enabled(), torch.get_float32_matmul_precision() == "highest")

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
legacy = torch.device("cuda" if torch.cuda.is_available() else
                      "mps" if torch.backends.mps.is_available() else "cpu")
print("same choice", str(legacy) == device)
print("counts agree", torch.accelerator.device_count() == torch.cuda.device_count())
print("backends answer", isinstance(torch.backends.cudnn.is_available(), bool),
      isinstance(torch.backends.mkldnn.is_available(), bool), isinstance(torch.backends.openmp.is_available(), bool))

torch.set_default_device(device)
print("default device", torch.get_default_device().type == device, torch.zeros(2).device.type == device)
torch.set_default_device("cpu")

with torch.device(device):
    model = torch.nn.Linear(4, 2)
    x = torch.arange(8.0).reshape(2, 4) / 8
print("created inside", model.weight.device.type == device, x.device.type == device)
with torch.no_grad():
    model.weight.copy_(torch.linspace(-1, 1, 8).reshape(2, 4))
    model.bias.fill_(0.5)
out = model(x.to(device))
print("out", out.cpu().tolist())
print("back on cpu", torch.zeros(1).device.type == "cpu")
