"""workbench.documents: reading files, folders, stdin and JSONL; every bad input becomes one
message naming it, and the readable documents still come through."""

from __future__ import annotations

import io
import json
import os
import re
import socket
from pathlib import Path

import pytest
from no_hang import call_within

from workbench import documents
from workbench.documents import decode_text, load_documents, read_file, read_folder, read_jsonl, read_stdin, unique_ids
from workbench.engine.types import Document


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def one_problem(loaded, *needles: str) -> str:
    assert len(loaded.problems) == 1, loaded.problems
    (problem,) = loaded.problems
    assert "\n" not in problem
    for needle in needles:
        assert needle.lower() in problem.lower(), problem
    return problem


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def test_utf8_bom_is_stripped(tmp_path):
    path = write(tmp_path / "bom.txt", "\ufeffHello, world.\n".encode("utf-8"))
    loaded = read_file(path)
    assert loaded.problems == []
    (doc,) = loaded.documents
    assert doc.text == "Hello, world.\n"  # offsets of chunks then match what the user sees
    assert (doc.id, doc.path) == ("bom.txt", str(path))


def test_non_ascii_utf8_is_kept_verbatim(tmp_path):
    text = "Crème brûlée, 東京, emoji 🙂\r\nsecond line\n"
    path = write(tmp_path / "intl.md", text.encode("utf-8"))
    (doc,) = read_file(path).documents
    assert doc.text == text  # no newline translation: offsets index the file's own text


def test_nul_byte_means_binary(tmp_path):
    path = write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    loaded = read_file(path)
    assert loaded.documents == []
    one_problem(loaded, str(path), "binary")


def test_non_utf8_names_the_bad_byte(tmp_path):
    path = write(tmp_path / "latin1.txt", "naïve café".encode("latin-1"))
    loaded = read_file(path)
    assert loaded.documents == []
    one_problem(loaded, str(path), "not UTF-8", "offset 2")


@pytest.mark.parametrize("content", [b"", b"   \n\t\n", "\ufeff\n".encode("utf-8")])
def test_empty_or_blank_file(tmp_path, content):
    path = write(tmp_path / "blank.txt", content)
    loaded = read_file(path)
    assert loaded.documents == []
    one_problem(loaded, str(path), "empty")


def test_decode_text_directly():
    assert decode_text(b"plain", "x") == ("plain", None)
    text, problem = decode_text(b"a\x00b", "label")
    assert text is None and problem.startswith("label:")


# --------------------------------------------------------------------------------------------
# Files that cannot be read
# --------------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    loaded = read_file(path)
    assert loaded.documents == []
    one_problem(loaded, str(path), "no such file")


def test_file_over_the_size_limit_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 1 << 20)  # 1 MiB instead of 16
    big = write(tmp_path / "big.txt", "word " * 250_000)  # ~1.2 MiB
    small = write(tmp_path / "small.txt", "a short document")
    loaded = load_documents([str(big), str(small)])
    assert [d.id for d in loaded.documents] == ["small.txt"]
    problem = one_problem(loaded, str(big), "skipped", "limit")
    assert "1.2 MiB is over the 1 MiB limit" in problem


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path / "secret.txt", "you cannot read me")
    path.chmod(0)
    try:
        loaded = load_documents([str(path), str(write(tmp_path / "ok.txt", "readable"))])
    finally:
        path.chmod(0o644)
    assert [d.id for d in loaded.documents] == ["ok.txt"]
    one_problem(loaded, str(path), "cannot be read")


# --------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------


def test_folder_recursion_takes_text_files_only(tmp_path):
    root = tmp_path / "notes"
    write(root / "a.txt", "alpha")
    write(root / "b.md", "# beta")
    write(root / "UPPER.TXT", "upper-case suffix")
    write(root / "deep" / "er" / "c.md", "gamma")
    write(root / "deep" / "d.txt", "delta")
    for ignored in ("script.py", "data.json", "photo.png", "README", "deep/archive.zip"):
        write(root / ignored, b"\x00binary or code, not a document")
    loaded = read_folder(root)
    assert loaded.problems == []
    ids = [d.id for d in loaded.documents]
    assert ids == sorted(ids)  # stable order, run after run
    assert set(ids) == {"a.txt", "b.md", "UPPER.TXT", "deep/er/c.md", "deep/d.txt"}
    by_id = {d.id: d for d in loaded.documents}
    assert by_id["deep/er/c.md"].path == str(root / "deep" / "er" / "c.md")
    assert by_id["deep/er/c.md"].text == "gamma"


