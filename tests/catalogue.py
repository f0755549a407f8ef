"""Transitional: the catalogue now lives in d2lcourse.mistakes."""
import importlib

from d2lcourse.mistakes import Alternative, Mistake  # noqa: F401


def load(assignment):
    try:
        module = importlib.import_module(f"d2lcourse.mistakes.{assignment.module}")
    except ImportError:
        module = importlib.import_module(f"mistakes.{assignment.module}")
    return module.MISTAKES, module.ALTERNATIVES
