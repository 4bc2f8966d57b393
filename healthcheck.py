"""The container's HEALTHCHECK: exit 0 when this container's process says it is healthy.

One image runs either the web app or, by command override, the worker, and
the check cannot see which: it asks the web's /healthz on PORT and, if
nothing listens there, the worker's /healthz on METRICS_PORT (which answers
503 when the worker stopped completing polls).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

from core.settings import Settings


def probe(url: str, timeout: float) -> int | None:
    """The HTTP status of GET url, or None when nothing listens there."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except ConnectionRefusedError:
        return None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return None
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Container health check: GET 127.0.0.1:PORT/healthz (web), or "
        "127.0.0.1:METRICS_PORT/healthz (worker) when nothing listens on PORT. "
        "Exit 0 when healthy, 1 otherwise."
    )
    parser.add_argument("--timeout", type=float, default=4.0, help="seconds per request (4)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    urls = [f"http://127.0.0.1:{settings.port}/healthz"]
    if settings.metrics_port:
        urls.append(f"http://127.0.0.1:{settings.metrics_port}/healthz")
    for url in urls:
        try:
            status = probe(url, args.timeout)
        except (OSError, urllib.error.URLError) as exc:
            print(f"unhealthy: {url}: {exc}", file=sys.stderr)
            return 1
        if status is None:
            continue
        if status == 200:
            return 0
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return 1
    print(f"unhealthy: nothing listens on {', '.join(urls)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
