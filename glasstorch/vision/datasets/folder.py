"""DatasetFolder and ImageFolder: a labelled dataset from a folder tree, one subfolder per class.

    root/dog/xxx.png                dataset = ImageFolder("root", transform=transform)
    root/dog/nested/xxy.png         dataset.classes        -> ['cat', 'dog']   (sorted folder names)
    root/cat/123.jpg                dataset.class_to_idx   -> {'cat': 0, 'dog': 1}
                                    dataset[0]             -> (PIL RGB image, 0)

The files are listed once, when the dataset is made (sorted, so the order is the same on every machine);
a sample is read when it is asked for. Reading opens the file, decodes it all, and closes it again, so a
file is never held open; files still being written by glasstorch's atomic writers (`.name...tmp`) have no
image extension and are not listed.
"""
import os

from ...utils.data.dataset import Dataset
from ..io import pil_image_module

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """Whether `filename` ends with one of `extensions` (a string or a tuple), case-insensitively."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename):
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """The class folders of `directory`, sorted, and {name: index}; no folder at all is an error."""
    directory = os.path.expanduser(os.fspath(directory))
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None, allow_empty=False):
    """[(path, class index)] of every valid file under each class folder (walked in sorted order).

    Exactly one of `extensions` and `is_valid_file` decides which files count. A class folder without any
    valid file is an error unless allow_empty=True.
    """
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)

    instances, found = [], set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            listed = extensions if isinstance(extensions, str) else ", ".join(extensions)
            message += f"Supported extensions are: {listed}"
        raise FileNotFoundError(message)
    return instances


def pil_loader(path):
    """The image at `path` as an RGB PIL image, decoded while the file is open (then closed)."""
    Image = pil_image_module()
    with open(path, "rb") as f:
        image = Image.open(f)
        return image.convert("RGB")


def default_loader(path):
    return pil_loader(path)


class DatasetFolder(Dataset):
    """Samples `(loader(path), class index)` from `root/<class>/**/<file>` (torchvision's arguments).

    Args:
        root: the folder holding one subfolder per class.
        loader: path -> sample (for ImageFolder: an RGB PIL image).
        extensions: the file endings that count (or give `is_valid_file`, a path -> bool test).
        transform, target_transform: applied to the sample and to the class index.
        allow_empty: accept class folders without any valid file.

    Attributes: classes, class_to_idx, samples ([(path, index)]), targets ([index]).
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None, is_valid_file=None,
                 allow_empty=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.transform, self.target_transform = transform, target_transform
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx, extensions, is_valid_file, allow_empty)
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = classes, class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory):
        """Override to choose other class folders (e.g. a subset): returns (classes, class_to_idx)."""
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self):
        return len(self.samples)

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}"]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class ImageFolder(DatasetFolder):
    """DatasetFolder of images (.jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp), loaded as RGB PIL images.

    `imgs` is `samples` under its older name. Needs Pillow (`pip install 'glasstorch[vision]'`).
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
