"""The seizure diary as days (`core.seizure_diary`): types read in English and French,
clusters logged with a count, "no seizure" days and "not recorded" periods, repeats, time
zones and the nights the clocks change (Europe/Paris: 31 March and 27 October 2024)."""

from datetime import date
from types import MappingProxyType

import numpy as np
import pytest

from meditwin_desktop.core import twin
from meditwin_desktop.core.case import Event
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.seizure_diary import (
    NOT_RECORDED,
    SEIZURE_FREE,
    daily_counts,
    event_day,
    is_convulsive,
    local_time,
    seizure_kind,
)
from meditwin_desktop.core.twin_case import EventView

NAN = np.nan


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("GTC", "generalised tonic-clonic"),
        ("Crise tonico-clonique généralisée", "generalised tonic-clonic"),
        ("crise convulsive", "generalised tonic-clonic"),
        ("Generalized tonic-clonic seizures", "generalised tonic-clonic"),
        ("FBTCS", "focal to bilateral tonic-clonic"),
        ("focale avec généralisation secondaire", "focal to bilateral tonic-clonic"),
        ("Hémiclonique", "hemiclonic"),
        ("Crises toniques", "tonic"),
        ("tonic-atonic", "atonic"),
        ("crise focale", "focal"),
        ("complex partial", "focal"),
        ("myoclonies", "myoclonic"),
        ("Absences", "absence"),
        ("état de mal", "status epilepticus"),
        ("Etat de mal épileptique", "status epilepticus"),
        ("none", SEIZURE_FREE),
        ("Aucune", SEIZURE_FREE),
        ("0", SEIZURE_FREE),
        ("pas de crise", SEIZURE_FREE),
        ("Non renseigné", NOT_RECORDED),
        ("diary not kept", NOT_RECORDED),
        ("  spasms ", "spasms"),  # unknown: as typed, stripped
        ("seizure", "seizure"),
    ],
)
def test_seizure_kind_reads_what_families_write(text, kind):
    assert seizure_kind(text) == kind


def test_convulsive_kinds_are_those_of_the_trials_endpoint():
    for kind in ("GTC", "tonique", "clonic", "hemiclonic", "atonic", "FBTC", "convulsive status"):
        assert is_convulsive(kind), kind
    for kind in ("focal", "myoclonic", "absence", "no seizure", "spasms", "non-convulsive status",
                 "état de mal non convulsif"):  # fmt: skip
        assert not is_convulsive(kind), kind


def test_the_twin_contract_re_exports_the_diary():
    assert twin.daily_counts is daily_counts and twin.seizure_kind is seizure_kind
    assert (twin.SEIZURE_FREE, twin.NOT_RECORDED) == ("no seizure", "not recorded")
    assert twin.is_convulsive("GTC") and twin.DiaryDays.__name__ == "DiaryDays"


def test_a_cluster_logged_as_one_line_counts_its_seizures():
    events = [
        Event("2024-05-01T06:10:00", "tonic", 40.0, {"count": 5}, "cluster at waking"),
        Event("2024-05-01T20:00:00", "myoclonic", None, {"count": 12}),
        Event("2024-05-03T14:00:00", "GTC", 420.0, {"rescue": "midazolam buccal 10 mg"}),
    ]
    diary = daily_counts(events)
    assert diary.start == date(2024, 5, 1) and diary.days == 3 and diary.reported_days == 3
    np.testing.assert_array_equal(diary.convulsive, [5, 0, 1])
    np.testing.assert_array_equal(diary.all_seizures, [17, 0, 1])
    assert (diary.prolonged, diary.rescue_events, diary.status_events) == (1, 1, ())


def _diary():
    return [
        Event("2024-06-01T08:00:00", "generalised tonic-clonic"),
        Event("2024-06-03", SEIZURE_FREE),
        Event("2024-06-05T19:00:00", "myoclonic", None, {"count": 3}),
        Event("2024-06-06", NOT_RECORDED, None, {"until": "2024-06-08"}),
        Event("2024-06-10T02:00:00", "tonic"),
    ]


