"""ImageFolder / DatasetFolder over temporary folder trees (torchvision's rules and messages)."""
import os

import numpy as np
import pytest

import glasstorch
from glasstorch.utils.data import DataLoader
from glasstorch.vision import io
from glasstorch.vision.datasets import DatasetFolder, ImageFolder
from glasstorch.vision.transforms import v2

pytest.importorskip("PIL.Image")


def write_tree(root, layout):
    """layout: {class: [file names]}; .png files get a 3×4×5 image whose pixels encode (class, index)."""
    for ci, (name, files) in enumerate(sorted(layout.items())):
        os.makedirs(root / name, exist_ok=True)
        for k, fname in enumerate(files):
            path = root / name / fname
            os.makedirs(path.parent, exist_ok=True)
            if fname.endswith(".png"):
                io.write_png(glasstorch.full((3, 4, 5), 10 * ci + k, dtype=glasstorch.uint8), path)
            else:
                path.write_text("not an image")


def test_classes_samples_and_images(tmp_path):
    write_tree(tmp_path, {"dog": ["b.png", "a.png", "nested/c.png"], "cat": ["z.png", "notes.txt"]})
    dataset = ImageFolder(str(tmp_path))
    assert dataset.classes == ["cat", "dog"] and dataset.class_to_idx == {"cat": 0, "dog": 1}
    names = [os.path.relpath(p, tmp_path) for p, _ in dataset.samples]
    assert names == ["cat/z.png", "dog/a.png", "dog/b.png", "dog/nested/c.png"]  # sorted walk, .txt skipped
    assert dataset.targets == [0, 1, 1, 1] and dataset.imgs is dataset.samples and len(dataset) == 4
    image, label = dataset[1]
    assert image.mode == "RGB" and image.size == (5, 4) and label == 1
    assert np.asarray(image)[0, 0, 0] == 10 * 1 + 1  # dog's second file written: a.png


def test_loader_pipeline_with_v2_and_a_dataloader(tmp_path):
    write_tree(tmp_path, {"a": ["0.png", "1.png"], "b": ["0.png"]})
    transform = v2.Compose([v2.ToImage(), v2.ToDtype(glasstorch.float32, scale=True)])
    loader = DataLoader(ImageFolder(tmp_path, transform=transform, target_transform=lambda t: t * 10),
                        batch_size=3)
    images, labels = next(iter(loader))
    assert tuple(images.shape) == (3, 3, 4, 5) and labels.tolist() == [0, 0, 10]
    np.testing.assert_allclose(images[:, 0, 0, 0].numpy(), np.array([0, 1, 10]) / np.float32(255), rtol=1e-6)


def test_dataset_folder_with_extensions_is_valid_file_and_loader(tmp_path):
    write_tree(tmp_path, {"x": ["1.txt", "2.TXT", "3.png"], "y": ["4.txt"]})
    texts = DatasetFolder(tmp_path, loader=lambda p: open(p).read(), extensions=(".txt",))
    assert [os.path.basename(p) for p, _ in texts.samples] == ["1.txt", "2.TXT", "4.txt"]  # case-insensitive
    assert texts[0] == ("not an image", 0)
    only_png = DatasetFolder(tmp_path, loader=len, is_valid_file=lambda p: p.endswith("3.png"), allow_empty=True)
    assert [t for _, t in only_png.samples] == [0]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        DatasetFolder(tmp_path, loader=len)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        DatasetFolder(tmp_path, loader=len, extensions=".txt", is_valid_file=bool)


def test_empty_and_missing_class_folders(tmp_path):
    write_tree(tmp_path, {"full": ["1.png"], "empty": []})
    with pytest.raises(FileNotFoundError, match=r"Found no valid file for the classes empty\. Supported extensions "
                                                r"are: \.jpg, \.jpeg, \.png"):
        ImageFolder(tmp_path)
    dataset = ImageFolder(tmp_path, allow_empty=True)
    assert dataset.classes == ["empty", "full"] and dataset.targets == [1]
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "loose.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        ImageFolder(bare)


def test_find_classes_can_be_overridden(tmp_path):
    write_tree(tmp_path, {"a": ["0.png"], "b": ["0.png"], "c": ["0.png"]})

    class OnlyAC(ImageFolder):
        def find_classes(self, directory):
            return ["a", "c"], {"a": 0, "c": 1}

    dataset = OnlyAC(tmp_path)
    assert dataset.classes == ["a", "c"] and dataset.targets == [0, 1]


def test_files_are_read_whole_and_closed(tmp_path):
    (tmp_path / "a").mkdir()
    path = tmp_path / "a" / "0.png"
    io.write_png(glasstorch.full((3, 4, 5), 77, dtype=glasstorch.uint8), path)
    dataset = ImageFolder(tmp_path)
    held, _ = dataset[0]
    # the file was decoded whole before it was closed: replacing it (an atomic rename) leaves what we hold alone
    io.write_png(glasstorch.zeros(3, 4, 5, dtype=glasstorch.uint8), path)
    assert np.asarray(held).min() == 77 and np.asarray(dataset[0][0]).max() == 0
    assert len(os.listdir(tmp_path / "a")) == 1
    assert "Number of datapoints: 1" in repr(dataset)
