"""The course's assignments and their graded functions (COURSE_CONTRACT.md).

An assignment is registered by its files alone: the folder `source/<id>/` of the course
root holds its one notebook, `<stem>.ipynb`, whose solution cells name its graded
functions (their grade_ids, in notebook order); its reference solutions, checks and
mistakes are `solutions/<stem>.py`, `d2lcourse/checks/<stem>.py` and
`d2lcourse/mistakes/<stem>.py`. `python -m d2lcourse.scaffold` writes the four
(AUTHORING.md). The table is read on first use, not at import. A student's install has
no source notebooks: the student package writes the table (`TABLE`) beside this module.
"""

import json
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from d2lcourse import notebooks

REPOSITORY = Path(__file__).resolve().parent.parent
TABLE = "assignments.json"  # the table of a student's install (written by student_package)


@dataclass(frozen=True)
class Assignment:
    id: str  # nbgrader assignment id, e.g. "04_softmax_regression"
    notebook: str  # notebook file name inside the assignment folder
    functions: tuple  # graded functions: the notebook's solution cells, in order

    @property
    def module(self):
        """Name of the reference module and of the checks module: the notebook's stem."""
        return Path(self.notebook).stem

    def source_path(self, course_dir=None):
        return Path(course_dir or default_course_dir()) / "source" / self.id / self.notebook

    def named(self, grade_ids):
        """How many of this assignment's graded functions the cell ids `grade_ids` name."""
        return len(set(self.functions) & set(grade_ids))

    def owner_of(self, test_id):
        """The graded function a test cell's grade_id belongs to (longest prefix wins)."""
        owners = [
            f for f in self.functions if test_id == f"test_{f}" or test_id.startswith(f"test_{f}_")
        ]
        return max(owners, key=len) if owners else None


def assignments_in(source):
    """{id: Assignment} of the course whose source folder is `source`, in id order: one per
    folder that holds a notebook (none if `source` does not exist)."""
    source = Path(source)
    found = {}
    for folder in sorted(source.iterdir()) if source.is_dir() else ():
        held = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if folder.name.startswith(".") or not held:
            continue
        if len(held) > 1:
            raise ValueError(
                f"{folder} holds {len(held)} notebooks "
                f"({', '.join(p.name for p in held)}): an assignment is one "
                f"notebook; move the others out"
            )
        found[folder.name] = of_notebook(folder.name, held[0], notebooks.read(held[0]))
    return found


def of_notebook(assignment_id, path, notebook):
    """The Assignment `assignment_id` whose notebook, at `path`, is `notebook`: its graded
    functions are the notebook's solution cells, in notebook order."""
    return Assignment(assignment_id, Path(path).name, tuple(notebooks.solution_sources(notebook)))


def write_table(folder, assignments):
    """Write `assignments` ({id: Assignment}) as the table of the package at `folder`."""
    rows = [[a.id, a.notebook, list(a.functions)] for a in assignments.values()]
    (Path(folder) / TABLE).write_text(json.dumps(rows, indent=1) + "\n")


def read_table(path):
    rows = json.loads(Path(path).read_text())
    return {row[0]: Assignment(row[0], row[1], tuple(row[2])) for row in rows}


def discovered():
    """The course's assignments: the table of a student's install, else those of the
    course root's source folder."""
    packaged = Path(__file__).with_name(TABLE)
    if packaged.exists():
        return read_table(packaged)
    return assignments_in(default_course_dir() / "source")


class Registry(MutableMapping):
    """{id: Assignment}, found by `discovered` when first asked: importing this module
    reads no notebook (and the sandbox, which sees none, finds an empty table)."""

    def __init__(self, find):
        self.find = find
        self.found = None

    def table(self):
        if self.found is None:
            self.found = self.find()
        return self.found

    def __getitem__(self, assignment_id):
        return self.table()[assignment_id]

    def __setitem__(self, assignment_id, assignment):
        self.table()[assignment_id] = assignment

    def __delitem__(self, assignment_id):
        del self.table()[assignment_id]

    def __iter__(self):
        return iter(self.table())

    def __len__(self):
        return len(self.table())

    def __repr__(self):
        return f"Registry({self.table()!r})"


ASSIGNMENTS = Registry(discovered)


def is_trainer(function):
    """Whether graded function `function` is a trainer (`train_*`): its tests train."""
    return function.startswith("train_")


def assignment_of(grade_ids):
    """The course's assignment whose graded functions the cell ids `grade_ids` name most."""
    return max(ASSIGNMENTS.values(), key=lambda a: a.named(grade_ids))


PUBLISHED = "published.txt"  # in the course root: one assignment id per line


def published(course_dir=None):
    """Ids of the assignments whose reference solutions are published (the course root's
    published.txt; `#` starts a comment; no file: none). Only these reach students
    (`make student-wheel`) and the grading sandbox (later assignments' setup cells)."""
    path = Path(course_dir or default_course_dir()) / PUBLISHED
    if not path.exists():
        return ()
    ids = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    unknown = [i for i in ids if i and i not in ASSIGNMENTS]
    if unknown:
        raise ValueError(
            f"{path} names {', '.join(unknown)}, not an assignment of the course "
            f"({', '.join(ASSIGNMENTS)}): fix the line"
        )
    return tuple(i for i in ids if i)


def default_course_dir():
    """The nbgrader course root: $D2LCOURSE_COURSE or the repository's assignments/."""
    return Path(os.environ.get("D2LCOURSE_COURSE", REPOSITORY / "assignments"))


def get_assignment(assignment_id):
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(ASSIGNMENTS)
        raise SystemExit(
            f"d2lcourse: unknown assignment {assignment_id!r}; the course has: {known}"
        ) from None
