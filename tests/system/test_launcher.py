"""`make run` (python -m local.launcher) as a real process: its secrets and its failures.

Issue 15 #2: restarted without SECRET_KEY (and API_KEY), it used to sign with a
fresh random key, so voter cookies and admin sessions died with every restart.
Issue 15 #11: a DATA_DIR it cannot write gave a raw traceback.
"""

from __future__ import annotations

import json
import stat
import subprocess

import pytest
import requests

from local import kept_secrets
from tests.helpers import wait_until


def test_a_restart_without_secrets_keeps_voter_cookies_and_admin_sessions(start, tmp_path):
    data = tmp_path / "data"
    first = start(data, API_KEY="", SECRET_KEY="").ready()
    kept = data / kept_secrets.FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    key = json.loads(kept.read_text())["API_KEY"]
    wait_until(lambda: f"API_KEY (generated, kept in {kept}): {key}" in first.output())
    admin = {"X-API-Key": key}
    body = {"title": "Once", "vote_limit": "one_per_voter",
            "choices": [{"description": "a"}, {"description": "b"}]}  # fmt: skip
    topic = requests.post(f"{first.base}/topics", json=body, headers=admin, timeout=10).json()

    browser = requests.Session()
    assert browser.get(f"{first.base}/t/{topic['id']}", timeout=10).status_code == 200
    assert "voter" in browser.cookies
    page = browser.get(f"{first.base}/admin/login", timeout=10).text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    signed = browser.post(f"{first.base}/admin/login", data={"csrf_token": token, "password": key},
                          timeout=10, allow_redirects=False)  # fmt: skip
    assert signed.status_code in (302, 303)
    voter_cookie = browser.cookies["voter"]
    assert first.ctrl_c() == 0, first.output()

    again = start(data, API_KEY="", SECRET_KEY="").ready()
    assert json.loads(kept.read_text())["API_KEY"] == key  # not made anew
    # The voter cookie still verifies: the page does not hand out a new voter id...
    page = browser.get(f"{again.base}/t/{topic['id']}", timeout=10)
    assert page.status_code == 200 and "voter" not in page.headers.get("Set-Cookie", "")
    assert browser.cookies["voter"] == voter_cookie
    # ...and the admin is still signed in (not sent to the sign-in page).
    console = browser.get(f"{again.base}/admin", timeout=10, allow_redirects=False)
    assert console.status_code == 200, console.headers.get("Location")
    assert again.ctrl_c() == 0


@pytest.fixture
def read_only_dir(tmp_path):
    """A read-only filesystem (a tmpfs mounted ro): root ignores permission bits."""
    where = tmp_path / "read-only"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(where)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        where.chmod(0o555)  # not root: permission bits do the same
    yield where
    if mounted.returncode == 0:
        subprocess.run(["umount", str(where)], check=True)


@pytest.mark.parametrize("place", ["read-only filesystem", "a file in the way"])
def test_a_data_dir_it_cannot_use_is_a_clear_message(start, tmp_path, read_only_dir, place):
    if place == "a file in the way":
        (tmp_path / "file").write_text("not a directory")
        data = tmp_path / "file" / "data"
    else:
        data = read_only_dir / "data"
    run = start(data)
    assert run.process.wait(timeout=60) == 1
    output = run.output()
    assert "make run failed:" in output and str(data) in output, output
    assert "Traceback" not in output, output
