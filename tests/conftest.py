import json
import os
from pathlib import Path

import matplotlib
import pytest

import helpers

# Tests run headless.
matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

# The test files that take a minute or more, longest first: `make test` (--dist loadfile
# --no-loadscope-reorder) starts them first, so the short files fill in at the end and
# both workers finish together (xdist's default order puts files with few tests last,
# and those are the slow ones). From the durations `make test` lists at its end.
SLOWEST_FIRST = ("test_course.py", "test_student_package.py", "test_autograde.py",
                 "test_demo.py", "test_readme.py", "test_semester.py", "test_dask.py",
                 "test_process_faults.py", "test_faults.py",
                 "test_feedback_faults.py", "test_similarity_report.py", "test_pages.py",
                 "test_student_bytes.py", "test_trainers.py", "test_grader_time.py",
                 "test_training.py", "test_solutions_mlp.py",
                 "test_solutions_softmax_regression.py")


# test_student_package.py builds its wheels from the recordings that test_course.py's
# runs make (see there): both files are one unit of work, test_course.py first.
ONE_UNIT = ("tests/test_course.py", "tests/test_student_package.py")


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, with the files of ONE_UNIT given to one worker together."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return ONE_UNIT[0] if scope in ONE_UNIT else scope
    return Scheduling(config, log)


def pytest_collection_modifyitems(items):
    """The files of SLOWEST_FIRST first, in that order; the others as collected."""
    def rank(item):
        name = item.path.name
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)
    items.sort(key=rank)  # stable: each file's tests keep their order


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With D2LCOURSE_NO_SKIPS=1 (CI), a skipped test fails: CI must run every test."""
    report = (yield).get_result()
    if report.skipped and os.environ.get("D2LCOURSE_NO_SKIPS") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but D2LCOURSE_NO_SKIPS=1 requires every test to run: {reason}"


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """A course with the assignments of helpers.GRADED released, once per test run
    (helpers.release_course). Read only: copy it (helpers.copy_of) to change it."""
    return helpers.built_once(tmp_path_factory, "released", helpers.release_course)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory, released_course):
    """(course, outputs): the course that helpers.grade_course grades, once per test run,
    and its runs' outputs (see there). Read only: copy it (helpers.copy_of) to change it."""
    folder = helpers.built_once(tmp_path_factory, "graded", lambda folder: helpers.grade_course(
        folder, released_course))
    return Path(folder / "course"), json.loads((folder / "outputs.json").read_text())
