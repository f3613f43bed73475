from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.step_functions_api.support import running_stack


@pytest.fixture(scope="package")
def stack_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sfn-stack")


@pytest.fixture(scope="package")
def endpoint(stack_folder: Path) -> Iterator[str]:
    """One stack for every spec of the package: its Step Functions API's URL."""
    with running_stack(stack_folder) as url:
        yield url
