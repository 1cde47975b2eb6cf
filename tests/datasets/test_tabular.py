"""read_csv_dataset on the notes' house-price table (mean imputation, one-hot with NaN as a category)."""
import numpy as np
import pytest

import glasstorch
from glasstorch.datasets import read_csv_dataset

pytest.importorskip("pandas")

HOUSE_CSV = "NumRooms,Alley,Price\nNA,Pave,127500\n2,NA,106000\n4,NA,178100\nNA,NA,140000\n"


@pytest.fixture
def house_csv(tmp_path):
    path = tmp_path / "house_tiny.csv"
    path.write_text(HOUSE_CSV)
    return path


def test_the_notes_example(house_csv):
    X, y, columns = read_csv_dataset(house_csv, target="Price", return_columns=True)
    assert columns == ["NumRooms", "Alley_Pave", "Alley_nan"]
    assert X.dtype == glasstorch.float32 and y.dtype == glasstorch.float32
    np.testing.assert_array_equal(X.numpy(), [[3, 1, 0], [2, 0, 1], [4, 0, 1], [3, 0, 1]])
    np.testing.assert_array_equal(y.numpy(), [[127500], [106000], [178100], [140000]])


def test_same_as_the_pandas_recipe(house_csv):
    import pandas as pd
    data = pd.read_csv(house_csv)
    inputs = data.iloc[:, 0:2]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    X = read_csv_dataset(house_csv, target=2)[0]
    np.testing.assert_array_equal(X.numpy(), inputs.to_numpy(dtype=np.float32))


def test_no_target_features_and_errors(house_csv):
    everything = read_csv_dataset(house_csv)
    assert tuple(everything.shape) == (4, 4)  # NumRooms, Price, Alley_Pave, Alley_nan
    rooms = read_csv_dataset(house_csv, target="Price", features=["NumRooms"], dtype=np.float64)[0]
    assert rooms.dtype == glasstorch.float64 and rooms.tolist() == [[3.0], [2.0], [4.0], [3.0]]
    with pytest.raises(KeyError, match="target column 'Cost'"):
        read_csv_dataset(house_csv, target="Cost")
    with pytest.raises(KeyError, match="Garage"):
        read_csv_dataset(house_csv, features=["Garage"])
