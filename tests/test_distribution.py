"""How ``make test`` hands the suite out (tests/conftest.py, under pytest-xdist's
``--dist loadgroup``): the tests of a file that share a fixture of the file's own run on
one worker, which builds it once.  pytest 9.2 with pytest-xdist 3.8 stopped grouping
without a word (pytest-xdist issue 1386; pyproject.toml keeps pytest below 9.2): this
runs the real thing on a small file to see it."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = '''
import os
import pytest

@pytest.fixture(scope="module")
def built_once():
    return os.getpid()

def test_first(built_once, tmp_path_factory):
    (tmp_path_factory.getbasetemp().parent.parent / "first.pid").write_text(str(built_once))

def test_second(built_once, tmp_path_factory):
    (tmp_path_factory.getbasetemp().parent.parent / "second.pid").write_text(str(built_once))
'''
ALONE = "".join(f"def test_alone_{i}():\n    assert True\n\n" for i in range(6))


def test_tests_sharing_a_fixture_of_their_file_run_on_one_worker(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(
        "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n")
    (suite / "test_shared.py").write_text(PROBE)
    (suite / "test_alone.py").write_text(ALONE)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "--dist", "loadgroup", "--no-loadscope-reorder", "--basetemp", str(tmp_path / "t"),
         "-o", "addopts=", "--rootdir", str(suite), str(suite)],
        cwd=suite, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout
    first, second = ((tmp_path / f"{n}.pid").read_text() for n in ("first", "second"))
    assert first == second, "the two tests sharing a module fixture ran on two workers"
