"""Data preprocessing as the notes do it (004 "数据预处理"): d2l's tiny house-price CSV with missing values and a
categorical column, read with pandas, numeric gaps filled with the column mean, categories (and "missing")
turned into 0/1 columns with get_dummies(dummy_na=True), then converted to tensors.
glasstorch.datasets.read_csv_dataset does the same in one call; both must give the same tensors.
"""
from dataclasses import dataclass

import numpy as np

NAME = "preprocessing"
NOTE = "004 (数据预处理: pandas read_csv, fillna(mean), get_dummies(dummy_na=True), torch.tensor)"
SUMMARY = "the house-price CSV with missing values and categories turned into tensors"

CSV = "NumRooms,Alley,Price\nNA,Pave,127500\n2,NA,106000\n4,NA,178100\nNA,NA,140000\n"
EXPECTED_INPUTS = [[3.0, 1.0, 0.0], [2.0, 0.0, 1.0], [4.0, 0.0, 1.0], [3.0, 0.0, 1.0]]
EXPECTED_OUTPUTS = [127500.0, 106000.0, 178100.0, 140000.0]


@dataclass
class Config:
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls()


EXPECTED = {"inputs_error": ("==", 0.0), "outputs_error": ("==", 0.0), "read_csv_dataset_error": ("==", 0.0)}
QUICK_EXPECTED = EXPECTED


def run(fw, cfg, lab):
    import pandas as pd
    lab.out.mkdir(parents=True, exist_ok=True)
    data_file = lab.out / f"house_tiny{lab.suffix}.csv"
    data_file.write_text(CSV)  # d2l writes the file first, then reads it back
    data = pd.read_csv(data_file)
    lab.say(data)
    inputs, outputs = data.iloc[:, 0:2], data.iloc[:, 2]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    lab.say(inputs)
    inputs = pd.get_dummies(inputs, dummy_na=True)
    lab.say(inputs)
    X = fw.tensor(inputs.to_numpy(dtype=float))
    y = fw.tensor(outputs.to_numpy(dtype=float))
    lab.say(X)
    lab.say(y)
    inputs_error = float(np.abs(X.numpy() - EXPECTED_INPUTS).max())
    outputs_error = float(np.abs(y.numpy() - EXPECTED_OUTPUTS).max())

    from glasstorch.datasets.tabular import read_csv_dataset
    gX, gy = read_csv_dataset(str(data_file), target="Price")
    lab.say("glasstorch.datasets.read_csv_dataset(..., target='Price'):")
    lab.say(gX)
    read_csv_error = float(max(np.abs(gX.numpy() - EXPECTED_INPUTS).max(),
                               np.abs(gy.numpy().ravel() - EXPECTED_OUTPUTS).max()))
    return {"inputs_error": inputs_error, "outputs_error": outputs_error, "read_csv_dataset_error": read_csv_error}