def test_days_without_entry_are_seizure_free_or_unknown_and_gaps_are_missing():
    free = daily_counts(_diary(), unrecorded_days="seizure-free")
    np.testing.assert_array_equal(free.convulsive, [1, 0, 0, 0, 0, NAN, NAN, NAN, 0, 1])
    np.testing.assert_array_equal(free.all_seizures, [1, 0, 0, 0, 3, NAN, NAN, NAN, 0, 1])
    assert (free.days, free.reported_days) == (10, 7)
    assert any("3 days not recorded (1 period)" in note for note in free.notes)
    unknown = daily_counts(_diary(), unrecorded_days="unknown")
    np.testing.assert_array_equal(unknown.convulsive, [1, NAN, 0, NAN, 0, NAN, NAN, NAN, NAN, 1])
    assert unknown.reported_days == 4
    assert any("3 days without any entry treated as not reported" in n for n in unknown.notes)


def test_a_not_recorded_period_given_by_its_duration():
    events = [
        Event("2024-06-01T08:00:00", "tonic"),
        Event("2024-06-02T00:00:00", "non renseigné", 3 * 86400.0),  # 2, 3 and 4 June
        Event("2024-06-03T10:00:00", "tonic"),  # logged during the gap: the day stays missing
        Event("2024-06-06T08:00:00", "tonic"),
    ]
    diary = daily_counts(events)
    np.testing.assert_array_equal(diary.convulsive, [1, NAN, NAN, NAN, 0, 1])
    assert any("1 seizure line logged within not-recorded periods" in note for note in diary.notes)


def test_events_outside_the_period_are_noted_not_counted():
    diary = daily_counts(_diary(), start=date(2024, 6, 2), end=date(2024, 6, 9))
    assert diary.days == 8 and diary.start == date(2024, 6, 2)
    assert np.nansum(diary.convulsive) == 0 and np.nansum(diary.all_seizures) == 3
    assert "2 entries outside the period 2024-06-02 to 2024-06-09 not counted." in diary.notes
    longer = daily_counts(_diary(), start=date(2024, 5, 30), end=date(2024, 6, 12))
    assert longer.days == 14 and not any("outside" in note for note in longer.notes)


def test_spring_forward_night_in_paris():
    # 31 March 2024: 02:00 CET -> 03:00 CEST, a 23-hour day that stays one day
    events = [
        Event("2024-03-31T01:59:00+01:00", "GTC"),
        Event("2024-03-31T03:01:00+02:00", "GTC"),  # two minutes later, by the clock
        Event("2024-03-31T02:30:00", "tonic"),  # a wall-clock time that did not exist
        Event("2024-03-30T23:30:00Z", "tonic"),  # 00:30 CET on the 31st, in Paris
        Event("2024-04-01T00:10:00+02:00", "tonic"),
    ]
    paris = daily_counts(events, tz="Europe/Paris")
    assert paris.start == date(2024, 3, 31)
    np.testing.assert_array_equal(paris.convulsive, [4, 1])
    written = daily_counts(events)  # no zone: the date as written
    assert written.start == date(2024, 3, 30)
    np.testing.assert_array_equal(written.convulsive, [1, 3, 1])


def test_fall_back_night_in_paris_has_two_half_past_two():
    # 27 October 2024: 03:00 CEST -> 02:00 CET; 02:30 happens twice, a 25-hour day
    events = [
        Event("2024-10-27T02:30:00+02:00", "tonic"),
        Event("2024-10-27T02:30:00+01:00", "tonic"),
        Event("2024-10-27T02:30:00+01:00", "tonic"),  # the same line twice: a repeat
        Event("2024-10-27T23:30:00Z", "tonic"),  # 00:30 on the 28th in Paris (CET)
    ]
    paris = daily_counts(events, tz="Europe/Paris")
    np.testing.assert_array_equal(paris.convulsive, [2, 1])
    assert paris.duplicates == 1
    assert local_time("2024-10-27T00:30:00Z", "Europe/Paris").isoformat() == "2024-10-27T02:30:00"
    assert local_time("2024-10-27T01:30:00Z", "Europe/Paris").isoformat() == "2024-10-27T02:30:00"


def test_utc_times_move_across_midnight_with_a_time_zone():
    event = Event("2024-06-30T22:30:00Z", "GTC")
    assert event_day(event.time) == date(2024, 6, 30)
    assert event_day(event.time, "Europe/Paris") == date(2024, 7, 1)
    assert event_day("2024-07-01T01:30:00+02:00", "America/New_York") == date(2024, 6, 30)
    assert daily_counts([event], tz="Europe/Paris").start == date(2024, 7, 1)


