"""CSV import of measurements and diaries (`core.csv_import`): headers guessed in English and
French, decimal commas, day-first dates, units checked, errors naming the line and column."""

import re
from datetime import date

import numpy as np
import pytest

from meditwin_desktop.core import csv_import
from meditwin_desktop.core.case import Event, Measurement
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.seizure_diary import daily_counts


def _write(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_french_measurements_with_semicolons_decimal_commas_and_cp1252(tmp_path):
    path = _write(
        tmp_path,
        "Date de prélèvement;Examen;Résultat;Unité;Laboratoire\r\n"
        "12/03/2024;LDL cholestérol;4,1;mmol/l;CHU Nantes\r\n"
        "\r\n"
        "02/09/2024 08h15;LDL cholestérol;1 234,5;mg/dl;\r\n",
        "bilan.csv",
        "cp1252",
    )
    found = csv_import.read_measurements(path)
    assert found == [
        Measurement("LDL cholestérol", 4.1, "mmol/L", "2024-03-12", "", "CHU Nantes"),
        Measurement("LDL cholestérol", 1234.5, "mg/dL", "2024-09-02T08:15:00", "", "bilan.csv"),
    ]


def test_english_measurements_with_iso_dates_and_units_in_the_value(tmp_path):
    path = _write(
        tmp_path,
        "date,test,value,target\n"
        '2023-01-05,longest diameter,"31,5 mm",segment VII lesion\n'
        "2023-04-05T10:00,MMSE,24,\n",
    )
    first, second = csv_import.read_measurements(path)
    assert (first.value, first.unit, first.target) == (31.5, "mm", "segment VII lesion")
    assert (second.date, second.value, second.unit) == ("2023-04-05T10:00:00", 24.0, "")


def test_a_mapping_overrides_the_guess(tmp_path):
    path = _write(tmp_path, "when;what;how much;u\n2024-01-02;HbA1c;6,5;%\n")
    with pytest.raises(InputError, match="no column was found for Date, Name, Value"):
        csv_import.read_measurements(path)
    mapping = {"date": "when", "name": "what", "value": "how much", "unit": "u"}
    (found,) = csv_import.read_measurements(path, mapping)
    assert (found.name, found.value, found.unit) == ("HbA1c", 6.5, "%")
    with pytest.raises(InputError, match="no column 'nope'"):
        csv_import.read_measurements(path, {"value": "nope"})


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-01-02;LDL;abc;mmol/L", "line 3, column 'valeur': 'abc' is not a number"),
        ("2024-01-02;LDL;<0,1;mmol/L", "line 3, column 'valeur': '<0,1' is not a number"),
        ("31/02/2024;LDL;4,1;mmol/L", "line 3, column 'date': '31/02/2024' is not a date"),
        ("02-31-2024;LDL;4,1;mmol/L", "day first"),
        ("2024-01-02;;4,1;mmol/L", "line 3, column 'nom': this cell is empty"),
        ("2024-01-02;LDL;4,1;furlongs", "line 3, column 'unité': unknown unit 'furlongs'"),
        ("2024-01-02;MMSE;35;points", r"column 'valeur': MMSE 35 is outside its scale \(0-30"),
    ],
)
def test_malformed_measurement_lines_are_named(tmp_path, row, message):
    path = _write(tmp_path, f"date;nom;valeur;unité\n2024-01-01;LDL;3,9;mmol/L\n{row}\n")
    with pytest.raises(InputError, match=message) as caught:
        csv_import.read_measurements(path)
    assert "data.csv" in str(caught.value)


def test_unknown_units_are_refused_with_the_known_ones(tmp_path):
    path = _write(tmp_path, "date,name,value,unit\n2024-01-01,LDL,3.9,mmol/dL\n")
    with pytest.raises(InputError) as caught:
        csv_import.read_measurements(path)
    text = str(caught.value)
    assert "line 2, column 'unit': unknown unit 'mmol/dL'" in text and "mmol/L" in text


