"""Automatic mixed precision, as PyTorch's AMP recipe writes it: the forward pass under torch.autocast (the
linear layers in float16, the loss in float32), the loss scaled by a GradScaler before backward, the step
skipped when a scaled gradient overflows, the scale adjusted by update(); unscale_ before gradient clipping;
the scaler saved in a checkpoint. On a machine without a GPU it runs the same program on the CPU, in float16."""
import torch
import torch.nn as nn

device = "cuda" if torch.cuda.is_available() else "cpu"
use_amp = True
batch_size, in_size, out_size, num_layers, num_batches = 16, 32, 8, 3, 6


def make_model(in_size, out_size, num_layers):
    layers = []
    for _ in range(num_layers - 1):
        layers.append(nn.Linear(in_size, in_size))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(in_size, out_size))
    return nn.Sequential(*tuple(layers)).to(device)


net = make_model(in_size, out_size, num_layers)
with torch.no_grad():  # fixed initial weights, so that both libraries train the same numbers
    for i, p in enumerate(net.parameters()):
        p.copy_(0.2 * torch.sin(torch.arange(p.numel(), dtype=torch.float32, device=device) * 0.37 + i)
                .reshape(p.shape))
k = torch.arange(num_batches * batch_size * in_size, dtype=torch.float32, device=device)
data = torch.cos(k * 0.011).reshape(num_batches, batch_size, in_size)
targets = torch.sin(torch.arange(num_batches * batch_size * out_size, dtype=torch.float32, device=device) * 0.05)
targets = targets.reshape(num_batches, batch_size, out_size)

loss_fn = torch.nn.MSELoss()
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
scaler = torch.amp.GradScaler(device, init_scale=2.0 ** 8, growth_interval=4, enabled=use_amp)

for epoch in range(3):
    for i, (input, target) in enumerate(zip(data, targets)):
        with torch.autocast(device_type=device, dtype=torch.float16, enabled=use_amp):
            output = net(input)
            assert output.dtype is torch.float16
            loss = loss_fn(output, target)
            assert loss.dtype is torch.float32
        scaler.scale(loss).backward()
        scaler.unscale_(opt)  # the gradients are unscaled here: clip them as usual
        total_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        if i % 3 == 0:
            print(f"epoch {epoch} batch {i}  loss {loss.item():.3f}  grad norm {total_norm.item():.3f}  "
                  f"scale {scaler.get_scale():.1f}")

# an overflowing step: the scaled gradient is inf, the step is skipped and the scale backs off
before = [p.detach().clone() for p in net.parameters()]
with torch.autocast(device_type=device, dtype=torch.float16):
    loss = loss_fn(net(data[0] * 1e4), targets[0])
scaler.scale(loss).backward()
scaler.step(opt)
scale_before = scaler.get_scale()
scaler.update()
unchanged = all(torch.equal(b, p) for b, p in zip(before, net.parameters()))
print(f"overflow: loss finite {bool(torch.isfinite(loss))}  step skipped {unchanged}  "
      f"scale {scale_before:.1f} -> {scaler.get_scale():.1f}")
opt.zero_grad()

checkpoint = {"model": net.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict()}
print("scaler state:", checkpoint["scaler"])
scaler2 = torch.amp.GradScaler(device)
scaler2.load_state_dict(checkpoint["scaler"])
print("restored scale:", scaler2.get_scale(), "growth tracker:", scaler2.state_dict()["_growth_tracker"])

with torch.no_grad(), torch.autocast(device_type=device, dtype=torch.float16):
    evaluation = loss_fn(net(data[0]), targets[0])
print(f"final loss under autocast: {evaluation.item():.3f}  dtype float32: {evaluation.dtype == torch.float32}")