def test_repeats_same_minute_kind_and_count_are_counted_once():
    events = [
        Event("2024-06-01T08:00:00", "GTC"),
        Event("2024-06-01T08:00:30", "tonico-clonique"),  # same minute, same kind: a repeat
        Event("2024-06-01T06:00:00Z", "GTC"),  # 08:00+02:00 is not 08:00 as written: kept
        Event("2024-06-01T08:00:00+02:00", "GTC"),  # the same instant as 06:00Z: a repeat
        Event("2024-06-01T08:00:00", "GTC", None, {"count": 2}),  # another count: kept
        Event("2024-06-02", "tonic"),
        Event("2024-06-02", "tonic"),  # a day alone: may be two seizures, both kept
    ]
    diary = daily_counts(events)
    assert diary.duplicates == 2
    np.testing.assert_array_equal(diary.convulsive, [4, 2])
    assert any("2 repeated entries" in note for note in diary.notes)


def test_markers_status_prolonged_and_unknown_kinds():
    events = [
        Event("2024-06-01T08:00:00", "état de mal", 1500.0, {"rescue": "midazolam"}),
        Event("2024-06-01T20:00:00", "état de mal non convulsif", None, {}, "EEG-confirmed"),
        Event("2024-06-02", "aucune"),
        Event("2024-06-02T10:00:00", "focal", 400.0),  # also marked 'no seizure': counted
        Event("2024-06-03T10:00:00", "spasms", None, {"count": 4}),
        Event("2024-06-03T11:00:00", "hospital stay", 86400.0),
    ]
    diary = daily_counts(events, unrecorded_days="unknown")
    np.testing.assert_array_equal(diary.convulsive, [1, 0, 0])
    np.testing.assert_array_equal(diary.all_seizures, [2, 1, 4])
    assert diary.status_events == ("2024-06-01T08:00:00", "2024-06-01T20:00:00")
    assert (diary.prolonged, diary.rescue_events) == (3, 1)
    assert any("'spasms' (4 seizures) is not a known seizure type" in n for n in diary.notes)
    assert "1 day marked 'no seizure' but with seizures logged: the seizures are counted." in (
        diary.notes
    )


def test_the_twins_event_views_are_read_alike():
    views = [EventView("2024-06-01T08:00:00", "GTC", None, MappingProxyType({"count": 2}), ""),
             EventView("2024-06-03", "no seizure", None, MappingProxyType({}), "")]  # fmt: skip
    diary = daily_counts(views, unrecorded_days="unknown")
    np.testing.assert_array_equal(diary.convulsive, [2, NAN, 0])


@pytest.mark.parametrize(
    ("events", "kwargs", "message"),
    [
        ([], {}, "The seizure diary is empty"),
        ([Event("2024-06-01", "GTC")], {"unrecorded_days": "zero"}, "choose seizure-free or"),
        ([Event("2024-06-01", "GTC")], {"tz": "Mars/Olympus"}, "not a time zone"),
        ([Event("2024-06-01", "GTC")], {"end": date(2024, 5, 1)}, r"end \(2024-05-01\) is before"),
        ([Event("2024-06-01", "GTC", None, {"count": 0})], {}, "'0' seizures: write a whole"),
        ([Event("2024-06-01", "GTC", None, {"count": "2.5"})], {}, "'2.5' seizures"),
        ([Event("2024-06-01", NOT_RECORDED, None, {"until": "soon"})], {}, "'soon', which is"),
        ([Event("2024-06-05", NOT_RECORDED, None, {"until": "2024-06-01"})], {}, "ends before"),
    ],
)
def test_diaries_that_cannot_be_read_say_why(events, kwargs, message):
    with pytest.raises(InputError, match=message):
        daily_counts(events, **kwargs)


def test_an_unreadable_time_is_left_out_with_a_note():
    diary = daily_counts([Event("2024-06-01T08:00:00", "GTC"), Event("last week", "GTC")])
    assert diary.days == 1 and "1 entry with an unreadable date left out." in diary.notes
