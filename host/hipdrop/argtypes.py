"""Argument types the commands share: argparse then names the option and the problem."""

import argparse
import math


def above_zero(unit):
    """An argparse type: a number of ``unit`` (seconds, minutes) above 0."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r}: give a number of {unit} above 0")
        return value

    return parse