def test_french_diary_with_separate_time_and_minutes(tmp_path):
    path = _write(
        tmp_path,
        "Date;Heure;Type de crise;Durée (min);Traitement de secours;Commentaire\n"
        "03/02/2024;21h40;tonico-clonique;2,5;midazolam buccal;fièvre\n"
        "04/02/2024;07:05;myoclonique;;non;\n",
    )
    first, second = csv_import.read_diary(path)
    assert first == Event(
        "2024-02-03T21:40:00",
        "generalised tonic-clonic",
        150.0,
        {"as_written": "tonico-clonique", "rescue": "midazolam buccal"},
        "fièvre",
    )
    assert (second.time, second.kind, second.duration_s) == (
        "2024-02-04T07:05:00",
        "myoclonic",
        None,
    )
    assert second.details == {"as_written": "myoclonique"}


def test_english_diary_with_date_times_and_durations(tmp_path):
    path = _write(
        tmp_path,
        "Time\tSeizure type\tDuration\tRescue medication\tNotes\n"
        "2024-05-01 03:10\tconvulsive\t1:30\tdiazepam rectal\tin sleep\n"
        "2024-05-02T12:00:00\tfocal\t45 s\t\t\n"
        "2024-05-03\tabsence\t2 min 10\t\t\n",
    )
    events = csv_import.read_diary(path)
    assert [e.duration_s for e in events] == [90.0, 45.0, 130.0]
    assert events[0].time == "2024-05-01T03:10:00" and events[2].time == "2024-05-03"
    assert events[0].details == {"as_written": "convulsive", "rescue": "diazepam rectal"}
    assert events[0].kind == "generalised tonic-clonic" and events[0].note == "in sleep"
    assert [e.kind for e in events[1:]] == ["focal", "absence"]  # canonical: nothing kept
    assert events[1].details == {} == events[2].details


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-05-01,convulsive,forever", "line 3, column 'durée': 'forever' is not a duration"),
        ("yesterday,convulsive,30", "line 3, column 'date': 'yesterday' is not a date"),
        ("2024-05-01,,30", "line 3, column 'type': this cell is empty"),
    ],
)
def test_malformed_diary_lines_are_named(tmp_path, row, message):
    path = _write(tmp_path, f"date,type,durée\n2024-04-30,focal,20\n{row}\n")
    with pytest.raises(InputError, match=message):
        csv_import.read_diary(path)


def test_guessing_is_accent_case_and_unit_blind():
    mapping = csv_import.guess_mapping(
        ["DATE", "Type", "DURÉE [s]", "Secours", "Remarques"], "diary"
    )
    assert mapping == {
        "date": "DATE",
        "time": None,
        "kind": "Type",
        "count": None,
        "duration": "DURÉE [s]",
        "rescue": "Secours",
        "note": "Remarques",
        "until": None,
    }


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        csv_import.read_diary(_write(tmp_path, "\n\n"))
    with pytest.raises(InputError, match="cannot be read"):
        csv_import.read_diary(tmp_path / "absent.csv")


# -- seizure diaries: counts, "no seizure" days, "not recorded" periods, offsets (issue 21) ----
def test_a_french_diary_with_counts_markers_and_a_gap(tmp_path):
    path = _write(
        tmp_path,
        "Date;Heure;Type de crise;Nombre de crises;Durée;Secours;Fin\n"
        "01/06/2024;06h10;crises toniques;5;40 s;;\n"
        "02/06/2024;;aucune;;;;\n"
        "03/06/2024;;;0;;;\n"
        "04/06/2024;;Non renseigné;;;;07/06/2024\n"
        "10/06/2024;;journal non tenu;;2 semaines;;\n"
        "25/06/2024;20:15;état de mal;1;25 min;midazolam buccal;\n",
        "journal.csv",
        "cp1252",
    )
    events = csv_import.read_diary(path)
    assert [(e.time, e.kind, e.duration_s) for e in events] == [
        ("2024-06-01T06:10:00", "tonic", 40.0),
        ("2024-06-02", "no seizure", None),
        ("2024-06-03", "no seizure", None),
        ("2024-06-04", "not recorded", 4 * 86400.0),  # to the end of 7 June
        ("2024-06-10", "not recorded", 14 * 86400.0),
        ("2024-06-25T20:15:00", "status epilepticus", 1500.0),
    ]
    assert events[0].details == {"as_written": "crises toniques", "count": 5}
    assert events[3].details == {"as_written": "Non renseigné"}
    assert events[5].details == {"as_written": "état de mal", "rescue": "midazolam buccal"}
    diary = daily_counts(events, unrecorded_days="unknown")  # what the twin reads
    assert diary.days == 25 and diary.reported_days == 4 and diary.prolonged == 1
    np.testing.assert_array_equal(diary.convulsive[:4], [5, 0, 0, np.nan])
    assert np.isnan(diary.convulsive[9:23]).all() and diary.convulsive[24] == 1


