"""Field limits, enforced in one place: name, description, markets, note."""

from __future__ import annotations

import pytest

from protocol import (
    DESCRIPTION_MAX,
    MARKET_MAX,
    MARKETS_MAX,
    NAME_MAX,
    NOTE_MAX,
    InvalidInput,
    clean_description,
    clean_markets,
    clean_name,
    clean_note,
    markets_text,
)


def test_the_limits():
    assert (NAME_MAX, DESCRIPTION_MAX, MARKETS_MAX, MARKET_MAX, NOTE_MAX) == (
        255,
        10_000,
        32,
        64,
        1_000,
    )


class TestName:
    def test_trimmed(self):
        assert clean_name("  Acme  ") == "Acme"

    def test_at_the_limit(self):
        assert clean_name("x" * NAME_MAX) == "x" * NAME_MAX
        assert clean_name(" " + "x" * NAME_MAX + " ") == "x" * NAME_MAX  # counted after trimming

    @pytest.mark.parametrize(
        ("bad", "words"),
        [
            ("", "empty"),
            ("   ", "empty"),
            ("x" * (NAME_MAX + 1), "256 characters; the limit is 255"),
            ("a\x00b", "control characters"),
            ("a\nb", "control characters"),
            ("tab\there", "control characters"),
        ],
    )
    def test_refused(self, bad, words):
        with pytest.raises(InvalidInput, match=words) as err:
            clean_name(bad)
        assert err.value.field == "name"

    def test_long_names_are_shortened_in_the_message(self):
        with pytest.raises(InvalidInput) as err:
            clean_name("y" * 300)
        assert len(str(err.value)) < 120

    def test_not_text(self):
        with pytest.raises(InvalidInput, match="must be text"):
            clean_name(42)  # type: ignore[arg-type]


class TestDescription:
    def test_limits(self):
        assert clean_description(None) == ""
        assert clean_description("line\n\tindented") == "line\n\tindented"
        assert clean_description("d" * DESCRIPTION_MAX) == "d" * DESCRIPTION_MAX
        with pytest.raises(InvalidInput, match="10001 characters") as err:
            clean_description("d" * (DESCRIPTION_MAX + 1))
        assert err.value.field == "description"
        with pytest.raises(InvalidInput, match="control"):
            clean_description("bell\x07")


class TestMarkets:
    def test_deduplicated_case_insensitively_first_spelling_and_order_kept(self):
        assert clean_markets([" EU", "us", "eu", "US ", "Apac"]) == ["EU", "us", "Apac"]
        assert clean_markets(None) == []
        assert clean_markets(("a", "b")) == ["a", "b"]

    def test_at_the_limits(self):
        many = [f"m{i}" for i in range(MARKETS_MAX)]
        assert clean_markets(many) == many
        assert clean_markets(many + ["M0"]) == many  # a duplicate does not count
        assert clean_markets(["x" * MARKET_MAX]) == ["x" * MARKET_MAX]

    @pytest.mark.parametrize(
        ("bad", "words"),
        [
            ([f"m{i}" for i in range(MARKETS_MAX + 1)], "more than 32 markets"),
            (["x" * (MARKET_MAX + 1)], "65 characters; the limit is 64"),
            (["ok", " "], "must not be empty"),
            (["a\x00"], "control characters"),
            ("EU", "list"),
            ([3], "text"),
        ],
    )
    def test_refused(self, bad, words):
        with pytest.raises(InvalidInput, match=words) as err:
            clean_markets(bad)
        assert err.value.field == "markets"


class TestNote:
    def test_limits(self):
        assert clean_note(None) is None
        assert clean_note("   ") is None
        assert clean_note(" why \n") == "why"
        assert clean_note("n" * NOTE_MAX) == "n" * NOTE_MAX
        with pytest.raises(InvalidInput, match="1001 characters") as err:
            clean_note("n" * (NOTE_MAX + 1))
        assert err.value.field == "note"
        with pytest.raises(InvalidInput, match="control"):
            clean_note("esc\x1b[0m")


def test_markets_read_as_one_each_even_with_commas():
    assert markets_text(["EU", "US"]) == "EU, US"
    assert markets_text(["Europe, North", "Asia"]) == "Europe, North; Asia"
    assert markets_text([]) == ""


def test_control_characters_are_exactly_unicodes_cc_and_cs_categories():
    """The regex of ranges says what a category lookup per character said, for every
    code point (Cc and Cs are closed categories: no Unicode version adds to them)."""
    import sys
    import unicodedata

    from protocol.limits import _has_control

    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        refused = unicodedata.category(ch) in ("Cc", "Cs")
        assert _has_control(f"a{ch}b") is refused, hex(cp)
        assert _has_control(f"a{ch}b", allow_newlines=True) is (refused and ch not in "\n\t")


def test_markets_that_differ_only_in_case_or_accents_are_one():
    from protocol import clean_markets

    assert clean_markets(["Zürich", "Zurich", "EU", "eu", "ZÜRICH", "Ørsted"]) == [
        "Zürich",
        "EU",
        "Ørsted",
    ]
