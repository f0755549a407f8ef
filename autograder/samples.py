"""Sample classes: throw-away course copies with submissions made from the release.

Used by `d2lcourse demo`, the grading benchmark and the autograder's tests. Every
submission starts from the released notebook (what students receive); its solution
cells are then filled from the reference, a catalogued mistake, or left blank.
"""
import shutil
from pathlib import Path

from d2lcourse import notebooks
from d2lcourse.course import PUBLISHED, default_course_dir

HOSTILE_CELLS = {
    # The nbgrader exploit: blank every later cell, tests included.
    "input_transformer": "get_ipython().input_transformers_cleanup.append("
                         "lambda lines: ['pass\\n'])\n",
    # Leave a process behind that outlives the notebook.
    "daemon": "import os, subprocess\nsubprocess.Popen(['sleep', '600'], "
              "start_new_session=True)\n",
}


def copy_course(destination, assignment_ids, source_course=None):
    """A fresh nbgrader course at `destination` with the given assignments' sources (and
    the course's published solutions)."""
    source_course = Path(source_course or default_course_dir())
    destination = Path(destination)
    (destination / "source").mkdir(parents=True, exist_ok=True)
    shutil.copy(source_course / "nbgrader_config.py", destination / "nbgrader_config.py")
    if (source_course / PUBLISHED).exists():
        shutil.copy(source_course / PUBLISHED, destination / PUBLISHED)
    for assignment_id in assignment_ids:
        shutil.copytree(source_course / "source" / assignment_id,
                        destination / "source" / assignment_id, dirs_exist_ok=True)
    return destination


def solution_sources(path):
    """{grade_id: source} of the solution cells of the notebook at `path`."""
    return notebooks.solution_sources(notebooks.read(path))


def release_path(course_dir, assignment):
    return Path(course_dir) / "release" / assignment.id / assignment.notebook


def write_submission(course_dir, assignment, student, replacements):
    """Submit the released notebook with `replacements` {grade_id: source} filled in."""
    notebook = notebooks.read(release_path(course_dir, assignment))
    for name, cell in notebooks.cells_by_id(notebook, notebooks.is_solution_cell).items():
        cell.source = replacements.get(name, cell.source)
    folder = Path(course_dir) / "submitted" / student / assignment.id
    folder.mkdir(parents=True, exist_ok=True)
    notebooks.write(notebook, folder / assignment.notebook)
    (folder / "timestamp.txt").write_text("2026-11-27 12:00:00.000000 UTC\n")
    return folder / assignment.notebook


def varied(mistakes, count):
    """Up to `count` mistakes, each in a different function where possible."""
    chosen, functions = [], set()
    for mistake in mistakes:
        if mistake.function not in functions:
            chosen.append(mistake)
            functions.add(mistake.function)
    return (chosen + [m for m in mistakes if m not in chosen])[:count]


def sample_class(course_dir, assignment, mistakes, hostile=True):
    """{student id: replacements}: reference, blank, one per mistake, hostile variants.

    A hostile student submits the blank release with one hostile line added to the first
    solution cell: stock nbgrader gives the input-transformer one full marks.
    """
    reference = solution_sources(assignment.source_path(course_dir))
    blank = solution_sources(release_path(course_dir, assignment))
    first = assignment.functions[0]
    students = {"reference": reference, "blank": {}}
    for mistake in mistakes:
        students[f"mistake_{mistake.name}"] = {**reference, mistake.function: mistake.source}
    if hostile:
        for name, code in HOSTILE_CELLS.items():
            students[f"hostile_{name}"] = {first: blank[first] + "\n" + code}
    return students
