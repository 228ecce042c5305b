"""The course's data sets, one module per concern, each written by its notebook: the file readers (`formats`,
nbs/data_formats.ipynb), the downloads and the cache (`download`, nbs/data_download.ipynb), the loaders of MNIST,
noisy MNIST and gene expression (`loaders`, nbs/00_data.ipynb, the data chapter) and `show_images` (`plotting`,
nbs/data_plotting.ipynb)."""

# Written by hand, as nbdev's own package `__init__.py` is; it only re-exports, the code lives in the
# notebooks' modules. Not an `#| export data.__init__` cell: nbdev appends such a cell to a module
# that no notebook's `#| default_exp` rewrites, so every `nbdev_export` would add it again.
from .download import DownloadError, cache_dir, fetch_mnist, fetch_tcga
from .formats import (
    DataFileError,
    GeneData,
    MNISTData,
    NoisyMNISTData,
    Sourced,
    read_gene_csv,
    read_idx,
    read_mnist_csv,
    read_mnist_idx,
    read_noise_txt,
    tcga_subset,
)
from .loaders import gaussian_noise, load_gene_expression, load_mnist, load_noisy_mnist
from .plotting import show_images

__all__ = [
    "DataFileError",
    "Sourced",
    "MNISTData",
    "NoisyMNISTData",
    "GeneData",
    "read_mnist_csv",
    "read_idx",
    "read_mnist_idx",
    "read_noise_txt",
    "read_gene_csv",
    "tcga_subset",
    "DownloadError",
    "cache_dir",
    "fetch_mnist",
    "fetch_tcga",
    "load_mnist",
    "gaussian_noise",
    "load_noisy_mnist",
    "load_gene_expression",
    "show_images",
]
