"""The index's words: normalised alike in the six languages, identifiers found whole and in pieces."""

from __future__ import annotations

import pytest

from cencomm.search import normalise, query_parse, token_hash, token_spans, tokenise


@pytest.mark.parametrize(
    ("written", "searched"),
    [
        ("Durrës", "DURRES"),  # Albanian ë
        ("opération DOUANIÈRE", "operation douaniere"),  # French accents, case
        ("Aduana ESPAÑOLA", "espanola"),  # Spanish ñ
        ("inspeção alfândega", "INSPECAO ALFANDEGA"),  # Portuguese ç, ã
        ("Straße", "STRASSE"),  # case folding, not lowering
        ("ТАМОЖНЯ Ёлка", "таможня елка"),  # Cyrillic case, ё
        ("Йошкар-Ола", "иошкар ола"),  # й
        ("الجَمارِك", "الجمارك"),  # Arabic harakat
        ("الـــجمارك", "الجمارك"),  # tatweel
        ("إسلام أحمد آمن", "اسلام احمد امن"),  # alef with hamza below, above, madda
        ("مدرسة مستشفى", "مدرسه مستشفي"),  # teh marbuta, alef maksura
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "4006381333931"),  # Arabic-Indic digits
    ],
)
def test_words_are_found_whatever_their_accents_case_and_letter_forms(written, searched):
    tokens = tokenise(written)
    for term in query_parse(searched).terms:
        assert any(set(alternative) <= tokens for alternative in term.alternatives), (written, term)


def test_normalise_folds_marks_case_and_digits():
    assert normalise("ÉTÉ à Durrës") == "ete a durres"
    assert normalise("ПРИВЕТ") == "привет"
    assert normalise("أَحْمَد") == "احمد"
    assert normalise("١٢٣") == "123"


@pytest.mark.parametrize(
    "written",
    [
        "MSKU1234565",
        "MSKU 1234565",
        "MSKU 123456-5",
        "msku-123456-5",
        "MSKU.123456.5",
        "container MSKU1234565.",
    ],
)
@pytest.mark.parametrize("searched", ["MSKU1234565", "msku 1234565", "MSKU-123456-5", "1234565"])
def test_a_container_number_is_found_however_it_is_written_and_typed(written, searched):
    tokens = tokenise(written)
    query = query_parse(searched)
    assert query.terms
    for term in query.terms:
        assert any(set(alternative) <= tokens for alternative in term.alternatives), (written, searched)


def test_plates_and_gtins_are_kept_whole_and_in_pieces():
    assert {"ab123cd", "ab", "123", "cd"} <= tokenise("plate AB-123-CD")
    assert "4006381333931" in tokenise("GTIN 4 006381 333931")
    assert query_parse("4 006381 333931").terms[0].text == "4006381333931"


def test_spaces_separate_words_in_a_query_but_an_identifier_typed_in_pieces_ranks_whole():
    query = query_parse("Bari 3 containers")
    assert [t.text for t in query.terms] == ["bari", "3", "containers"]
    query = query_parse("MSKU 1234565")
    assert [t.text for t in query.terms] == ["msku", "1234565"]
    assert query.exact == ("msku1234565",)


def test_single_letters_are_not_words_but_single_digits_are():
    assert tokenise("l'opération à 3 h") == {"operation", "3"}


def test_the_same_word_hashes_alike_under_one_key_and_differently_under_another():
    one, two = b"1" * 32, b"2" * 32
    assert token_hash(one, "durres") == token_hash(one, "durres")
    assert token_hash(one, "durres") != token_hash(two, "durres")
    assert token_hash(one, "durres") != token_hash(one, "bari")
    assert -(2**63) <= token_hash(one, "durres") < 2**63


def test_spans_mark_every_piece_of_an_identifier_found_whole():
    text = "Container MSKU 123456-5 at Durrës"
    spans = token_spans(text, {"msku1234565", "durres"})
    assert [text[s:e] for s, e in spans] == ["MSKU 123456-5", "Durrës"]
