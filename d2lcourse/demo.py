"""`d2lcourse demo`: the whole instructor workflow on a copy of the course.

Copies the course, releases the assignment with nbgrader, submits a small class
(the reference, a blank notebook, typical mistakes from the catalogue and two hostile
notebooks), grades it in the sandbox and prints the score table and the reports. The
copy is thrown away, or kept in `keep` (`make demo` keeps it in `demo-course/`): a
folder that an earlier demo made is replaced, any other must be new or empty.
"""
import shutil
import tempfile
from pathlib import Path

from d2lcourse import mistakes
from d2lcourse.autograder import samples
from d2lcourse.course import get_assignment

MARK = ".d2lcourse-demo"  # in a kept course: this folder is the demo's to replace
HTTP_PORT = 8000


def keep_problem(folder):
    """Why the demo may not build its course in `folder`, or None."""
    folder = Path(folder)
    if not folder.exists() or (folder / MARK).is_file():
        return None
    if not folder.is_dir():
        return f"{folder} is a file: --keep needs a folder"
    if any(folder.iterdir()):
        return (f"{folder} is not empty and no earlier demo made it: choose a new or empty "
                "folder for --keep (the demo replaces only its own)")
    return None


def replace_folder(folder):
    """An empty `folder` marked as the demo's, replacing an earlier demo's."""
    problem = keep_problem(folder)
    if problem:
        raise ValueError(problem)
    if (folder / MARK).is_file():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARK).write_text("made by `d2lcourse demo`; the next demo here replaces it\n")
    return folder


def how_to_open(course, assignment):
    """Lines saying where the kept reports are and how to look at them."""
    report = course / "reports" / assignment.id / "report.html"
    address = f"http://localhost:{HTTP_PORT}/{report.relative_to(course)}"
    return [f"course kept in {course} (the next demo there replaces it)",
            f"open the report:  xdg-open {report}",
            f"  or serve it:    python3 -m http.server -d {course} {HTTP_PORT}   "
            f"then open {address}",
            f"feedback pages:   {course / 'feedback'}/<student>/{assignment.id}/"]


def main(assignment_id, workers=2, keep=None):
    from d2lcourse.autograder.grade import Recorder, grade

    assignment = get_assignment(assignment_id)
    with tempfile.TemporaryDirectory(prefix="d2lcourse-demo-") as scratch:
        course = replace_folder(Path(keep).resolve()) if keep else Path(scratch).resolve()
        print(f"course copy: {course}")
        samples.copy_course(course, [assignment.id])
        Recorder(course, assignment).ensure_assignment()
        print(f"released {assignment.id}: {course / 'release' / assignment.id}")
        catalogue, _ = mistakes.load(assignment)
        students = samples.sample_class(course, assignment, samples.varied(catalogue, 3))
        for student, replacements in students.items():
            samples.write_submission(course, assignment, student, replacements)
        print(f"submitted {len(students)} notebooks: {', '.join(students)}")
        grade(assignment, course, workers=workers)
        if keep:
            print("\n".join(how_to_open(course, assignment)))
        else:
            print(f"feedback: {course / 'feedback'}")
            print("(the course copy is deleted now; pass --keep DIR to keep it)")
    return 0
