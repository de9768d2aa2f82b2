"""Tamper-proof autograding: the student's notebook runs in a sandbox (sandbox.py, runner.py), the
tests run in the grader's own process against values received over a narrow wire (wire.py, grade.py),
and a batch of submissions becomes grades, LMS CSVs and feedback (batch.py)."""
