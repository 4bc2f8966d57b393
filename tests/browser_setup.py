"""Make sure Debian's Chromium is installed for the browser tests (`make test` runs this).

Playwright cannot download its own browser here, so the tests launch the
system's /usr/bin/chromium. Installing it needs root and apt; where that is not
possible we say so and exit non-zero rather than let browser tests skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def main() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            f"{CHROMIUM} is missing: install Debian's 'chromium' package (as root: "
            "apt-get install chromium) or set CHROMIUM_PATH",
            file=sys.stderr,
        )
        return 1
    print("installing Debian's chromium for the browser tests...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "fonts-dejavu-core",
        ],
        check=True,
        env=env,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
