"""The gettext catalogues match what the pages ask for, in every language.

`make test` fails here when a template or webapp/ module gains, changes or
drops a message without `make translations` (and a translator) following:
every msgid the code asks for is in every catalogue, translated, not fuzzy,
with the same placeholders; no catalogue keeps a message nobody asks for.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from webapp.compiled import catalogues
from webapp.compiled.catalogues import CATALOGUES, compile_catalogues
from webapp.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
# The Makefile's `translations` target extracts with the same extra keyword.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extracted() -> set:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.fixture(scope="module")
def asked_for() -> set:
    messages = _extracted()
    assert len(messages) > 150, "extraction found too little: is babel.cfg still right?"
    return messages


def _catalogue(lang: str):
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


def test_every_language_offered_has_a_catalogue_and_no_other():
    on_disk = {path.parent.parent.name for path in CATALOGUES.glob("*/LC_MESSAGES/messages.po")}
    assert on_disk == set(LANGUAGES)


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_catalogue_has_every_message_and_none_stale(lang, asked_for):
    catalogue = _catalogue(lang)
    held = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalogue if m.id}
    keys = {m if isinstance(m, str) else m[0] for m in asked_for}
    held_keys = {m if isinstance(m, str) else m[0] for m in held}
    assert sorted(keys - held_keys) == [], f"missing from {lang}: run `make translations`"
    assert sorted(held_keys - keys) == [], f"obsolete in {lang}: run `make translations`"
    # A changed plural form is a changed message too.
    assert held == asked_for


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_message_is_translated_with_its_placeholders(lang):
    catalogue = _catalogue(lang)
    for message in catalogue:
        if not message.id:
            continue
        assert not message.fuzzy, f"{lang}: fuzzy {message.id!r}"
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        assert len(forms) == (1 if isinstance(message.id, str) else catalogue.num_plurals)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for form in forms:
            assert form.strip(), f"{lang}: untranslated {message.id!r}"
            # A placeholder the code does not pass would be a KeyError (a 500) at
            # render time; a dropped one loses what the page meant to say. Only a
            # plural form may leave out the count ("its only vote").
            used = set(PLACEHOLDER.findall(form))
            assert used <= wanted, f"{lang}: unknown placeholder in {form!r}"
            may_drop = {"num"} if len(ids) > 1 else set()
            assert wanted - used <= may_drop, f"{lang}: {form!r} drops {wanted - used}"


# German addresses the reader as "du": no formal "Sie" and its forms anywhere, not even
# where they could mean "they" or "its" (a sentence that starts so reads as formal).
FORMAL_GERMAN = re.compile(r"\b(Sie|Ihnen|Ihr|Ihre|Ihrem|Ihren|Ihrer|Ihres)\b")


def test_german_says_du_throughout():
    formal = [
        form
        for message in _catalogue("de")
        if message.id
        for form in ([message.string] if isinstance(message.string, str) else message.string)
        if FORMAL_GERMAN.search(form)
    ]
    assert formal == []


def test_catalogues_compile_to_what_the_app_loads(tmp_path):
    compile_catalogues(tmp_path)
    for lang in LANGUAGES:
        with (tmp_path / lang / "LC_MESSAGES" / "messages.mo").open("rb") as mo:
            compiled = read_mo(mo)
        assert compiled.get("Live results") is not None
    with (tmp_path / "de" / "LC_MESSAGES" / "messages.mo").open("rb") as mo:
        assert read_mo(mo).get("Live results").string == "Live-Ergebnisse"


def test_catalogues_are_compiled_once_per_content_and_only_a_private_folder_is_trusted(
    tmp_path, monkeypatch
):
    """Every process starting reads the same compiled folder (one compile, not one per
    process, and no folder left behind by each); a folder others may write is not used."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    compiles = []

    def counted(target):
        compiles.append(target)
        compile_catalogues(target)

    monkeypatch.setattr(catalogues, "compile_catalogues", counted)
    compile_once = catalogues.compiled_once.__wrapped__  # the per-process cache aside
    first, second = compile_once(), compile_once()
    assert first == second and len(compiles) == 1
    assert (first / "de" / "LC_MESSAGES" / "messages.mo").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [first.name]

    first.chmod(0o777)  # anyone could have put their own catalogues there
    third = compile_once()
    assert third != first and len(compiles) == 2
    assert (third / "de" / "LC_MESSAGES" / "messages.mo").is_file()
