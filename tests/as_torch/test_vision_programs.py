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


def test_torchvision_submodules_resolve_to_glasstorch_vision(tmp_path):
    script = tmp_path / "names.py"
    script.write_text(
        "import torchvision, torchvision.io, torchvision.models, torchvision.utils\n"
        "from torchvision.transforms import v2\n"
        "from torchvision.models import resnet18, ResNet18_Weights\n"
        "from torchvision.datasets import ImageFolder, DatasetFolder, FakeData\n"
        "import glasstorch.vision as gv\n"
        "print(torchvision.io is gv.io, torchvision.models is gv.models, torchvision.utils is gv.utils,\n"
        "      v2 is gv.transforms.v2, torchvision.transforms.v2 is v2, resnet18 is gv.models.resnet18,\n"
        "      FakeData is gv.datasets.FakeData)\n")
    out = run(["-m", "glasstorch.as_torch", str(script)], cwd=REPO, env=glasstorch_env())
    assert out.split() == ["True"] * 7, out
