"""The interface in CENcomm's six languages: chosen by the browser or by the user, right to left in
Arabic, the scripts' words and the form's choices translated, the reports left in English."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def config(response, element_id: str) -> dict:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, element_id
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    ("accept", "lang", "says", "direction"),
    [
        ("fr-FR,fr;q=0.9", "fr", "Connexion", "ltr"),
        ("es", "es", "Iniciar sesión", "ltr"),
        ("pt-PT", "pt", "Iniciar sessão", "ltr"),
        ("ru", "ru", "Вход", "ltr"),
        ("ar", "ar", "تسجيل الدخول", "rtl"),
        ("sq", "en", "Sign in", "ltr"),  # Albanian is not offered: English
    ],
)
def test_the_sign_in_page_speaks_the_browsers_language(accept, lang, says, direction):
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=accept)
    text = page.content.decode()
    assert f'<html lang="{lang}" dir="{direction}">' in text
    assert f"<h1>{says}</h1>" in text


def test_a_chosen_language_outlasts_the_browsers_and_needs_no_sign_in():
    client = Client(enforce_csrf_checks=True)
    login = client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    chosen = client.post(
        "/i18n/setlang/", {"language": "es", "next": "/accounts/login/", "csrfmiddlewaretoken": token}
    )
    assert chosen.status_code == 302 and chosen["Location"] == "/accounts/login/"
    assert "Iniciar sesión" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert login.status_code == 200
    assert Client(enforce_csrf_checks=True).post("/i18n/setlang/", {"language": "es"}).status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_choosing_a_language_never_redirects_off_the_hub(target):
    response = Client().post("/i18n/setlang/", {"language": "fr", "next": target})
    assert response.status_code == 302 and response["Location"] == "/"
    assert (
        Client().post("/i18n/setlang/", {"language": "xx", "next": "/"}).cookies.get("django_language")
        is None
    )


def test_the_post_form_its_choices_and_its_scripts_words_are_translated(world):
    officer = verified_client(world.officer_al)
    page = officer.get("/operations/TEST-OP/results/new/", HTTP_ACCEPT_LANGUAGE="ru")
    text = page.content.decode()
    assert "Отправить результат" in text and "Пункт пропуска" in text
    form = config(page, "results-config")
    assert {"value": "seized", "label": "Изъято"} in form["outcomes"]
    assert {"value": "CN", "label": "Китай (CN)"} in form["origins"]
    words = config(page, "ui-strings")
    assert words["Result posted"] == "Результат отправлен"
    assert words["Reply to #{seq}"] == "Ответ на № {seq}"


def unquote(text: str) -> str:
    """The concatenated PO strings of ``text``, their escapes resolved (UTF-8 kept)."""
    joined = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', text))
    return joined.encode().decode("unicode_escape").encode("latin-1").decode()


def po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr of a catalogue (the header left out)."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        assert "fuzzy" not in block, block  # msgfmt would leave a fuzzy entry out
        block = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        parts = re.split(r"^msgstr ", block, flags=re.M)
        if len(parts) != 2 or "msgid " not in parts[0]:
            continue
        msgid = unquote(parts[0].split("msgid ", 1)[1])
        if msgid:
            entries[msgid] = unquote(parts[1])
    return entries


@pytest.mark.parametrize("language", ["fr", "es", "pt", "ru", "ar"])
def test_every_catalogue_is_complete_and_compiled(language):
    import gettext

    folder = ROOT / "locale" / language / "LC_MESSAGES"
    entries = po_entries(folder / "django.po")
    assert len(entries) > 120
    compiled = gettext.GNUTranslations((folder / "django.mo").open("rb"))
    placeholders = re.compile(r"\{\w+\}|%\(\w+\)[sr]")
    for english, translated in entries.items():
        assert translated, f"{language}: {english!r} is not translated"
        assert sorted(placeholders.findall(translated)) == sorted(placeholders.findall(english)), english
        assert compiled.gettext(english) == translated, f"{language}: django.mo is older than django.po"
        # Templates insert translations as they are (they are trusted text): no markup may come in.
        assert not [c for c in '"<>&' if c in translated and c not in english], (language, translated)


def test_reports_stay_in_english_whatever_the_readers_language(world):
    from operations.countries import country_name
    from tests.reports.conftest import generate, post

    post(world, world.officer_al, world.durres, "cn-1", lines=[("medicines", 10, "pills")], origin="CN")
    with translation.override("fr"):
        assert country_name("CN") == "Chine"
        data = json.loads(generate(world, world.coordinator, "public", "json"))
        html = generate(world, world.coordinator, "restricted", "html").decode()
    labels = [row["label"] for row in data["breakdowns"]["origins"]]
    assert "China" in labels and "Chine" not in labels
    assert "China" in html and "Chine" not in html
    assert re.search(r"read and checked in \d+\.\d+ s", html)  # not "0,03": no French number format either
    assert [code for code, _name in settings.LANGUAGES] == ["en", "fr", "es", "pt", "ru", "ar"]


def test_an_officer_reads_the_post_forms_errors_in_their_language(world):
    from tests.security.conftest import api_json, result_body

    body = result_body(
        world, origin="XX", lines=[{"category": "medicines", "quantity": 5, "gtin": "4006381333932"}]
    )
    officer = verified_client(world.officer_al)
    french = api_json(officer, "POST", "/api/v1/operations/TEST-OP/results", body, HTTP_ACCEPT_LANGUAGE="fr")
    errors = french.json()["errors"]
    assert errors["lines.0.gtin"] == ["La clé de contrôle du GTIN ne correspond pas."]
    assert errors["origin"] == ["'XX' n'est pas un code pays ISO 3166-1 alpha-2."]
    english = api_json(officer, "POST", "/api/v1/operations/TEST-OP/results", body)
    assert english.json()["errors"]["lines.0.gtin"] == ["The GTIN check digit does not match."]


def test_country_names_are_the_short_ones_in_every_language():
    from operations.countries import country_name

    assert country_name("TW", "fr") == "Taïwan"  # not the official "Taïwan, province de Chine"
    assert country_name("KR", "ru") == "Южная Корея"
    assert country_name("XK", "fr") == country_name("XK", "en")  # no translation: the English short name
