"""Shared fixtures: where the course's data lives.

The one mechanism for finding the course's files is the library's own: `$COURSEWORK_DATA` (CI and
`tools/test.sh` set it). The official MNIST IDX test files, when present, sit in `mnist-idx` beside
that folder."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _coursework_dir():
    env = os.environ.get("COURSEWORK_DATA", "").strip()
    return Path(env) if env and Path(env).is_dir() else None


# read once, at collection: loader tests clear the variable for their own runs
COURSEWORK_DIR = _coursework_dir()


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def coursework_data():
    "The folder of the course's files (`MNIST_train.csv`, `gene_expression_data.csv`...), or skip."
    path = COURSEWORK_DIR
    if path is None:
        pytest.skip("the course's data folder is not given: set COURSEWORK_DATA to it")
    return path


@pytest.fixture(scope="session")
def mnist_idx_data():
    "The official MNIST test set as IDX files (`mnist-idx` beside `$COURSEWORK_DATA`), or skip."
    course = COURSEWORK_DIR
    path = course.parent / "mnist-idx" if course is not None else None
    if path is None or not path.is_dir():
        pytest.skip("no MNIST IDX folder: it is looked for as mnist-idx beside $COURSEWORK_DATA")
    return path
