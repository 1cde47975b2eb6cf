"""PyTorch's "Exporting a model to ONNX and running it with ONNX Runtime" tutorial: a small image classifier
exported with torch.onnx.export (named inputs and outputs, a dynamic batch axis), checked with
onnx.checker, then run in onnxruntime and compared with the model's own output.

(dynamo=False picks PyTorch's TorchScript exporter, which needs no onnxscript; the weights are a fixed pattern.)
"""
import os
import tempfile

import numpy as np
import onnx
import onnxruntime
import torch
import torch.nn as nn
import torch.nn.functional as F


class ImageClassifierModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.bn = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16 * 5 * 5, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.bn(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


torch_model = ImageClassifierModel()
with torch.no_grad():
    for k, p in enumerate(torch_model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.31 + 0.09 * k)).reshape(p.shape) * 0.2)
    torch_model.bn.running_mean.copy_(torch.linspace(-0.1, 0.1, 16))
    torch_model.bn.running_var.copy_(torch.linspace(0.8, 1.2, 16))
torch_model.eval()
grid = torch.arange(2 * 32 * 32, dtype=torch.float32).reshape(2, 1, 32, 32)
torch_input = torch.sin(grid * 0.013) * torch.cos(grid * 0.007)

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "image_classifier_model.onnx")
    torch.onnx.export(torch_model, (torch_input,), path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch_size"}, "output": {0: "batch_size"}}, opset_version=17,
                      dynamo=False)
    onnx_model = onnx.load(path)
    onnx.checker.check_model(onnx_model)
    print("inputs", [i.name for i in onnx_model.graph.input], "outputs", [o.name for o in onnx_model.graph.output])
    print("opset", onnx_model.opset_import[0].version)
    print("batch axis", onnx_model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch_size")

    ort_session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])

    def to_numpy(tensor):
        return tensor.detach().cpu().numpy() if tensor.requires_grad else tensor.cpu().numpy()

    ort_inputs = {ort_session.get_inputs()[0].name: to_numpy(torch_input)}
    ort_outs = ort_session.run(None, ort_inputs)
    torch_out = torch_model(torch_input)
    np.testing.assert_allclose(to_numpy(torch_out), ort_outs[0], rtol=1e-03, atol=1e-05)
    print("Exported model has been tested with ONNXRuntime, and the result looks good!")
    print("onnxruntime", np.round(ort_outs[0][0, :5], 5).tolist())

    bigger = torch.cat([torch_input, torch_input.flip(-1), -torch_input])  # another batch size
    ort_outs = ort_session.run(None, {"input": to_numpy(bigger)})
    print("batch of", ort_outs[0].shape[0], "agrees:", np.allclose(ort_outs[0], to_numpy(torch_model(bigger)),
                                                                     rtol=1e-3, atol=1e-5))
    print("predictions", ort_outs[0].argmax(1).tolist())
