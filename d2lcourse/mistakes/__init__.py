"""Typical student mistakes and alternative correct answers, per assignment.

`d2lcourse/mistakes/<notebook stem>.py` defines ``MISTAKES`` and ``ALTERNATIVES``:
whole solution cells that replace the reference cell of one graded function. The
course's tests assert that each mistake loses points on its own function's tests, with
a message naming it, and that each alternative keeps full marks; `d2lcourse demo` and
the grading benchmark build sample classes from them.
"""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    name: str            # short id, e.g. "naive_softmax_overflow"
    function: str        # grade_id of the solution cell it replaces
    source: str          # the whole (mistaken) solution cell
    message: str         # text the failing test's message must contain (case-insensitive)
    also_fails: tuple = ()  # other graded functions whose tests may fail: they call this one


@dataclass(frozen=True)
class Alternative:
    name: str
    function: str
    source: str


def ignored_hyperparameters(function, cell, update_with_fixed_lr):
    """The mistakes of trainer `function` that ignore lr, num_epochs or batch_size (a rate
    of its own, the notebook's values pasted in): `cell(prepare=..., update=...)` builds a
    whole cell of it with lines added at its start or another update."""
    return [Mistake("train_fixed_learning_rate", function, cell(update=update_with_fixed_lr),
                    "ignores lr"),
            Mistake("train_notebook_epochs", function, cell(prepare="\n    num_epochs = 10"),
                    "ignores num_epochs"),
            Mistake("train_batch_size_256", function, cell(prepare="\n    batch_size = 256"),
                    "ignores batch_size")]


def load(assignment):
    """(MISTAKES, ALTERNATIVES) for an Assignment."""
    module = importlib.import_module(f"d2lcourse.mistakes.{assignment.module}")
    return module.MISTAKES, module.ALTERNATIVES
