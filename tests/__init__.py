"""The test suite: a package, so test modules import by package name and share tests.helpers."""