def test_utc_offsets_are_kept_and_read_in_the_zone():
    table = csv_import.Table(
        ("datetime", "type"),
        ((2, ("2024-03-31T02:30:00+02:00", "GTC")), (3, ("2024-06-30 22:30Z", "GTC")),
         (4, ("27/10/2024 02:30 +01:00", "GTC")), (5, ("27/10/2024 02:30 +02:00", "GTC"))),
        ",",
        "app.csv",
    )  # fmt: skip
    events = csv_import.events_from(table)
    assert [e.time for e in events] == [
        "2024-03-31T02:30:00+02:00",
        "2024-06-30T22:30:00+00:00",
        "2024-10-27T02:30:00+01:00",
        "2024-10-27T02:30:00+02:00",
    ]
    diary = daily_counts(events, tz="Europe/Paris")  # 22:30Z is 00:30 on 1 July in Paris
    assert diary.convulsive[(date(2024, 7, 1) - diary.start).days] == 1
    assert diary.convulsive[(date(2024, 10, 27) - diary.start).days] == 2  # two 02:30s


def test_a_separate_time_column_may_carry_the_offset(tmp_path):
    path = _write(tmp_path, "date,time,type\n2024-03-31,02:30+02:00,tonic\n")
    (event,) = csv_import.read_diary(path)
    assert event.time == "2024-03-31T02:30:00+02:00"


def test_repeated_lines_and_lines_already_in_the_case_are_left_out(tmp_path):
    path = _write(
        tmp_path,
        "date,type,count,note\n"
        "2024-06-01T08:00:00+02:00,GTC,,\n"
        "2024-06-01T08:00:00+02:00,GTC,,\n"  # the same line twice
        "2024-06-01T08:00:00+02:00,GTC,3,\n"  # another count: another line
        "2024-06-02,tonic,,morning\n"
        "2024-06-02,tonic,,evening\n",  # a day alone, told apart by the note: two
    )
    found = csv_import.read_diary(path)
    case_events = [Event("2024-06-01T06:00:00Z", "generalised tonic-clonic")]  # typed earlier
    fresh, repeats = csv_import.new_records(case_events, found)
    assert repeats == 2 and [(e.time[:10], e.details.get("count", 1)) for e in fresh] == [
        ("2024-06-01", 3),
        ("2024-06-02", 1),
        ("2024-06-02", 1),
    ]
    assert csv_import.new_records([], found)[1] == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-06-02,tonic,2.5,,", "count': '2.5' is not a number of seizures (0, 1, 2...)"),
        ("2024-06-02,tonic,-1,,", "count': '-1' is not a number of seizures"),
        ("2024-06-02,aucune,3,,", "count': 3 seizures on a line whose type says 'aucune'"),
        (
            "2024-06-02,not recorded,,7,",
            "duration': '7' is the length of a period not recorded: write",
        ),
        ("2024-06-02,not recorded,,,2024-05-01", "end': the period ends (2024-05-01) before it"),
        ("2024-06-02,not recorded,,,someday", "end': 'someday' is not a date"),
    ],
)
def test_malformed_counts_and_periods_are_named(tmp_path, row, message):
    path = _write(tmp_path, f"date,type,count,duration,end\n2024-06-01,GTC,1,,\n{row}\n")
    with pytest.raises(InputError, match="line 3, column '[a-z]*" + re.escape(message)):
        csv_import.read_diary(path)


def test_count_and_until_headers_are_guessed():
    for header in ("Number of seizures", "Nombre de crises", "nb", "Quantity", "count"):
        assert csv_import.guess_mapping(["Date", "Type", header], "diary")["count"] == header
    mapping = csv_import.guess_mapping(["Début", "Fin", "Type de crise", "Nombre"], "diary")
    assert (mapping["date"], mapping["until"], mapping["kind"], mapping["count"]) == (
        "Début", "Fin", "Type de crise", "Nombre")  # fmt: skip


