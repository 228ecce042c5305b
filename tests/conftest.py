"""Shared fixtures: where the course's data lives, and a clean environment for loader tests."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _coursework_dir():
    env = os.environ.get("COURSEWORK_DATA")
    if env and Path(env).is_dir():
        return Path(env)
    if (SHARED_DATA / "coursework").is_dir():
        return SHARED_DATA / "coursework"
    return None


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def coursework_data():
    "The folder holding the course's files (`MNIST_train.csv`, `gene_expression_data.csv`, ...), or skip."
    path = _coursework_dir()
    if path is None:
        pytest.skip("the course's data folder is absent: set COURSEWORK_DATA or put it at ../shared/data/coursework")
    return path


@pytest.fixture(scope="session")
def mnist_idx_data():
    "The folder holding the official MNIST test set as IDX files, or skip."
    path = SHARED_DATA / "mnist-idx"
    if not path.is_dir():
        pytest.skip(f"the MNIST IDX folder {path} is absent")
    return path
