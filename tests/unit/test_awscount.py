"""bench/awscount.py wraps the web process as deployed: gunicorn's gevent workers.

The wrapper imports botocore before gunicorn reads gunicorn.conf.py, whose gevent patch
must come before anything imports ssl: patched late, gevent warns, and every AWS call in
the counted web process failed with RecursionError (a 500 on POST /topics, so `make bench`
measured nothing that counts requests). Checked in a fresh process, where import order shows.
"""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.stacks import ROOT


def test_counting_wraps_gunicorn_with_gevent_patched_before_botocore(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bench.awscount", str(tmp_path), "-m", "gunicorn",
         "--check-config", "--config", "gunicorn.conf.py", "webapp:create_app()"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "MonkeyPatchWarning" not in run.stderr, run.stderr[-3000:]
