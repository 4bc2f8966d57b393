"""The Dockerfile, checked without Docker (which cannot run here).

Its instructions are parsed and checked for what the image must be (slim
base, dependencies before code, non-root, HEALTHCHECK, no secrets), then
replayed outside Docker: ENV, WORKDIR and COPY into a temporary directory,
every RUN line through `sh -c` (the useradd line excepted), so the install
step really runs in a fresh venv. The image's commands then start from that
venv: release (init-aws), web (CMD), worker (by command override), and the
HEALTHCHECK for each.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests

from local import launcher as embedded
from tests.helpers.api import SAMPLE_TOPIC
from tests.helpers.stacks import make_env
from tests.helpers.waiting import try_get, wait_for

ROOT = embedded.ROOT
SECRET_NAMES = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL", re.I)
# The one liberty taken with the build: pip may reuse downloads between test
# runs and skips byte-compiling (the image compiles; the same files install).
FASTER_PIP = {
    "PIP_CACHE_DIR": str(Path.home() / ".cache" / "voting-game-dockerfile-test"),
    "PIP_NO_COMPILE": "1",
}


def parse_dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


INSTRUCTIONS = parse_dockerfile(ROOT / "Dockerfile")


def _all(keyword: str) -> list[str]:
    return [args for kw, args in INSTRUCTIONS if kw == keyword]


def _index(predicate) -> int:
    return next(i for i, ins in enumerate(INSTRUCTIONS) if predicate(*ins))


def _expand(text: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), text)


def _env_pairs(args: str) -> list[tuple[str, str]]:
    return [tuple(word.split("=", 1)) for word in shlex.split(args)]


# -- what the image must be ------------------------------------------------------------


def test_one_slim_python_stage_at_least_the_supported_version():
    bases = _all("FROM")
    assert len(bases) == 1
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim(-\w+)?", bases[0])
    assert match, bases[0]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    minimum = tuple(int(p) for p in project["requires-python"].lstrip(">=").split("."))
    assert (int(match[1]), int(match[2])) >= minimum


def test_dependencies_are_installed_from_the_lock_before_the_code_is_copied():
    install = _index(lambda kw, args: kw == "RUN" and "pip install" in args)
    assert "-c constraints.txt" in INSTRUCTIONS[install][1]
    copies_before = [args for kw, args in INSTRUCTIONS[:install] if kw == "COPY"]
    assert copies_before == ["pyproject.toml constraints.txt ./"]
    code = _index(lambda kw, args: kw == "COPY" and "webapp" in args.split())
    assert code > install


def test_runs_as_a_non_root_user_with_a_healthcheck_and_exec_form_commands():
    users = _all("USER")
    assert users and users[-1] not in ("root", "0")
    assert _index(lambda kw, _: kw == "USER") < _index(lambda kw, _: kw == "CMD")
    (check,) = _all("HEALTHCHECK")
    assert "CMD" in check.split()
    json.loads(check.split("CMD", 1)[1])  # exec form: no shell in between
    (cmd,) = _all("CMD")
    assert json.loads(cmd)[0] == "gunicorn" and "gunicorn.conf.py" in json.loads(cmd)
    exposed = {port for args in _all("EXPOSE") for port in args.split()}
    assert {"8000", "9191"} <= exposed


def test_no_secret_is_baked_in():
    names = [name for args in _all("ENV") for name, _ in _env_pairs(args)]
    names += [args.split("=", 1)[0] for args in _all("ARG")]
    assert "PORT" in names
    assert [n for n in names if SECRET_NAMES.search(n)] == []


def test_copied_paths_exist_and_the_context_excludes_local_state_and_secrets():
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for required in (".git", ".venv", ".env", "tests"):
        assert required in ignored
    for args in _all("COPY"):
        for source in args.split()[:-1]:
            assert (ROOT / source).exists(), source
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source


# -- replaying the build and the commands ---------------------------------------------


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The Dockerfile replayed into a temporary directory: (app dir, environment)."""
    root = tmp_path_factory.mktemp("image")
    shims = root / "shims"
    shims.mkdir()
    # The base image's `python`: this machine's interpreter, not the project's venv.
    (shims / "python").symlink_to(getattr(sys, "_base_executable", sys.executable))
    outer_path = [p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p]
    env = {
        "PATH": os.pathsep.join([str(shims), *outer_path]),
        "HOME": str(root),
        "LANG": "C.UTF-8",
    }
    # This machine's package index settings (mirrors, certificates, proxies).
    env.update({k: v for k, v in os.environ.items() if k.startswith(("PIP_", "http_", "https_"))})
    # Docker's paths, moved under the temporary directory.
    moved = {"VIRTUAL_ENV": str(root / "venv"), "APP_HOME": str(root / "app")}
    workdir, skipped = root, []
    for keyword, args in INSTRUCTIONS:
        if keyword == "ENV":
            for name, val in _env_pairs(args):
                env[name] = moved.get(name) or _expand(val, env)
        elif keyword == "WORKDIR":
            workdir = Path(_expand(args, env))
            assert str(workdir).startswith(str(root)), f"WORKDIR {args} is not under APP_HOME"
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            # Docker's rules: a directory's contents go into dest; files go into
            # dest when it ends with "/" (or there are several), else become dest.
            *sources, dest = args.split()
            target = workdir / dest
            into = dest.endswith("/") or len(sources) > 1
            for source in sources:
                src = ROOT / source
                if src.is_dir():
                    shutil.copytree(src, target, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
                else:
                    (target if into else target.parent).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target / src.name if into else target)
        elif keyword == "RUN":
            if args.split()[0] in ("useradd", "adduser", "groupadd"):
                skipped.append(args)
                continue
            done = subprocess.run(
                ["/bin/sh", "-c", args], cwd=workdir, env=_faster(env),
                capture_output=True, text=True, timeout=280,
            )  # fmt: skip
            assert done.returncode == 0, f"RUN {args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert [s.split()[0] for s in skipped] == ["useradd"]
    return workdir, env


