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


def test_the_faults_example_passes(pytester: pytest.Pytester) -> None:
    example = next(b for b in BLOCKS if "def test_checkout_survives_a_flaky_stripe" in b)
    example = example.replace("def test_rate_limited(stripe_fake): ...",
                              "def test_rate_limited(stripe_fake):\n"
                              "    assert len(stripe_fake.faults) == 1")
    pytester.makepyfile(test_faults_example="import pytest\nimport stripe\n\n" + example)
    pytester.runpytest("-p", "stripe_fixtures").assert_outcomes(passed=2)
