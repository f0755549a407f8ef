"""Typical student mistakes and alternative correct answers, per assignment.

`d2lcourse/mistakes/<notebook stem>.py` defines ``MISTAKES`` and ``ALTERNATIVES``. Each
replaces the reference solution cell of one graded function: where the mistake is a
small change to the reference, by an :class:`Edit` of that cell (``edit((old, new))``,
read from the assignment's source notebook; ``base=`` or ``like=`` edit another cell);
where it is a different program, by a whole cell. The course's tests assert that each
mistake loses points on its own function's tests, with a message naming it, and that each
alternative keeps full marks; `d2lcourse demo` and the grading benchmark build sample
classes from them.
"""
import ast
import functools
import importlib
from dataclasses import dataclass

from d2lcourse import notebooks
from d2lcourse.course import ASSIGNMENTS, is_trainer


class EditError(ValueError):
    """An edit that no longer applies to the cell it edits: that cell changed."""


@functools.cache
def reference_cells(module):
    """{function: its reference solution cell as a student would hand it in (without
    nbgrader's markers)} of the assignment whose notebook stem is `module`."""
    assignment = next((a for a in ASSIGNMENTS.values() if a.module == module), None)
    if assignment is None:
        raise EditError(f"no assignment of the course has the notebook stem {module!r}")
    sources = notebooks.solution_sources(notebooks.read(assignment.source_path()))
    return {name: notebooks.without_solution_markers(source) + "\n"
            for name, source in sources.items()}


@dataclass(frozen=True)
class Edit:
    """The reference cell of a function, or another cell (`base`: a trainer most of
    whose mistakes share another program; `like`: the name of another catalogued case of
    the function, written as a different program), with each `old` text replaced by its
    `new` one, in order; each `old` must occur exactly once in the text it replaces."""
    module: str      # the assignment's notebook stem
    replace: tuple   # ((old, new), ...)
    base: str = ""   # the cell edited, when not the reference
    like: str = ""   # the catalogued case whose cell is edited, when not the reference

    def edited(self, case):
        """(the cell this edit starts from, what to call it in a message)."""
        if self.base:
            return self.base, "its base cell"
        if self.like:
            module = importlib.import_module(f"d2lcourse.mistakes.{self.module}")
            found = [c for c in (*module.MISTAKES, *module.ALTERNATIVES)
                     if c.name == self.like and c.function == case.function]
            if len(found) != 1:
                raise EditError(f"{type(case).__name__} {case.name!r} of {case.function} "
                                f"({self.module}) edits {self.like!r}, which names "
                                f"{len(found)} catalogued cases of {case.function}, not one")
            return found[0].source, f"the cell of {self.like}"
        return reference_cells(self.module)[case.function], "the reference cell"

    def applied(self, case):
        source, edited = self.edited(case)
        for old, new in self.replace:
            count = source.count(old)
            if count != 1:
                raise EditError(
                    f"{type(case).__name__} {case.name!r} of {case.function} ({self.module}): "
                    f"{old!r} occurs {count} times in {edited}, expected once: write the "
                    f"edit against that cell as it is now:\n{source}")
            source = source.replace(old, new)
        return source


def editor(module_name):
    """`edit((old, new), ..., base="", like="")`: an Edit of the reference cells (or of
    `base`, or of the case named `like`) of the catalogue module `module_name` (its
    `__name__`, whose last part is the notebook stem)."""
    module = module_name.rpartition(".")[2]

    def edit(*replace, base="", like=""):
        return Edit(module, tuple(replace), base, like)
    return edit


def slipper(edit):
    """`slip(name, function, old, new, message, *also_fails)`: the Mistake of `function`
    whose cell is its reference with `old` written `new` (`edit` is the module's `editor`)."""
    def slip(name, function, old, new, message, *also_fails):
        return Mistake(name, function, edit((old, new)), message, also_fails=also_fails)
    return slip


class Case:
    """What a Mistake and an Alternative share: the solution cell they stand for."""

    @functools.cached_property
    def source(self):
        """The whole solution cell: `cell` itself, or the Edit of the reference applied."""
        return self.cell.applied(self) if isinstance(self.cell, Edit) else self.cell


@dataclass(frozen=True)
class Mistake(Case):
    name: str            # short id, e.g. "naive_softmax_overflow"
    function: str        # grade_id of the solution cell it replaces
    cell: object         # the whole (mistaken) solution cell, or an Edit of the reference
    message: str         # text the failing test's message must contain (case-insensitive)
    also_fails: tuple = ()  # other graded functions whose tests may fail: they call this one


@dataclass(frozen=True)
class Alternative(Case):
    name: str
    function: str
    cell: object


def ignored_hyperparameters(function, fixed_lr, pasted):
    """The mistakes of trainer `function` that ignore lr, num_epochs or batch_size: the
    cell `fixed_lr` updates with a rate of its own; `pasted(line)` is the cell with `line`
    (the notebook's value of num_epochs or batch_size) before training."""
    return [Mistake("train_fixed_learning_rate", function, fixed_lr, "ignores lr"),
            Mistake("train_notebook_epochs", function, pasted("num_epochs = 10"),
                    "ignores num_epochs"),
            Mistake("train_batch_size_256", function, pasted("batch_size = 256"),
                    "ignores batch_size")]


@functools.cache
def callers(assignment):
    """{graded function: the graded functions whose reference cell or test cells name it,
    directly or through another graded function}: the tests that can see its cell."""
    source = notebooks.read(assignment.source_path())
    code = {name: [cell] for name, cell in reference_cells(assignment.module).items()}
    for test in notebooks.graded_tests(source):
        owner = assignment.owner_of(test.grade_id)
        if owner is not None:  # a test cell of no graded function grades no case
            code.setdefault(owner, []).append(test.source)
    names = {caller: {node.id for cell in cells for node in ast.walk(ast.parse(cell))
                      if isinstance(node, ast.Name)} for caller, cells in code.items()}
    found = {function: set() for function in assignment.functions}
    for function in assignment.functions:
        reached = [function]
        while reached:
            callee = reached.pop()
            for caller, named in names.items():
                if callee in named and caller not in found[function] | {function}:
                    found[function].add(caller)
                    reached.append(caller)
    return found


def tested_functions(assignment, case):
    """The graded functions whose tests a case is graded on: its own, and those whose
    tests can see its cell (`callers`), trainers left out (their tests train for
    minutes). The other functions' tests run the reference's code on the same inputs:
    their results are the reference's."""
    can_see = callers(assignment)[case.function]
    return tuple(f for f in assignment.functions
                 if f == case.function or (f in can_see and not is_trainer(f)))


def load(assignment):
    """(MISTAKES, ALTERNATIVES) for an Assignment."""
    module = importlib.import_module(f"d2lcourse.mistakes.{assignment.module}")
    return module.MISTAKES, module.ALTERNATIVES