def test_folder_without_text_files(tmp_path):
    root = tmp_path / "code"
    write(root / "main.py", "print(1)")
    loaded = read_folder(root)
    assert loaded.documents == []
    one_problem(loaded, str(root), "no .txt or .md")


def test_bad_file_inside_a_folder_does_not_stop_the_rest(tmp_path):
    root = tmp_path / "mixed"
    write(root / "good.txt", "fine")
    bad = write(root / "bad.md", b"\xff\xfe not utf-8")
    loaded = load_documents([str(root)])
    assert [d.id for d in loaded.documents] == ["good.txt"]
    one_problem(loaded, str(bad), "not UTF-8")


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------


def test_duplicate_names_get_unique_ids(tmp_path):
    one = write(tmp_path / "x" / "README.md", "first")
    two = write(tmp_path / "y" / "README.md", "second")
    three = write(tmp_path / "z" / "README.md", "third")
    loaded = load_documents([str(one), str(two), str(three)])
    assert [d.id for d in loaded.documents] == ["README.md", "README.md#2", "README.md#3"]
    assert [d.text for d in loaded.documents] == ["first", "second", "third"]  # input order kept
    assert [d.path for d in loaded.documents] == [str(one), str(two), str(three)]


def test_unique_ids_survive_names_that_look_like_generated_ones():
    docs = [Document("a", "1"), Document("a", "2"), Document("a#2", "3"), Document("a", "4")]
    ids = [d.id for d in unique_ids(docs)]
    assert len(set(ids)) == len(ids), ids
    assert ids[0] == "a" and ids[1] == "a#2"
    assert [d.text for d in unique_ids(docs)] == ["1", "2", "3", "4"]


def test_unique_ids_is_idempotent_and_safe_to_apply_again_when_adding():
    # the app adds documents with unique_ids(existing + new): a third "a" must not become "a#2" again
    first = unique_ids([Document("a", "1"), Document("a", "2")])
    assert unique_ids(first) == first
    ids = [d.id for d in unique_ids(first + [Document("a", "3")])]
    assert ids == ["a", "a#2", "a#3"]


def test_same_file_twice_is_two_documents(tmp_path):
    path = write(tmp_path / "a.txt", "same")
    loaded = load_documents([str(path), str(path)])
    assert [d.id for d in loaded.documents] == ["a.txt", "a.txt#2"]


# --------------------------------------------------------------------------------------------
# stdin and JSONL
# --------------------------------------------------------------------------------------------


def test_stdin_dash(tmp_path):
    loaded = load_documents(["-"], stdin=io.StringIO("piped text\n"))
    (doc,) = loaded.documents
    assert (doc.id, doc.text, doc.path) == ("stdin", "piped text\n", None)


def test_empty_stdin_is_a_problem_not_a_document():
    loaded = read_stdin(io.StringIO("  \n"))
    assert loaded.documents == []
    one_problem(loaded, "stdin", "nothing was piped")


def test_jsonl_reports_each_bad_line_by_number(tmp_path):
    lines = [
        json.dumps({"id": "ok1", "text": "first"}),  # 1
        "{oops",  # 2: not JSON
        "",  # 3: blank, silently skipped
        json.dumps({"text": "no id"}),  # 4
        json.dumps({"id": "n", "text": 42}),  # 5: text not a string
        json.dumps(["id", "text"]),  # 6: not an object
        json.dumps("just a string"),  # 7: not an object
        json.dumps({"id": "blank", "text": "  "}),  # 8: empty document
        json.dumps({"id": 7, "text": "numeric id"}),  # 9: fine, id as text
    ]
    path = write(tmp_path / "docs.jsonl", "\n".join(lines) + "\n")
    loaded = read_jsonl(path)
    assert [(d.id, d.text, d.path) for d in loaded.documents] == [
        ("ok1", "first", f"{path}:1"),
        ("7", "numeric id", f"{path}:9"),
    ]
    where = re.compile(rf"^{re.escape(str(path))}:(\d+): skipped, ")
    matches = [where.match(p) for p in loaded.problems]
    assert all(matches), loaded.problems
    assert [int(m.group(1)) for m in matches] == [2, 4, 5, 6, 7, 8]
    assert all("\n" not in p for p in loaded.problems)
    assert "empty" in loaded.problems[-1]


