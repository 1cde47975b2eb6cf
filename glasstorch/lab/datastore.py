"""`glasstorch data {list,fetch,verify,path}`: where the datasets live, fetching with checksums, verifying.

The data folder holds one subfolder per set (the layout of ../shared/data):
    DATA/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    DATA/fashion-mnist/(the same four names)
The file names and MD5s are the ones glasstorch.vision's MNIST / FashionMNIST check.
"""
import shutil
from pathlib import Path


def _sets():
    from glasstorch.vision.datasets import FashionMNIST, MNIST
    return {"mnist": MNIST, "fashion-mnist": FashionMNIST}


def _selected(name):
    sets = _sets()
    if name is None:
        return sets
    if name not in sets:
        raise SystemExit(f"unknown dataset {name!r}; choose from {', '.join(sets)} (digits ships with glasstorch)")
    return {name: sets[name]}


def status(data_dir, name=None):
    """{set: [(file, state)]}, state one of 'ok', 'missing', 'BAD CHECKSUM'."""
    from glasstorch.datasets.download import check_integrity
    report = {}
    for key, cls in _selected(name).items():
        rows = []
        for file_name, md5, _ in cls.resources:
            path = Path(data_dir) / key / file_name
            rows.append((path, "missing" if not path.is_file() else ("ok" if check_integrity(path, md5)
                                                                      else "BAD CHECKSUM")))
        report[key] = rows
    return report


def fetch(data_dir, name=None, source=None):
    """Copy the files from `source` (a folder) or download them from the mirrors; each MD5-checked."""
    from glasstorch.datasets.download import check_integrity, download_file
    problems = 0
    for key, cls in _selected(name).items():
        folder = Path(data_dir) / key
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, md5, _ in cls.resources:
            target = folder / file_name
            if check_integrity(target, md5):
                print(f"ok        {target}")
                continue
            if source is not None:
                candidates = [Path(source) / file_name, Path(source) / key / file_name]
                found = next((c for c in candidates if check_integrity(c, md5)), None)
                if found is None:
                    print(f"MISSING   {file_name}: not in {source} (or its MD5 differs from {md5})")
                    problems += 1
                    continue
                shutil.copyfile(found, target.with_suffix(".part"))
                target.with_suffix(".part").replace(target)  # atomic: never a half-copied file
                print(f"imported  {target}")
            else:
                try:
                    download_file(file_name, cls.mirrors, md5=md5, folder=folder)
                    print(f"fetched   {target}")
                except Exception as exc:
                    print(f"FAILED    {file_name}: {exc}")
                    problems += 1
    return problems


def main(action, name, data_dir, source=None):
    if action == "path":
        print(Path(data_dir).resolve())
        return 0
    if action == "fetch":
        return 1 if fetch(data_dir, name, source) else 0
    report = status(data_dir, name)
    bad = 0
    print(f"data folder: {Path(data_dir).resolve()}")
    for key, rows in report.items():
        states = {s for _, s in rows}
        summary = "ok" if states == {"ok"} else ("missing" if states == {"missing"} else "incomplete")
        print(f"{key:<14} {summary}")
        if action == "verify" or summary != "ok":
            for path, state in rows:
                print(f"    {state:<13} {path.name}")
        bad += summary != "ok"
    print("digits         ok (ships with scikit-learn, no download)")
    if bad:
        print(f"fix: glasstorch data fetch --data-dir {data_dir}  (download), or "
              f"glasstorch data fetch --from FOLDER --data-dir {data_dir}  (import files you have)")
    return 1 if bad and action == "verify" else 0