def _faster(env: dict[str, str]) -> dict[str, str]:
    return {**{k: v for k, v in env.items() if k != "PIP_NO_CACHE_DIR"}, **FASTER_PIP}


def test_install_step_builds_a_runtime_only_venv(image):
    workdir, env = image
    venv_python = Path(env["VIRTUAL_ENV"]) / "bin" / "python"
    probe = (
        "import importlib.util as u, json; "
        "print(json.dumps({m: bool(u.find_spec(m)) for m in "
        "['flask', 'boto3', 'gunicorn', 'prometheus_client', 'pytest', 'moto', 'playwright']}))"
    )
    found = json.loads(
        subprocess.run(
            [venv_python, "-c", probe],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout  # fmt: skip
    )
    assert found == {
        "flask": True, "boto3": True, "gunicorn": True, "prometheus_client": True,
        "pytest": False, "moto": False, "playwright": False,
    }  # fmt: skip
    assert not (workdir / "requirements.txt").exists()


def test_image_commands_start_web_and_worker_and_count_a_vote(image, moto_endpoint, tmp_path):
    workdir, image_env = image
    web_port, metrics_port = embedded.free_port(), embedded.free_port()
    env = {**image_env, **make_env(moto_endpoint), "PORT": str(web_port),
           "METRICS_PORT": str(metrics_port), "WEB_CONCURRENCY": "1"}  # fmt: skip
    (cmd,) = _all("CMD")
    check = json.loads(_all("HEALTHCHECK")[0].split("CMD", 1)[1])
    started = []

    def start(name, command, extra=None):
        log = open(tmp_path / f"{name}.log", "wb")
        process = subprocess.Popen(command, cwd=workdir, env={**env, **(extra or {})},
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        log.close()
        started.append(process)
        return process

    def healthcheck(**extra):
        return subprocess.run(check, cwd=workdir, env={**env, **extra}, capture_output=True,
                              text=True, timeout=60)  # fmt: skip

    release = subprocess.run(["flask", "--app", "webapp", "init-aws"], cwd=workdir, env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert release.returncode == 0, release.stderr
    assert "queue ready" in release.stdout
    try:
        web = start("web", json.loads(cmd))
        base = f"http://127.0.0.1:{web_port}"
        embedded.wait_for_http(f"{base}/healthz", timeout=60, process=web)
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
        start("worker", ["python", "worker.py"])
        wait_for(lambda: _status(f"http://127.0.0.1:{metrics_port}/healthz") == 200)

        topic = requests.post(f"{base}/topics", json=SAMPLE_TOPIC,
                              headers={"X-API-Key": env["API_KEY"]}, timeout=10).json()  # fmt: skip
        choice = topic["choices"][1]["id"]
        vote = requests.post(f"{base}/votes", json={"topic_id": topic["id"], "choice_id": choice},
                             timeout=10)  # fmt: skip
        assert vote.status_code == 202
        wait_for(lambda: _status(f"{base}/votes/{vote.json()['id']}") == 200)

        nothing = str(embedded.free_port())
        web_check = healthcheck(METRICS_PORT=nothing)
        worker_check = healthcheck(PORT=nothing)  # as in the worker's container
        none_check = healthcheck(PORT=nothing, METRICS_PORT=nothing)
        assert (web_check.returncode, worker_check.returncode) == (0, 0), worker_check.stderr
        assert none_check.returncode == 1 and "nothing listens" in none_check.stderr
    finally:
        embedded.stop(started)
    logs = "".join((tmp_path / f"{n}.log").read_text() for n in ("web", "worker"))
    assert "Traceback" not in logs


def _status(url):
    answer = try_get(url)
    return None if answer is None else answer.status_code
