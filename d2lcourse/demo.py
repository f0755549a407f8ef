"""`d2lcourse demo`: the whole instructor workflow on a throw-away copy of the course.

Copies the course, releases the assignment with nbgrader, submits a small class
(the reference, a blank notebook, typical mistakes from the catalogue and two hostile
notebooks), grades it in the sandbox and prints the score table and the reports.
"""
import tempfile
from pathlib import Path

from d2lcourse.course import get_assignment


def main(assignment_id, workers=2, keep=None):
    from d2lcourse import mistakes
    from d2lcourse.autograder import samples
    from d2lcourse.autograder.grade import Recorder, grade

    assignment = get_assignment(assignment_id)
    with tempfile.TemporaryDirectory(prefix="d2lcourse-demo-") as scratch:
        course = Path(keep or scratch).resolve()
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
        print(f"feedback: {course / 'feedback'}")
        if not keep:
            print("(the course copy is deleted now; pass --keep DIR to keep it)")
    return 0
