"""nbgrader configuration of the d2lcourse course (course root: this folder).

`configure` swaps nbgrader's Execute step for d2lcourse's sandboxed one, so plain
`nbgrader autograde` never runs student code in the grader; makes feedback omit hidden
tests; restores them in submissions without a warning per test cell; and puts this
environment's `bin/` first on PATH, so `../.venv/bin/nbgrader` finds `alembic` without an
activated venv. See README.md, "For instructors", and COURSE_CONTRACT.md.
"""
import os

from d2lcourse.autograder.nbgrader_plugin import configure

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "d2lcourse"
# nbgrader's exchange (release_assignment, fetch, submit, collect, release_feedback) is
# this folder's exchange/, or $D2LCOURSE_EXCHANGE: on a JupyterHub, the folder shared with
# the students (docs/jupyterhub.md), the same as in student_nbgrader_config.py.
c.Exchange.root = os.environ.get(
    "D2LCOURSE_EXCHANGE", os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange"))
if not os.path.isdir(c.Exchange.root):
    os.makedirs(c.Exchange.root)
    os.chmod(c.Exchange.root, 0o777)  # what nbgrader requires of an exchange (it warns otherwise)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# `nbgrader validate` runs the training tests too: give them time on a busy machine.
c.Execute.timeout = 300
configure(c)
