# %% [markdown]
# # 数据并行：1、2、4 个进程训练同一个 MNIST 模型 (data-parallel)
#
# 一台机器不够用时，最常见的办法是**数据并行**：每个进程都有一份完整的模型，每一步只读全局 batch 的 1/N。
# `backward()` 之后，`DistributedDataParallel` 对梯度做一次 **all-reduce**：每个进程交出自己的梯度数组，
# 每个进程都拿回所有数组逐元素的**和**，再除以 N：
#
# $$g = \frac{1}{N}\sum_{r=1}^{N} \nabla_w \frac{1}{B/N}\sum_{i \in \text{shard}_r} \ell_i
#     = \nabla_w \frac{1}{B}\sum_{i=1}^{B} \ell_i$$
#
# 各份大小相同时，N 个分片均值的平均就是整个 batch 的均值，所以每个进程得到的梯度和**一个进程在全局
# batch 上**算的一样；起点一样 (DDP 构造时把 rank 0 的权重广播给所有进程)，每一步也一样，训练结束时
# 权重相同。`DistributedSampler` 保证 N 个进程第 k 步读到的正好是一个进程第 k 步的那个 batch。
#
# 梯度不是一个参数一个参数地发：DDP 按反向传播产生梯度的顺序 (从最后一层开始) 把参数装进 **bucket**，
# 一个 bucket 满了就立刻异步 all-reduce，同时反向传播继续算前面的层。
#
# 下面的程序就是 PyTorch 的 DDP 写法，用 `python -m glasstorch.distributed.run --nproc-per-node N` 启动
# (底下是 MPI 的 `mpiexec`)。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run
DATA_DIR = None  # the folder holding mnist/ (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch

DATA_DIR = os.path.abspath(DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data"))
NPROCS, DTYPES = ((1, 2), ("float64",)) if QUICK else ((1, 2, 4), ("float64", "float32"))
HIDDEN, BATCH, LR, EPOCHS = (32, 64, 0.05, 3) if QUICK else (256, 128, 0.1, 1)
TRAIN_LIMIT, TEST_LIMIT = (512, 200) if QUICK else (0, 0)  # 0: every image

# %% [markdown]
# ## 每个进程运行的程序
#
# 和单进程的训练只差四处：`init_process_group`、`DistributedSampler` (每个进程读自己那一份)、
# `sampler.set_epoch` (每个 epoch 所有进程用同一个新的随机顺序)、`DistributedDataParallel(model)`。
# 每个进程故意用不同的种子初始化模型：DDP 会换成 rank 0 的权重。rank 0 最后把权重和用时写到文件里。

# %%
SCRIPT = '''
import json, sys, time
import numpy as np
import glasstorch as torch
import glasstorch.distributed as dist
from glasstorch import nn
from glasstorch.nn.parallel import DistributedDataParallel as DDP
from glasstorch.utils.data import DataLoader, DistributedSampler, TensorDataset
from glasstorch.vision import datasets

data_dir, dtype, hidden, batch, lr, epochs, train_limit, test_limit, out = sys.argv[1:]
dtype = getattr(torch, dtype)
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()

def mnist(train, limit):
    data = datasets.MNIST(root=data_dir + "/mnist", train=train, download=False)
    X, y = (data.data.to(dtype) / 255).unsqueeze(1), data.targets
    if int(limit):
        keep = torch.from_numpy(np.random.default_rng(0).permutation(len(y))[:int(limit)])
        X, y = X[keep], y[keep]
    return X, y

train_set = TensorDataset(*mnist(True, train_limit))
sampler = DistributedSampler(train_set, shuffle=True, seed=0, drop_last=True)
loader = DataLoader(train_set, batch_size=int(batch) // world, sampler=sampler, drop_last=True)

torch.manual_seed(rank)  # different on every rank: DDP copies rank 0's weights
model = nn.Sequential(nn.Flatten(), nn.Linear(784, int(hidden)), nn.ReLU(), nn.Linear(int(hidden), 10)).to(dtype)
ddp = DDP(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(ddp.parameters(), lr=float(lr), momentum=0.9)

steps = 0
dist.barrier()
start = time.perf_counter()
for epoch in range(int(epochs)):
    sampler.set_epoch(epoch)
    for X, y in loader:
        optimizer.zero_grad()
        loss_fn(ddp(X), y).backward()  # DDP all-reduces the gradients here
        optimizer.step()
        steps += 1
dist.barrier()
seconds = time.perf_counter() - start

if rank == 0:
    X_test, y_test = mnist(False, test_limit)
    with torch.no_grad():
        accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    np.savez(out + ".npz", **{k: v.numpy() for k, v in model.state_dict().items()})
    json.dump({"seconds": seconds, "samples": steps * int(batch), "test_acc": accuracy}, open(out + ".json", "w"))
dist.destroy_process_group()
'''
Path("train_ddp.py").write_text(SCRIPT)

# %% [markdown]
# ## 用 1、2、4 个进程各训练一次
#
# 每个进程只用一个 BLAS 线程 (`OMP_NUM_THREADS=1`，和 torchrun 一样)，所以 N 个进程用 N 个核。

# %%
env = dict(os.environ, OMP_NUM_THREADS="1")
# the workers import the same glasstorch as this kernel
env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(torch.__file__)),
                                                 env.get("PYTHONPATH")] if p)