def test_jsonl_with_bom_and_crlf(tmp_path):
    body = "\ufeff" + json.dumps({"id": "a", "text": "x"}) + "\r\n" + json.dumps({"id": "b", "text": "y"}) + "\r\n"
    loaded = read_jsonl(write(tmp_path / "w.jsonl", body.encode("utf-8")))
    assert loaded.problems == []
    assert [d.id for d in loaded.documents] == ["a", "b"]


@pytest.mark.parametrize("content", [None, b"\xff\xfe{\x00"])
def test_jsonl_missing_or_not_utf8(tmp_path, content):
    path = tmp_path / "docs.jsonl"
    if content is not None:
        path.write_bytes(content)
    loaded = read_jsonl(path)
    assert loaded.documents == []
    one_problem(loaded, str(path), "cannot be read")


def test_load_documents_combines_every_kind_of_input(tmp_path):
    root = tmp_path / "folder"
    write(root / "f.md", "from a folder")
    single = write(tmp_path / "single.txt", "a file")
    jsonl = write(tmp_path / "d.jsonl", json.dumps({"id": "f.md", "text": "from jsonl"}) + "\n")
    loaded = load_documents(
        [str(root), str(single), "-", str(tmp_path / "missing.md")], str(jsonl), stdin=io.StringIO("piped")
    )
    assert [d.id for d in loaded.documents] == ["f.md", "single.txt", "stdin", "f.md#2"]
    one_problem(loaded, "missing.md", "no such file")


def test_home_directory_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "notes.txt", "in my home")
    loaded = load_documents(["~/notes.txt"])
    assert [d.text for d in loaded.documents] == ["in my home"]


# --------------------------------------------------------------------------------------------
# Pipes, sockets and devices: named and skipped, never opened (a FIFO would block forever)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "live.txt"
    os.mkfifo(path)
    return path


def test_named_pipe_is_refused_without_opening_it(fifo):
    loaded = call_within(10, fifo, read_file, fifo)
    assert loaded.documents == []
    one_problem(loaded, str(fifo), "named pipe", "not a regular file")


def test_named_pipe_given_with_other_inputs_does_not_stop_them(tmp_path, fifo):
    good = write(tmp_path / "good.txt", "readable")
    loaded = call_within(10, fifo, load_documents, [str(fifo), str(good), "-"], stdin=io.StringIO("piped"))
    assert [d.id for d in loaded.documents] == ["good.txt", "stdin"]  # - (stdin) still works
    one_problem(loaded, str(fifo), "named pipe")


def test_named_pipe_inside_a_folder_is_named_and_the_rest_read(tmp_path):
    root = tmp_path / "docs"
    write(root / "a.txt", "alpha")
    pipe = root / "sub" / "stream.md"
    pipe.parent.mkdir()
    os.mkfifo(pipe)
    loaded = call_within(10, pipe, read_folder, root)
    assert [d.id for d in loaded.documents] == ["a.txt"]
    one_problem(loaded, str(pipe), "named pipe", "skipped")


def test_named_pipe_as_docs_jsonl_is_refused(fifo):
    loaded = call_within(10, fifo, read_jsonl, fifo)
    assert loaded.documents == []
    one_problem(loaded, str(fifo), "named pipe")


def test_socket_is_refused(tmp_path):
    path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        loaded = read_file(path)
    assert loaded.documents == []
    one_problem(loaded, str(path), "socket", "not a regular file")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_device_is_refused():
    # /dev/null and not /dev/zero: reading /dev/zero by mistake would fill the memory
    loaded = read_file(Path("/dev/null"))
    assert loaded.documents == []
    one_problem(loaded, "/dev/null", "character device", "not a regular file")
