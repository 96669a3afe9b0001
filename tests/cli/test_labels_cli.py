"""`workbench labels list|export|import`: the app's relevance labels as judged queries + TREC qrels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.documents import load_documents
from workbench.engine.types import ChunkSettings, ModelInfo
from workbench.store import RunLog, open_store
from workbench.store.labels import LabelRow, all_labels, set_label, set_labels
from workbench.store.runs import text_hash

runner = CliRunner()
MODEL = ModelInfo(model_id="Qwen/Qwen3-Reranker-0.6B", kind="qwen3-reranker", device="cpu", dtype="float32")


def _labels(db: Path | None = None) -> set[tuple]:
    """What a store holds, without the times: (query, document hash, doc id, start, end, grade)."""
    store = open_store(db, readonly=True)
    try:
        return {(r.query, r.document_hash, r.doc_id, r.start, r.end, r.grade) for r in all_labels(store)}
    finally:
        store.close()


@pytest.fixture
def labelled(corpus) -> dict:
    """Labels as the app sets them: the documents were scored (so the run log holds their texts),
    then the user graded a whole document and some chunks for two queries."""
    docs = load_documents([str(corpus)]).documents
    by_id = {d.id: d for d in docs}
    store = open_store()
    log = RunLog(store)
    session = log.create_session("app test")
    log.begin_run(session, "capital of France", "", docs, ChunkSettings(16, 0), "max", 3, MODEL, {})
    france, tides = by_id["france.txt"], by_id["sub/tides.txt"]
    grades = [
        ("capital of France", france, 0, len(france.text), 3),  # whole document
        ("capital of France", tides, 0, 120, 0),  # a chunk judged not relevant
        ("what causes tides", tides, 0, len(tides.text), 2),
        ("what causes tides", tides, 155, 260, 3),
        ("what causes tides", by_id["bread.md"], 0, len(by_id["bread.md"].text), 0),
    ]
    for query, doc, start, end, grade in grades:
        set_label(store, query, text_hash(doc.text), doc.id, start, end, grade)
    store.close()
    return {"docs": by_id, "labels": _labels()}


def _export(tmp_path, *extra) -> tuple[Path, Path]:
    prefix = tmp_path / "out" / "labels"
    prefix.parent.mkdir(exist_ok=True)
    result = runner.invoke(app, ["labels", "export", "-o", str(prefix), *extra])
    assert result.exit_code == 0, result.output
    return Path(f"{prefix}.queries.jsonl"), Path(f"{prefix}.qrels")


def test_list_shows_each_labelled_query_with_its_grades(labelled):
    result = runner.invoke(app, ["labels", "list"])
    assert result.exit_code == 0, result.output
    header, france, tides = result.stdout.splitlines()
    assert header.split() == ["ID", "LABELS", "DOCS", "WHOLE", "G0", "G1", "G2", "G3", "QUERY"]
    assert france.split() == ["q1", "2", "2", "1", "1", "0", "0", "1", "capital", "of", "France"]
    assert tides.split() == ["q2", "3", "2", "2", "1", "0", "1", "1", "what", "causes", "tides"]


def test_list_without_a_database_or_labels(tmp_path, data_dir_db):
    result = runner.invoke(app, ["labels", "list"])
    assert result.exit_code == 0 and "No labels yet (there is no database" in result.stdout
    assert not data_dir_db.exists()  # read-only: nothing created
    open_store().close()
    result = runner.invoke(app, ["labels", "list"])
    assert result.exit_code == 0 and result.stdout.strip() == "No labels yet."


@pytest.fixture
def data_dir_db(cli_env) -> Path:
    return Path(cli_env["WORKBENCH_DATA_DIR"]) / "workbench.db"


def test_export_writes_queries_and_qrels(tmp_path, labelled):
    queries, qrels = _export(tmp_path)
    assert [json.loads(line) for line in queries.read_text().splitlines()] == [
        {"id": "q1", "query": "capital of France"},
        {"id": "q2", "query": "what causes tides"},
    ]
    assert qrels.read_text().splitlines() == [
        "q1 0 france.txt 3",
        "q1 0 sub/tides.txt@0-120 0",
        "q2 0 bread.md 0",
        "q2 0 sub/tides.txt 2",
        "q2 0 sub/tides.txt@155-260 3",
    ]


def test_round_trip_through_export_and_import(tmp_path, corpus, labelled):
    queries, qrels = _export(tmp_path)
    fresh = tmp_path / "fresh.db"
    result = runner.invoke(app, ["labels", "import", str(queries), str(qrels), str(corpus), "--db", str(fresh)])
    assert result.exit_code == 0, result.output
    assert "imported 5 label(s) of 2 query(ies)" in result.stdout
    assert _labels(fresh) == labelled["labels"]

    # Again: nothing changes, and it says so.
    result = runner.invoke(app, ["labels", "import", str(queries), str(qrels), str(corpus), "--db", str(fresh)])
    assert result.exit_code == 0, result.output
    assert "(5 already stored with that grade)" in result.stdout
    assert _labels(fresh) == labelled["labels"]

    # The fresh log holds no text (no run): given the documents, export writes the same files.
    again = tmp_path / "again"
    result = runner.invoke(app, ["labels", "export", "-o", str(again), str(corpus), "--db", str(fresh)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert Path(f"{again}.qrels").read_text() == qrels.read_text()
    assert Path(f"{again}.queries.jsonl").read_text() == queries.read_text()


def test_exported_files_are_what_eval_reads(tmp_path, corpus, labelled):
    """The eval readers accept the export as is, against the documents the app had loaded."""
    from workbench.evaluation import apply_qrels, check_against_documents, read_qrels, read_queries

    queries, qrels = _export(tmp_path)
    judged, problems = read_queries(queries)
    lines, more = read_qrels(qrels)
    judged = apply_qrels(judged, lines, problems + more)
    texts = {d.id: d.text for d in load_documents([str(corpus)]).documents}
    assert problems == more == [] and check_against_documents(judged, texts) == []
    tides = next(q for q in judged if q.id == "q2")
    assert [(str(lb.item), lb.grade, lb.chunk_level) for lb in tides.labels] == [
        ("bread.md", 0, False), ("sub/tides.txt", 2, False), ("sub/tides.txt@155-260", 3, True),
    ]


def test_eval_runs_on_the_exported_labels(tmp_path, corpus, labelled, tiny_model_dir, shared_scorer):
    queries, qrels = _export(tmp_path)
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--qrels", str(qrels), "--model",
                                 str(tiny_model_dir), "--chunk-tokens", "16", "--chunk-overlap", "0", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["queries"] == 2
    assert data["instructions"][0]["metrics"]["document"]["queries"] == 2  # both have a relevant document


def test_export_refuses_to_overwrite_without_force(tmp_path, labelled):
    queries, qrels = _export(tmp_path)
    qrels.write_text("mine\n")
    queries.unlink()
    prefix = str(qrels)[: -len(".qrels")]
    result = runner.invoke(app, ["labels", "export", "-o", prefix])
    assert result.exit_code == 1
    assert f"{qrels} already exists; pass --force to overwrite it" in result.stderr
    assert qrels.read_text() == "mine\n" and not queries.exists()  # neither file written
    _export(tmp_path, "--force")
    assert qrels.read_text().startswith("q1 0 france.txt 3")


def test_export_never_writes_over_the_database(tmp_path, labelled):
    db = tmp_path / "labels.qrels"
    open_store(db).close()
    result = runner.invoke(app, ["labels", "export", "-o", str(tmp_path / "labels"), "--db", str(db), "--force"])
    assert result.exit_code == 1 and "refusing to write the export over the run database" in result.stderr


def test_export_without_labels_or_database_is_an_error(tmp_path, data_dir_db):
    result = runner.invoke(app, ["labels", "export", "-o", str(tmp_path / "x")])
    assert result.exit_code == 1 and "no database" in result.stderr and not data_dir_db.exists()
    open_store().close()
    result = runner.invoke(app, ["labels", "export", "-o", str(tmp_path / "x")])
    assert result.exit_code == 1 and "no labels to export" in result.stderr
    assert not list(tmp_path.glob("x.*"))


def test_export_of_a_text_the_log_does_not_hold(tmp_path):
    """Whole or chunk? Without the text's length a label from 0 cannot tell: a span, and a
    warning, unless the documents are given."""
    store = open_store()
    set_label(store, "q", text_hash("forgotten text"), "gone.txt", 0, 14, 2)
    set_label(store, "q", text_hash("forgotten text"), "gone.txt", 3, 9, 1)
    store.close()
    result = runner.invoke(app, ["labels", "export", "-o", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert "neither the run log nor the documents given hold the text of 1" in result.stderr
    assert "gone.txt" in result.stderr
    assert (tmp_path / "x.qrels").read_text() == "q1 0 gone.txt@0-14 2\nq1 0 gone.txt@3-9 1\n"

    _write(tmp_path / "gone.txt", "forgotten text")
    result = runner.invoke(app, ["labels", "export", "-o", str(tmp_path / "y"), str(tmp_path / "gone.txt")])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert (tmp_path / "y.qrels").read_text() == "q1 0 gone.txt 2\nq1 0 gone.txt@3-9 1\n"


def test_export_keeps_the_latest_text_of_a_renamed_document(tmp_path):
    store = open_store()
    set_label(store, "q", text_hash("old text"), "a.txt", 0, 3, 1)
    set_label(store, "q", text_hash("new text"), "a.txt", 0, 3, 2)
    store.close()
    result = runner.invoke(app, ["labels", "export", "-o", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert "'a.txt' was labelled as 2 different texts" in result.stderr
    assert (tmp_path / "x.qrels").read_text() == "q1 0 a.txt@0-3 2\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_reports_every_problem_and_writes_nothing(tmp_path, corpus, data_dir_db):
    queries = _write(tmp_path / "q.jsonl", '{"id": "a", "query": "capital of France"}\n'
                                           '{"id": "b", "query": "capital of France"}\n{"id": "c"}\n')
    qrels = _write(tmp_path / "q.qrels", "\n".join([
        "a 0 france.txt 3",
        "a 0 france.txt#0 2",          # chunk by index
        "a 0 nowhere.txt 1",           # unknown document
        "a 0 bread.md 7",              # bad grade
        "a 0 france.txt 3",            # duplicate line
        "a 0 bread.md@0-99999 1",      # past the end
        "zz 0 bread.md 1",             # query not in the queries file
        "b 0 france.txt 1",            # same query text, same span as line 1
        "a 0 bread.md",                # malformed
    ]) + "\n")
    result = runner.invoke(app, ["labels", "import", str(queries), str(qrels), str(corpus)])
    assert result.exit_code == 2, result.output
    err = result.stderr
    for where, what in [
        ("q.jsonl:3", "not a judged query"),
        ("q.qrels:2", "names a chunk by its index"),
        ("q.qrels:3", "unknown document 'nowhere.txt'"),
        ("q.qrels:4", "grade '7' is not an integer 0..3"),
        ("q.qrels:5", "duplicate judgment of france.txt"),
        ("q.qrels:6", "ends past the end of 'bread.md'"),
        ("q.qrels:7", "query 'zz' is not in the queries file"),
        ("q.qrels:8", "the same query text as"),
        ("q.qrels:9", "expected 'QUERY 0 ITEM GRADE'"),
    ]:
        assert any(where in line and what in line for line in err.splitlines()), (where, what, err)
    assert "nothing imported (9 problem(s))" in err and "Traceback" not in result.output
    assert not data_dir_db.exists()  # no database created, let alone written


def test_import_leaves_existing_labels_alone_on_bad_input(tmp_path, corpus, labelled):
    queries = _write(tmp_path / "q.jsonl", '{"id": "a", "query": "capital of France"}\n')
    qrels = _write(tmp_path / "q.qrels", "a 0 france.txt 1\na 0 nowhere.txt 1\n")
    result = runner.invoke(app, ["labels", "import", str(queries), str(qrels), str(corpus)])
    assert result.exit_code == 2 and "unknown document 'nowhere.txt'" in result.stderr
    assert _labels() == labelled["labels"]  # france.txt kept its grade 3: nothing half-written


def test_import_updates_a_grade_and_adds_new_labels(tmp_path, corpus, labelled):
    queries = _write(tmp_path / "q.jsonl", '{"id": "a", "query": "  capital of France "}\n')
    qrels = _write(tmp_path / "q.qrels", "a 0 france.txt 1\na 0 bread.md@2-15 2\n")
    result = runner.invoke(app, ["labels", "import", str(queries), str(qrels), str(corpus)])
    assert result.exit_code == 0, result.output
    france, bread = labelled["docs"]["france.txt"], labelled["docs"]["bread.md"]
    expected = labelled["labels"] - {("capital of France", text_hash(france.text), "france.txt", 0, len(france.text), 3)}
    expected |= {("capital of France", text_hash(france.text), "france.txt", 0, len(france.text), 1),
                 ("capital of France", text_hash(bread.text), "bread.md", 2, 15, 2)}
    assert _labels() == expected


def test_import_with_nothing_to_import(tmp_path, corpus):
    queries = _write(tmp_path / "q.jsonl", '{"id": "a", "query": "capital of France"}\n')
    qrels = _write(tmp_path / "q.qrels", "# nothing\n")
    result = runner.invoke(app, ["labels", "import", str(queries), str(qrels), str(corpus)])
    assert result.exit_code == 2 and "nothing to import" in result.stderr


def test_set_labels_is_all_or_nothing(tmp_path):
    store = open_store(tmp_path / "s.db")
    try:
        good = LabelRow("q", "h", "a.txt", 0, 5, 1)
        with pytest.raises(ValueError):
            set_labels(store, [good, LabelRow("q", "h", "a.txt", 5, 9, 4)])
        with pytest.raises(ValueError):
            set_labels(store, [good, LabelRow("q", "h", "a.txt", 5, 5, 1)])
        assert all_labels(store) == []
        assert set_labels(store, [good, LabelRow("q", "h", "a.txt", 5, 9, 0)]) == 2
        assert set_labels(store, [good, LabelRow("q", "h", "b.txt", 5, 9, 3)]) == 1
        assert [(r.doc_id, r.start, r.grade) for r in all_labels(store)] == [("a.txt", 0, 1), ("b.txt", 5, 3)]
    finally:
        store.close()
