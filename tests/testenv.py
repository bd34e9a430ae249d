"""Loaded with ``-p tests.testenv`` before Django is set up: the test client's host and origin."""

import os

os.environ["CENCOMM_TESTING"] = "true"
os.environ.setdefault("CENCOMM_ENV", "development")
