"""The templates' compiled code is shared between apps and processes of this user,
never served stale, and kept only in a folder no one else may write to."""

from __future__ import annotations

import tempfile

from flask import Flask
from jinja2 import Environment

from webapp.compiled import folders as shared_folders
from webapp.compiled import templates as templates_cache


def app_with_templates(folder) -> Flask:
    app = Flask(__name__, template_folder=str(folder))
    templates_cache.init_app(app)
    return app


def test_a_template_is_compiled_once_and_again_only_when_its_source_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(
        templates_cache, "_bytecode_cache", templates_cache._bytecode_cache.__wrapped__
    )
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "hello.html").write_text("Hello {{ name }}")
    compiled = []
    stock_compile = Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return stock_compile(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(Environment, "compile", counted)
    renders = []
    for _ in range(3):  # three apps, as three web workers or three tests build them
        app = app_with_templates(pages)
        renders.append(app.jinja_env.get_template("hello.html").render(name="room"))
    assert renders == ["Hello room"] * 3 and compiled == ["hello.html"]

    (pages / "hello.html").write_text("Welcome {{ name }}")
    app = app_with_templates(pages)
    assert app.jinja_env.get_template("hello.html").render(name="room") == "Welcome room"
    assert compiled == ["hello.html", "hello.html"]
    assert list(shared_folders.named("voting-game-templates").iterdir())


def test_only_a_folder_of_this_user_s_alone_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first = shared_folders.private("shared-thing")
    assert first == shared_folders.named("shared-thing") and shared_folders.ours(first)
    assert first.stat().st_mode & 0o777 == 0o700
    assert shared_folders.private("shared-thing") == first

    first.chmod(0o777)  # anyone could have put their own compiled code there
    other = shared_folders.private("shared-thing")
    assert other != first and shared_folders.ours(other)
    assert other.parent == tmp_path and other.name.startswith("shared-thing-")
