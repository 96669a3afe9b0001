"""TREC qrels/run files and the judged-queries file: round trips, and each kind of bad input."""

from __future__ import annotations

import io
import json

from workbench.evaluation import (
    Item, apply_qrels, check_against_documents, parse_item, phrase_spans, read_qrels, read_queries, read_run,
    write_qrels, write_run,
)

TEXTS = {"a.md": "alpha beta gamma delta", "odd name#1@x.md": "text"}


def test_item_ids_round_trip_including_awkward_document_ids():
    for item in [Item("a.md"), Item("a.md", chunk=3), Item("a.md", span=(2, 9)), Item("odd name#1@x.md", chunk=0),
                 Item("50% off.txt")]:
        assert parse_item(str(item)) == item
        assert len(str(item).split()) == 1


def test_qrels_and_run_round_trip(tmp_path):
    rows = [("q1", Item("a.md"), 2), ("q1", Item("a.md", span=(6, 10)), 3), ("q2", Item("odd name#1@x.md", chunk=0), 1)]
    out = io.StringIO()
    write_qrels(out, rows)
    path = tmp_path / "qrels.txt"
    path.write_text(out.getvalue(), encoding="utf-8")
    lines, problems = read_qrels(path)
    assert problems == []
    assert [(ln.query_id, ln.item, ln.grade) for ln in lines] == rows

    run = tmp_path / "x.run"
    with run.open("w", encoding="utf-8") as f:
        write_run(f, [("q1", "a.md#1", 0.9), ("q1", "a.md#0", 0.9), ("q1", "b.md#0", float("nan")), ("q2", "a.md#0", 0.1)], "my tag")
    back = read_run(run)
    assert [(i, r) for i, r, _ in back["q1"]] == [("a.md#1", 1), ("a.md#0", 2), ("b.md#0", 3)]
    assert back["q1"][2][2] < 0.9 and back["q2"] == [("a.md#0", 1, 0.1)]
    assert run.read_text().splitlines()[0].split()[5] == "my_tag"


def test_every_bad_qrels_line_is_reported_with_file_and_line(tmp_path):
    path = tmp_path / "bad.qrels"
    path.write_text(
        "# a comment\n"
        "q1 0 a.md 1\n"
        "q1 0 a.md 2\n"          # duplicate
        "q1 0 a.md 7\n"          # grade out of range (and a duplicate: one message, the first found)
        "q1 0 b.md x\n"          # grade not a number
        "q1 0 a.md\n"            # malformed
        "q1 0 a.md@9-3 1\n"      # empty span
        "q1 0 a#b#c 1\n"         # malformed id
        "\n", encoding="utf-8")
    lines, problems = read_qrels(path)
    assert [ln.where for ln in lines] == [f"{path}:2"]
    assert len(problems) == 6
    assert problems[0] == f"{path}:3: duplicate judgment of a.md for query 'q1' (first at {path}:2)"
    assert problems[1].startswith(f"{path}:4: grade '7' is not an integer 0..3")
    assert problems[2].startswith(f"{path}:5: grade 'x'")
    assert problems[3].startswith(f"{path}:6: expected 'QUERY 0 ITEM GRADE'")
    assert f"{path}:7:" in problems[4] and "empty" in problems[4]
    assert f"{path}:8:" in problems[5]


def _queries(tmp_path, rows):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_bad_queries_file_reports_each_problem(tmp_path):
    path = _queries(tmp_path, [
        {"id": "q1", "query": "x", "relevant": [{"doc": "a.md", "contains": "gamma"}, {"doc": "a.md", "contains": "gamma"}]},
        {"id": "q1", "query": "again"},
        "{not json",
        {"id": "q3", "query": "x", "relevant": [{"doc": "a.md", "grade": 5}]},
        {"id": "q4", "query": "y", "relevant": [{"doc": "nope.md", "contains": "z"}, {"doc": "a.md", "contains": "omega"}]},
    ])
    queries, problems = read_queries(path)
    assert [q.id for q in queries] == ["q1", "q3", "q4"]
    assert problems[0] == f"{path}:1: query 'q1', relevant entry 2: duplicate of an earlier entry"
    assert problems[1] == f"{path}:2: duplicate query id 'q1' (first at {path}:1)"
    assert problems[2].startswith(f"{path}:3: not a judged query")
    assert problems[3].startswith(f"{path}:4: query 'q3', relevant entry 1: grade 5")
    later = check_against_documents(queries, TEXTS)
    assert later[0].startswith(f"{path}:5: query 'q4': unknown document 'nope.md'")
    assert later[1] == f"{path}:5: query 'q4': phrase 'omega' does not occur in 'a.md'"


def test_a_set_without_relevant_judgments_is_refused(tmp_path):
    queries, problems = read_queries(_queries(tmp_path, [{"id": "q1", "query": "x", "relevant": []}]))
    assert problems == []
    assert check_against_documents(queries, TEXTS) == ["no query has a relevant judgment (grade 1..3): there is nothing to measure"]


def test_qrels_replace_the_relevant_lists_and_unknown_ids_are_reported(tmp_path):
    queries, _ = read_queries(_queries(tmp_path, [{"id": "q1", "query": "x", "relevant": [{"doc": "a.md", "contains": "beta"}]}]))
    qrels = tmp_path / "q.qrels"
    qrels.write_text("q1 0 a.md@6-10 2\nq9 0 a.md 1\nq1 0 a.md@0-99 1\n", encoding="utf-8")
    lines, problems = read_qrels(qrels)
    judged = apply_qrels(queries, lines, problems)
    assert problems == [f"{qrels}:2: query 'q9' is not in the queries file"]
    assert [(lb.item, lb.grade) for lb in judged[0].labels] == [(Item("a.md", span=(6, 10)), 2), (Item("a.md", span=(0, 99)), 1)]
    assert check_against_documents(judged, TEXTS) == [f"{qrels}:3: query 'q1': span a.md@0-99 ends past the end of 'a.md' (22 characters)"]


def test_phrases_become_spans(tmp_path):
    queries, _ = read_queries(_queries(tmp_path, [{"id": "q1", "query": "x", "relevant": [{"doc": "a.md", "contains": "a"}]}]))
    spans = [item.span for _, item, _ in phrase_spans(queries, {"a.md": "banana"})]
    assert spans == [(1, 2), (3, 4), (5, 6)]