runs = {}
for dtype in DTYPES:
    for n in NPROCS:
        out = f"run-{dtype}-{n}"
        cmd = [sys.executable, "-m", "glasstorch.distributed.run", "--nproc-per-node", str(n), "train_ddp.py",
               DATA_DIR, dtype, HIDDEN, BATCH, LR, EPOCHS, TRAIN_LIMIT, TEST_LIMIT, out]
        job = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=900)
        assert job.returncode == 0, job.stderr[-2000:]
        result = json.loads(Path(out + ".json").read_text())
        with np.load(out + ".npz") as f:
            result["weights"] = {k: f[k] for k in f.files}
        runs[dtype, n] = result
        print(f"{n} process(es), {dtype}: {result['seconds']:.2f} s, "
              f"{result['samples'] / result['seconds']:.0f} samples/s, test acc {result['test_acc']:.4f}")

# %% [markdown]
# ## 权重一样吗？
#
# float64 下只差加法顺序带来的 ~1e-16 的舍入，结果相同到 ~1e-15。float32 的舍入是 ~1e-7，浮点加法不满足
# 结合律，所以最后几位不同；训练久了，某个 ReLU 的输入刚好落在这点差别以内、走了另一边，两次训练就分开了
# (两个模型一样好，只是不再逐位相同)。

# %%
def max_difference(a, b):
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)

diffs = {}
for dtype in DTYPES:
    for n in NPROCS:
        diffs[dtype, n] = max_difference(runs[dtype, n]["weights"], runs[dtype, 1]["weights"])
        print(f"{dtype}: max |w_{n} - w_1| = {diffs[dtype, n]:.2e}")

# %% [markdown]
# ## 吞吐量：每秒训练多少个样本
#
# 一步的计算越多，all-reduce 的开销占比越小；这个 MLP 一步只要约 1 毫秒，进程间等待占了大头。
# 进程数超过空闲的核数时 (2 核机器上的 4 个进程)，进程轮流上核，all-reduce 要等一个没在运行的伙伴。

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for dtype in DTYPES:
    rates = [runs[dtype, n]["samples"] / runs[dtype, n]["seconds"] for n in NPROCS]
    ax.plot(NPROCS, rates, "o-", label=f"{dtype} (measured)")
    ax.plot(NPROCS, [rates[0] * n for n in NPROCS], ":", color=ax.lines[-1].get_color(), label=f"{dtype}: linear")
ax.axvline(os.cpu_count(), color="gray", linestyle="--", label=f"{os.cpu_count()} cores")
ax.set(xlabel="processes", ylabel="training samples / s", xticks=NPROCS, title=f"global batch {BATCH}")
ax.legend()
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import data_parallel as lesson
results = {"max_weight_diff_float64": max(diffs["float64", n] for n in NPROCS),
           "test_acc": runs[DTYPES[0], 1]["test_acc"]}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
