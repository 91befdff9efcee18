"""Counted words: one of a thing is singular, any other number plural, with separators."""

from auditlens.core.words import counted


def test_one_is_singular_and_every_other_count_plural():
    assert counted(1, "event") == "1 event"
    assert counted(0, "event") == "0 events"
    assert counted(2, "session") == "2 sessions"
    assert counted(10_000_000, "event") == "10,000,000 events"


def test_an_irregular_plural_is_given():
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(3, "entry", "entries") == "3 entries"


def test_a_phrase_with_its_verb_agrees_with_the_count():
    assert counted(1, "event matches", "events match") == "1 event matches"
    assert counted(7, "event matches", "events match") == "7 events match"
