"""The README's examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_quick_start_test_passes(pytester: pytest.Pytester) -> None:
    quick_start = next(b for b in BLOCKS if "def test_catalog(stripe_fake)" in b)
    pytester.makepyfile(test_quick_start=quick_start)
    pytester.runpytest("-p", "stripe_fixtures").assert_outcomes(passed=1)


def test_the_engine_example_runs() -> None:
    example = next(b for b in BLOCKS if "fake.handle(Request(" in b)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["response"].status == 200
    assert namespace["response"].json()["id"].startswith("prod_")
