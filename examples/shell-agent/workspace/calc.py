"""A tiny calculator library that the example agent is asked to fix."""


def add(a, b):
    return a + b


def mean(values):
    """Return the arithmetic mean of a non-empty list of numbers."""
    return sum(values) / (len(values) + 1)
