"""The torchvision programs (p25..p29) check themselves against closed forms: every `...: True/False` flag
they print must be True. (torchvision is not installed beside torch 2.13, so test_programs runs them on
glasstorch only.)"""
import re
from pathlib import Path

import pytest

from .test_programs import glasstorch_env, run

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROGRAMS = [HERE / "programs" / name for name in (
    "p25_resnet18_fakedata_step.py", "p26_imagefolder_pipeline.py", "p27_v2_augmentation.py",
    "p28_save_image_make_grid.py", "p29_finetune_last_layer.py")]
FLAG = re.compile(r":\s+(True|False)\b")


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_every_printed_check_holds(program):
    pytest.importorskip("PIL")
    out = run(["-m", "glasstorch.as_torch", str(program)], cwd=REPO, env=glasstorch_env())
    flags = FLAG.findall(out)
    assert len(flags) >= 1, out
    assert all(flag == "True" for flag in flags), out
