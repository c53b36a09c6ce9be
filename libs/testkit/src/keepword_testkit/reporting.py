"""What a long test reports besides pass or fail (its figures, its recoveries).

    record_property(REPORT, text)

The root conftest prints each recorded report at the end of the run: a test run by a
pytest-xdist worker (as `make test` runs the fault run) has no output of its own to print to.
"""

REPORT = "report"
