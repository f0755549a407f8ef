"""Which modules a submission's sandbox may see and preload, found by following imports.

Used on the host by both sides: the sandbox (`sandbox.course_files`) and the grader
(`evaluate`), so that neither imports the other for it.
"""
import ast

from d2lcourse.authoring import REFERENCE_PACKAGE, module_source
from d2lcourse.course import ASSIGNMENTS


def referenced_modules(setup):
    """Reference modules the (trusted) setup code imports, and the ones they import:
    the sandbox may see these."""
    pending, seen = list(imported_references(setup)), set()
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending += imported_references([module_source(module)])
    return sorted(seen)


def imported_modules(sources):
    """Names of the modules that these sources import (sorted; `from a import b` gives
    both `a` and `a.b`, which may be a module)."""
    modules = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module)
                modules.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
            elif isinstance(node, ast.Import):
                modules.update(a.name for a in node.names)
    return sorted(modules)


def imported_references(sources):
    """Names of the reference modules that these sources import directly."""
    prefix = REFERENCE_PACKAGE + "."
    return {name[len(prefix):].split(".")[0] for name in imported_modules(sources)
            if name.startswith(prefix)}


def unpublished_references(setup, published):
    """The assignments whose reference modules the setup code needs and that are not
    published (`published`: assignment ids): the grader must not show them."""
    needed = set(referenced_modules(setup))
    return [a.id for a in ASSIGNMENTS.values() if a.module in needed and a.id not in published]


def unpublished_problem(assignment, setup, published):
    """Why `assignment` cannot be graded with only `published` shown to its setup code,
    or "" when it can."""
    missing = unpublished_references(setup, published)
    if not missing:
        return ""
    return (f"{assignment.id}'s setup cells import the reference solutions of "
            f"{', '.join(missing)}, which are not published: add them to the course's "
            f"published.txt once their deadline has passed, then grade again")


def sandbox_view(assignment, setup):
    """(reference modules the sandbox may see, modules its zygote imports in advance)."""
    allowed = [m for m in referenced_modules(setup) if m != assignment.module]
    return allowed, imported_modules(setup)
