"""The local data-file reader: .jsonl / .json / .csv by extension, and errors that name file, row and column."""

import json

import pytest

import data_files
from data_files import DataError

ROWS = [{"text": "a, \"quoted\" b", "label": "x"}, {"text": "line\nbreak é", "label": "y"}]


def read(path):
    return data_files.read_file_rows(str(path))


def test_the_three_formats_give_the_same_rows(tmp_path):
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS) + "\n\n", encoding="utf-8")
    (tmp_path / "rows.json").write_text(json.dumps(ROWS), encoding="utf-8")
    (tmp_path / "data.json").write_text(json.dumps({"data": ROWS}), encoding="utf-8")
    # A BOM (as spreadsheet exports write) and quoted cells with commas, quotes and newlines.
    (tmp_path / "rows.csv").write_text('\ufefftext,label\n"a, ""quoted"" b",x\n"line\nbreak é",y\n',
                                       encoding="utf-8")
    for name in ("rows.jsonl", "rows.json", "data.json", "rows.csv"):
        assert read(tmp_path / name) == ROWS, name


def test_rows_are_read_as_they_are_needed(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{broken\n")
    rows = data_files.iter_file_rows(str(path))
    assert next(rows) == ROWS[0]  # the broken second line is not read yet
    with pytest.raises(DataError, match="row 1: malformed JSON"):
        next(rows)


@pytest.mark.parametrize("name,content,message", [
    ("bad.jsonl", '{"text": "a"}\n[1, 2]\n', "row 1: expected a JSON object, got list"),
    ("bad.jsonl", '{"text": "a"}\n\n{"text": \n', "row 1: malformed JSON: "),
    ("bad.json", '{"rows": []}', 'expected a list of rows or {"data": [rows]}'),
    ("bad.json", '[{"text": "a"}, "b"]', "row 1: expected a JSON object, got str"),
    ("bad.json", '[{"text": "a"},', "malformed JSON: "),
    ("bad.csv", "text,label\na,x\nb,y,z\n", "row 1: 3 cells where the header has 2"),
    ("bad.csv", 'text,label\na,x\n"b,y\n', "row 1: malformed CSV: unexpected end of data"),
    ("bad.csv", "text,text\na,b\n", "the header row needs distinct, non-empty column names"),
    ("bad.txt", "text\n", "unknown file type (expected one of .jsonl, .json, .csv)"),
])
def test_malformed_files_name_file_and_row(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError) as error:
        read(path)
    assert str(error.value).startswith(f"{path}: {message}")


def test_text_that_is_not_utf8_names_the_row(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"text,label\nplain,x\n" + "caf\u00e9,y\n".encode("latin-1") * 3000)
    with pytest.raises(DataError, match=f"^{path}: row \\d+: not UTF-8 text"):
        read(path)


def test_a_missing_file_and_an_empty_one(tmp_path):
    with pytest.raises(DataError, match=f"^{tmp_path}/none.csv: cannot read: No such file or directory"):
        read(tmp_path / "none.csv")
    (tmp_path / "empty.csv").write_text("")
    assert read(tmp_path / "empty.csv") == []
    source = data_files.SplitSource(path=str(tmp_path / "empty.csv"))
    with pytest.raises(DataError, match=f"^{tmp_path}/empty.csv: no rows$"):
        data_files.checked(source, source.read(), lambda row, index: row)


def test_a_long_csv_cell_is_read(tmp_path):
    long_text = "word " * 100_000  # over csv's default 128 KiB cell limit
    path = tmp_path / "long.csv"
    path.write_text(f"text,label\n{long_text},x\n")
    assert read(path) == [{"text": long_text, "label": "x"}]
