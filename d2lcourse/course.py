"""The course's assignments and their graded functions (COURSE_CONTRACT.md)."""
import os
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Assignment:
    id: str           # nbgrader assignment id, e.g. "04_softmax_regression"
    notebook: str     # notebook file name inside the assignment folder
    functions: tuple  # graded functions, in the contract's order

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
        owners = [f for f in self.functions
                  if test_id == f"test_{f}" or test_id.startswith(f"test_{f}_")]
        return max(owners, key=len) if owners else None


ASSIGNMENTS = {a.id: a for a in (
    Assignment("01_ndarray_autograd", "ndarray_autograd.ipynb", (
        "regions", "numerical_derivative", "grad_f", "grad_abs", "grad_relu",
        "grad_norm_sq", "grad_quadratic_form", "jacobian_linear", "grad_z_w",
        "autograd_grad")),
    Assignment("02_linear_regression", "linear_regression.ipynb", (
        "synthetic_data", "data_iter", "linreg", "squared_loss", "sgd", "closed_form",
        "train_linear_regression")),
    Assignment("03_optimization", "optimization.ipynb", (
        "gd", "gd_2d", "max_stable_lr", "init_momentum_states", "sgd_momentum",
        "train_minibatch")),
    Assignment("04_softmax_regression", "softmax_regression.ipynb", (
        "softmax", "cross_entropy", "softmax_cross_entropy", "softmax_cross_entropy_grad",
        "accuracy", "softmax_regression", "train_softmax_regression")),
    Assignment("05_mlp", "mlp.ipynb", (
        "relu", "sigmoid", "tanh", "relu_grad", "sigmoid_grad", "tanh_grad",
        "init_mlp_params", "mlp", "collapse_linear", "train_mlp")),
)}


def is_trainer(function):
    """Whether graded function `function` is a trainer (`train_*`): its tests train."""
    return function.startswith("train_")


def assignment_of(grade_ids):
    """The course's assignment whose graded functions the cell ids `grade_ids` name most."""
    return max(ASSIGNMENTS.values(), key=lambda a: a.named(grade_ids))


PUBLISHED = "published.txt"   # in the course root: one assignment id per line


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
        raise ValueError(f"{path} names {', '.join(unknown)}, not an assignment of the course "
                         f"({', '.join(ASSIGNMENTS)}): fix the line")
    return tuple(i for i in ids if i)


def default_course_dir():
    """The nbgrader course root: $D2LCOURSE_COURSE or the repository's assignments/."""
    return Path(os.environ.get("D2LCOURSE_COURSE", REPOSITORY / "assignments"))


def get_assignment(assignment_id):
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(ASSIGNMENTS)
        raise SystemExit(f"d2lcourse: unknown assignment {assignment_id!r}; "
                         f"the course has: {known}") from None
