import pytest
import torch

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# The longest files first: under `make test` (pytest-xdist, one file per worker) a long file started last would
# leave one core idle at the end.
LONGEST_FILES = ("test_trial.py", "test_notebooks.py", "test_extract.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in LONGEST_FILES)  # stable: the order within files is kept
