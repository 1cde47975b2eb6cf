"""read_csv_dataset: a CSV table -> float32 tensors, with the notes' preprocessing (d2l's house-price example).

    numeric columns:      missing values become the column mean        (inputs.fillna(inputs.mean()))
    non-numeric columns:  one-hot columns, "missing" being a category   (pd.get_dummies(inputs, dummy_na=True))

pandas does the reading (it is imported here only, when called: `pip install pandas` or glasstorch[lab]).
"""
import numpy as np

from ..tensor import Tensor


def read_csv_dataset(path, target=None, features=None, dtype=np.float32, return_columns=False, **read_csv_kwargs):
    """Read a CSV file into tensors.

    Args:
        path: the CSV file (anything `pandas.read_csv` reads; extra keyword arguments go to it).
        target: the name (or position) of the column to predict; None means every column is an input.
        features: the input columns (default: all but the target).
        dtype: NumPy dtype of the tensors (float32).
        return_columns: also return the names of the input columns after one-hot encoding.

    Returns:
        `X` when target is None, else `(X, y)`; with `return_columns`, the column names come last.
        y is n × 1 for a numeric target; a categorical target is one-hot encoded like the inputs.

    Example (the notes' table):
        NumRooms,Alley,Price            X = [[3, 1, 0],     columns NumRooms, Alley_Pave, Alley_nan
        NA,Pave,127500                       [2, 0, 1],      (NumRooms' mean 3 fills the gaps)
        2,NA,106000                          [4, 0, 1],
        4,NA,178100                          [3, 0, 1]]     y = [[127500], [106000], [178100], [140000]]
        NA,NA,140000
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("read_csv_dataset needs pandas: pip install pandas (or glasstorch[lab])") from None
    table = pd.read_csv(path, **read_csv_kwargs)
    if isinstance(target, int):
        target = table.columns[target]
    if target is not None and target not in table.columns:
        raise KeyError(f"target column {target!r} is not in {path}; its columns are {list(table.columns)}")
    if features is None:
        features = [c for c in table.columns if c != target]
    missing = [c for c in features if c not in table.columns]
    if missing:
        raise KeyError(f"feature columns {missing} are not in {path}; its columns are {list(table.columns)}")
    inputs = _preprocess(table[list(features)], pd)
    X = Tensor._make(inputs.to_numpy(dtype=dtype))
    result = [X]
    if target is not None:
        y = _preprocess(table[[target]], pd)
        result.append(Tensor._make(y.to_numpy(dtype=dtype)))
    if return_columns:
        result.append(list(inputs.columns))
    return result[0] if len(result) == 1 else tuple(result)


def _preprocess(frame, pd):
    """Mean-impute the numeric columns, one-hot encode the others with NaN as a category of its own."""
    numeric = frame.select_dtypes(include="number").columns
    frame = frame.copy()
    frame[numeric] = frame[numeric].fillna(frame[numeric].mean())
    return pd.get_dummies(frame, dummy_na=True, dtype=float)
