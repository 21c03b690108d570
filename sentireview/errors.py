"""Errors meant for the user: the CLI prints them as one line and exits non-zero."""


class SentiReviewError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class DataError(SentiReviewError):
    """Bad or missing data (file, row, column, checksum)."""
