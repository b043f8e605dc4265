"""The words a requester's name is found by: each start of each word, case and accents
ignored (ociflex.booking.words)."""

import pytest

from ociflex.booking.words import MAX_LENGTH, fold, name_words, query_words, word_rows


def test_a_name_is_found_by_each_start_of_each_of_its_words() -> None:
    assert name_words("Jan Jansen") == {"ja", "jan", "jans", "janse", "jansen"}


@pytest.mark.parametrize(
    ("name", "found_by", "not_by"),
    [
        ("Zoë O'Brien", {"zoe", "zo", "o'brien", "o'b", "brien", "br"}, {"zoë", "o", "rien"}),
        ("Jan-Willem de Vries", {"jan-w", "jan", "willem", "wi", "de", "vries"}, {"j", "ries"}),
        ("Karl Straße", {"strasse", "strass"}, {"straße"}),
        ("ÅSA ÖBERG", {"asa", "oberg", "ob"}, {"åsa", "ö"}),
        ("Li Wu", {"li", "wu"}, {"l", "w", "li wu"}),
        ("J. Jansen", {"j.", "jansen"}, {"j"}),
    ],
)
def test_words_are_folded_and_split_at_spaces_and_punctuation(
    name: str, found_by: set[str], not_by: set[str]
) -> None:
    words = name_words(name)
    assert found_by <= words
    assert not (not_by & words)


def test_a_very_long_word_is_kept_by_its_first_characters_only() -> None:
    word = "w" * 255
    assert max(len(key) for key in name_words(word)) == MAX_LENGTH
    assert query_words(word) == ["w" * MAX_LENGTH]


def test_a_name_of_single_letters_has_no_words() -> None:
    assert name_words("J") == set()
    assert word_rows(7, "J") == []


def test_a_search_asks_for_each_of_its_words_longest_first_folded_as_names_are() -> None:
    assert query_words("  JAN   Jansen ") == ["jansen", "jan"]
    assert query_words("Zoë") == ["zoe"]
    assert query_words("de de") == ["de"]


@pytest.mark.parametrize("q", ["", "   ", "j", "jan j"])
def test_a_search_with_a_single_letter_asks_for_no_words(q: str) -> None:
    assert query_words(q) is None


def test_folding_ignores_case_accents_and_spacing() -> None:
    assert fold("  Dé\u0301  VRIES ") == "de vries"
    assert fold("Zoe\u0308") == fold("Zoë") == "zoe"


def test_the_rows_of_a_request_hold_each_word_once() -> None:
    rows = word_rows(42, "Jan Jan Jansen")
    assert [row["word"] for row in rows] == sorted({"ja", "jan", "jans", "janse", "jansen"})
    assert {row["request_id"] for row in rows} == {42}