# -- lesion diameters (tumour-response follow-up, issue 19) -----------------------------------
def test_date_lesion_diameter_needs_no_name_column(tmp_path):
    path = _write(tmp_path, "date,lesion,diameter\n2026-01-05,liver: tumour 1,31\n"
                            "2026-03-02,liver: tumour 1,22.5\n")  # fmt: skip
    found = csv_import.read_measurements(path)
    assert found == [
        Measurement("longest diameter", 31.0, "mm", "2026-01-05", "liver: tumour 1", "data.csv"),
        Measurement("longest diameter", 22.5, "mm", "2026-03-02", "liver: tumour 1", "data.csv"),
    ]


def test_french_diameters_in_cm_and_mixed_units_are_converted_to_mm(tmp_path):
    path = _write(
        tmp_path,
        "date;lésion;diamètre (cm)\n05/01/2026;foie: tumeur 1;3,1\n"
        "02/03/2026;foie: tumeur 1;22 mm\n27/04/2026;foie: tumeur 1;0.0021 m\n",
        encoding="cp1252",
    )
    values = [(m.name, m.value, m.unit) for m in csv_import.read_measurements(path)]
    assert values == [
        ("longest diameter", pytest.approx(31.0), "mm"),
        ("longest diameter", pytest.approx(22.0), "mm"),
        ("longest diameter", pytest.approx(2.1), "mm"),
    ]


def test_target_lesion_longest_diameter_and_short_axis_columns(tmp_path):
    path = _write(
        tmp_path,
        "Date,Target lesion,Longest diameter,Short axis\n"
        "2026-01-05,liver: tumour 1,31,\n2026-01-05,lymph node: hilar,24,17\n",
    )
    found = csv_import.read_measurements(path)
    assert [(m.name, m.target, m.value) for m in found] == [
        ("longest diameter", "liver: tumour 1", 31.0),
        ("longest diameter", "lymph node: hilar", 24.0),
        ("short axis", "lymph node: hilar", 17.0),
    ]
    node_only = _write(tmp_path, "date,lésion,petit axe (mm)\n2026-01-05,hilar,1.7 cm\n", "n.csv")
    (node,) = csv_import.read_measurements(node_only)
    assert (node.name, node.value, node.unit) == ("short axis", pytest.approx(17.0), "mm")


def test_a_named_longest_diameter_in_cm_is_converted(tmp_path):
    path = _write(tmp_path, "date,name,value,unit,target\n2026-01-05,Longest diameter,3.1,cm,t1\n")
    (found,) = csv_import.read_measurements(path)
    assert (found.value, found.unit) == (pytest.approx(31.0), "mm")


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2100", "line 3, column 'diameter': a lesion diameter of 2100 mm is not plausible: it "
                 "looks like micrometres or a typo"),
        ("450 mm", "no lesion is that large"),
        ("-3", "cannot be negative"),
        ("3 kg", "a diameter cannot be in kg"),
        ("", "line 3, column 'diameter': this cell is empty"),
    ],
)  # fmt: skip
def test_implausible_diameters_are_refused_with_the_line(tmp_path, cell, message):
    path = _write(tmp_path, f"date,lesion,diameter\n2026-01-05,t1,31\n2026-03-02,t1,{cell}\n")
    with pytest.raises(InputError, match=message):
        csv_import.read_measurements(path)


def test_diameter_headers_are_recognised():
    assert csv_import.diameter_column("Diamètre (cm)") == ("longest diameter", "cm")
    assert csv_import.diameter_column("LONGEST DIAMETER [mm]") == ("longest diameter", "mm")
    assert csv_import.diameter_column("Petit axe") == ("short axis", "mm")
    assert csv_import.diameter_column("value") is None
    mapping = csv_import.guess_mapping(
        ["Date", "Target lesion", "Longest diameter"], "measurements"
    )
    assert (mapping["value"], mapping["target"], mapping["name"]) == (
        "Longest diameter", "Target lesion", None)  # fmt: skip
