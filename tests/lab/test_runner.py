"""The lab runner's run folders: one per run, never shared."""
from glasstorch.lab.runner import new_run_folder, run_experiment


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    first = new_run_folder(tmp_path / "out", "xor-mlp-20261206-120000")
    second = new_run_folder(tmp_path / "out", "xor-mlp-20261206-120000")
    third = new_run_folder(tmp_path / "out", "xor-mlp-20261206-120000")
    assert [first.name, second.name, third.name] == [
        "xor-mlp-20261206-120000", "xor-mlp-20261206-120000-2", "xor-mlp-20261206-120000-3"]
    assert all(folder.is_dir() for folder in (first, second, third))


def test_two_quick_runs_in_a_row_keep_both_reports(tmp_path):
    a = run_experiment("logic-gates", quick=True, out_root=tmp_path, verbose=False)
    b = run_experiment("logic-gates", quick=True, out_root=tmp_path, verbose=False)
    assert a.folder != b.folder
    assert (a.folder / "metrics.json").exists() and (b.folder / "metrics.json").exists()
