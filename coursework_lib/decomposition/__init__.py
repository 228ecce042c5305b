"""Matrix decompositions, as scikit-learn's `sklearn.decomposition`: PCA and standardisation (`pca`,
nbs/06_pca.ipynb) and NMF (`nmf`, nbs/07_nmf.ipynb)."""

# Written by hand, as nbdev's own package `__init__.py` is; it only re-exports, the code lives in the
# chapters' modules. Not an `#| export decomposition.__init__` cell: nbdev appends such a cell to a
# module that no notebook's `#| default_exp` rewrites, so every `nbdev_export` would add it again.
from .nmf import NMF
from .pca import PCA, Standardiser, standardise, unstandardise

__all__ = ["PCA", "Standardiser", "standardise", "unstandardise", "NMF"]
