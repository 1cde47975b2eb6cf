# %% [markdown]
# # 数据预处理 (preprocessing)
#
# d2l 的房价小数据集：有缺失值 (`NA`) 和类别列。步骤：
# 1. `pd.read_csv` 读入；
# 2. 数值列的缺失值用该列均值填充 (`fillna(mean)`)；
# 3. 类别列变成 one-hot，缺失也算一类 (`get_dummies(dummy_na=True)`)；
# 4. 转成张量 `torch.tensor(...)`，即可送进模型。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (this lesson has one size)

# %%
# %matplotlib inline
import os
import matplotlib.pyplot as plt
import pandas as pd
import glasstorch as torch

os.makedirs("data", exist_ok=True)
data_file = os.path.join("data", "house_tiny.csv")
with open(data_file, "w") as f:
    f.write("NumRooms,Alley,Price\n")  # 列名
    f.write("NA,Pave,127500\n")        # 每行表示一个数据样本
    f.write("2,NA,106000\n")
    f.write("4,NA,178100\n")
    f.write("NA,NA,140000\n")
data = pd.read_csv(data_file)
data

# %% [markdown]
# ## 处理缺失值

# %%
inputs, outputs = data.iloc[:, 0:2], data.iloc[:, 2]
inputs = inputs.fillna(inputs.mean(numeric_only=True))
inputs = pd.get_dummies(inputs, dummy_na=True)
inputs

# %% [markdown]
# ## 转换为张量格式

# %%
X = torch.tensor(inputs.to_numpy(dtype=float))
y = torch.tensor(outputs.to_numpy(dtype=float))
X, y

# %%
plt.bar(range(len(y)), y.numpy()); plt.xlabel("house"); plt.ylabel("Price")
plt.show()

# %% [markdown]
# glasstorch 也有一步到位的 `read_csv_dataset` (同样的填充与 one-hot)：

# %%
from glasstorch.datasets.tabular import read_csv_dataset
gX, gy = read_csv_dataset(data_file, target="Price")
gX

# %%
expected_inputs = torch.tensor([[3.0, 1.0, 0.0], [2.0, 0.0, 1.0], [4.0, 0.0, 1.0], [3.0, 0.0, 1.0]],
                               dtype=torch.float64)
expected_outputs = torch.tensor([127500.0, 106000.0, 178100.0, 140000.0], dtype=torch.float64)

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import preprocessing as lesson
results = {"inputs_error": (X - expected_inputs).abs().max().item(),
           "outputs_error": (y - expected_outputs).abs().max().item(),
           "read_csv_dataset_error": max((gX.double() - expected_inputs).abs().max().item(),
                                         (gy.double().flatten() - expected_outputs).abs().max().item())}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
