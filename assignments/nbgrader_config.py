"""nbgrader configuration of the d2lcourse course (course root: this folder)."""
c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "d2lcourse"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Student notebooks only ever import the course library; never run them in a notebook
# server's default kernel with other packages in mind.
c.Execute.timeout = 300
