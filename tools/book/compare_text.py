"""Compare a program's output with the book's copy of it, number by number.

The words of a line must match exactly. A number printed with decimals may differ from the
expected one by at most TOLERANCE_UNITS units of its last printed digit (`0.0430` matches `0.0431`
and `0.0429`, not `0.0433`; `6.00e-05` matches `6.01e-05`), because another CPU, another OpenBLAS
kernel or another thread count sums in another order and the last bit of a float32 differs, which
can move a printed rounding by one. A whole number (a count, a step, a shape, an index) must match
exactly: a changed count is a changed result; only a whole percentage (`85%`, a rounded share)
may differ by 1. Runs of spaces count as one, so a padded column (`%9.4f`) may shift when a number
gains a digit or a sign (`  -0.0000` against `   0.0000`).

That tolerance is for rounding, not for chaos: a demo must print only what is stable (a short,
well-conditioned training run, a gradient check's pass or fail) so that one bit of difference
cannot grow into a different number.
"""
import re

TOLERANCE_UNITS = 2
# A number that stands alone: not part of a name such as `h.0.ln_1`, `L2`, `demo_06` or `6.2x`.
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]\d|\w)")


def _split(line):
    """(the line's words, with every number replaced by # and runs of spaces by one, the numbers as
    strings; a whole number followed by % keeps its % so that it is known to be rounded)."""
    numbers = [m.group(0) + ("%" if line[m.end():m.end() + 1] == "%" else "") for m in NUMBER.finditer(line)]
    return " ".join(NUMBER.sub("#", line).split()), numbers


def _unit(number):
    """The value of one unit of the number's last printed digit, or None for a whole number."""
    if number.endswith("%"):  # a percentage rounded to a whole number: 1 is its rounding
        return 0.5 if "." not in number else _unit(number[:-1])
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa:
        return None if not exponent else 10.0 ** int(exponent)
    decimals = len(mantissa.split(".")[1])
    return 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def numbers_match(expected, actual):
    """True when `actual` prints the same number as `expected` within its rounding."""
    if expected == actual:
        return True
    unit = _unit(expected)
    if unit is None:
        return False
    # a tiny extra margin, so that 2 units computed in binary floating point still count as 2
    return abs(float(expected.rstrip("%")) - float(actual.rstrip("%"))) <= TOLERANCE_UNITS * unit * (1 + 1e-9)


def line_difference(expected, actual):
    """None when the two lines match; otherwise a short reason."""
    expected, actual = expected.rstrip(), actual.rstrip()
    if expected == actual:
        return None
    expected_words, expected_numbers = _split(expected)
    actual_words, actual_numbers = _split(actual)
    if expected_words != actual_words or len(expected_numbers) != len(actual_numbers):
        return "the words differ"
    for e, a in zip(expected_numbers, actual_numbers):
        if not numbers_match(e, a):
            unit = _unit(e)
            if unit is None:
                return f"{a} where {e} was expected (whole numbers must match exactly)"
            off = abs(float(e.rstrip("%")) - float(a.rstrip("%"))) / unit
            return (f"{a} where {e} was expected (off by {off:.0f} units "
                    f"of the last digit; up to {TOLERANCE_UNITS} are rounding)")
    return None


def lines_match(expected, actual):
    return line_difference(expected, actual) is None
