"""nbgrader configuration of the d2lcourse course (course root: this folder).

`configure` swaps nbgrader's Execute step for d2lcourse's sandboxed one, so plain
`nbgrader autograde` never runs student code in the grader, and makes feedback omit
hidden tests. See README.md, "For instructors".
"""
from d2lcourse.autograder.nbgrader_plugin import configure

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "d2lcourse"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# `nbgrader validate` runs the training tests too: give them time on a busy machine.
c.Execute.timeout = 300
configure(c)
