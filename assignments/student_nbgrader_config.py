"""nbgrader configuration for the students' environment: install it as
/etc/jupyter/nbgrader_config.py in the JupyterHub single-user image (or as
~/.jupyter/nbgrader_config.py for one student), so that plain `nbgrader fetch_assignment`,
`submit` and `fetch_feedback` (and the Assignments tab) find this course's exchange.
The student id is the JupyterHub user name, as nbgrader takes it. See docs/jupyterhub.md.
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "d2lcourse"
# The exchange folder shared with the instructor's course (its nbgrader_config.py sets the
# same root); $D2LCOURSE_EXCHANGE overrides it.
c.Exchange.root = os.environ.get("D2LCOURSE_EXCHANGE", "/srv/nbgrader/exchange")
