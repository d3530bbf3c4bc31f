"""Data: IDX / npz loading with validation, the embedded MNIST, splits and batches, augmentation, and the
preprocessing that turns drawings and pictures into MNIST-like inputs. No Qt."""

from mnist_studio.data.datasets import Dataset, load_dataset, load_idx_folder, load_mnist, load_npz, to_float
from mnist_studio.data.idx import DatasetError, read_idx
from mnist_studio.data.splits import Splits, make_splits

__all__ = ["Dataset", "DatasetError", "Splits", "load_dataset", "load_idx_folder", "load_mnist", "load_npz",
           "make_splits", "read_idx", "to_float"]
