"""glasstorch.datasets: the notes' own data (generated toy sets, a CSV reader) and the download helper."""
from . import download, tabular, toy
from .download import DownloadError, cache_dir, check_integrity, download_file, md5sum
from .tabular import read_csv_dataset
from .toy import circles, diamond, linear_regression, logic_gate, moons, polynomial_regression, spirals, xor_blobs

__all__ = ["DownloadError", "cache_dir", "check_integrity", "circles", "diamond", "download", "download_file",
           "linear_regression", "logic_gate", "md5sum", "moons", "polynomial_regression", "read_csv_dataset", "spirals",
           "tabular", "toy", "xor_blobs"]
