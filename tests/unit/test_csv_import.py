"""CSV import of measurements and diaries (`core.csv_import`): headers guessed in English and
French, decimal commas, day-first dates, units checked, errors naming the line and column."""

import pytest

from meditwin_desktop.core import csv_import
from meditwin_desktop.core.case import Event, Measurement
from meditwin_desktop.core.errors import InputError


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
        "2024-02-03T21:40:00", "tonico-clonique", 150.0, {"rescue": "midazolam buccal"}, "fièvre"
    )
    assert (second.time, second.duration_s, second.details) == ("2024-02-04T07:05:00", None, {})


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
    assert events[0].details == {"rescue": "diazepam rectal"} and events[0].note == "in sleep"


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
        "duration": "DURÉE [s]",
        "rescue": "Secours",
        "note": "Remarques",
    }


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        csv_import.read_diary(_write(tmp_path, "\n\n"))
    with pytest.raises(InputError, match="cannot be read"):
        csv_import.read_diary(tmp_path / "absent.csv")
