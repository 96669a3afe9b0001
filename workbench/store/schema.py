"""The schema, as an ordered list of upgrade steps; PRAGMA user_version counts the steps applied.

To change the schema append a step — never edit a released one: databases in the field have
already run it. Each step runs in its own write transaction together with the version bump, so
a crash mid-upgrade leaves the previous version intact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sqlite_utils import Database

from workbench.engine.prompt import DEFAULT_INSTRUCTION


# PRAGMA application_id ("RrWb"), in the file header: how a damaged file is still known as ours.
APPLICATION_ID = int.from_bytes(b"RrWb", "big")
# The tables every workbench database has had since version 1: how one written before
# APPLICATION_ID existed is known as ours.
OUR_TABLES = frozenset({"sessions", "runs", "run_documents"})

OFFICIAL_INSTRUCTION = DEFAULT_INSTRUCTION  # the official snippet's; seeded as the first preset

# Seeded once, by the step that creates the table: a user who deletes them keeps them deleted.
DEFAULT_PRESETS: tuple[tuple[str, str], ...] = (
    ("web search (official default)", OFFICIAL_INSTRUCTION),
    ("question answering", "Given a question, retrieve passages that contain the answer to the question"),
    ("duplicate questions", "Given a question, retrieve questions that are semantically equivalent to it"),
    ("fact checking", "Given a claim, retrieve documents that support or refute the claim"),
    ("code search", "Given a description of what code should do, retrieve code that does it"),
    ("scientific claims", "Given a scientific claim, retrieve paper abstracts that provide evidence for or against it"),
)

_V1_TABLES = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        notes TEXT NOT NULL DEFAULT ''
    )""",
    # Texts are stored once however many runs use them; `hash` is sha256 of the text.
    """
    CREATE TABLE documents (
        hash TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        path TEXT,
        chars INTEGER NOT NULL
    )""",
    # A span of a stored text. chunk_index/tokens are as first seen: both depend on the tokenizer,
    # so chunk_scores keeps the values of each run as well.
    """
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        document_hash TEXT NOT NULL REFERENCES documents(hash) ON DELETE CASCADE,
        chunk_index INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        UNIQUE (document_hash, start, "end")
    )""",
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'cancelled')),
        query TEXT NOT NULL,
        instruction TEXT NOT NULL,
        chunk_tokens INTEGER NOT NULL,
        chunk_overlap INTEGER NOT NULL,
        aggregate TEXT NOT NULL,
        top_k INTEGER NOT NULL,
        model_id TEXT NOT NULL,
        model_kind TEXT NOT NULL,
        revision TEXT,
        dtype TEXT NOT NULL,
        quantization TEXT NOT NULL,
        device TEXT NOT NULL,
        attn_implementation TEXT,
        max_length INTEGER NOT NULL,
        fallback INTEGER NOT NULL DEFAULT 0,
        fallback_reason TEXT,
        model_choices TEXT NOT NULL DEFAULT '[]',
        fingerprint TEXT NOT NULL DEFAULT '{}',
        latency_s REAL,
        first_result_s REAL,
        pairs INTEGER,
        scored INTEGER,
        cached INTEGER,
        prompt_tokens INTEGER
    )""",
    # id DESC in the index so "newest first" pages are a plain index walk.
    "CREATE INDEX runs_by_session ON runs (session_id, created_at DESC, id DESC)",
    "CREATE INDEX runs_by_time ON runs (created_at DESC, id DESC)",
    # `position` is the document's place in the run's input; doc_id its label in that run.
    """
    CREATE TABLE run_documents (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        doc_id TEXT NOT NULL,
        path TEXT,
        document_hash TEXT NOT NULL REFERENCES documents(hash),
        score REAL,
        rank INTEGER,
        PRIMARY KEY (run_id, position),
        UNIQUE (run_id, doc_id)
    )""",
    "CREATE INDEX run_documents_by_document ON run_documents (document_hash)",
    # Keyed by the run's document position, not the chunk: one run may hold the same text twice.
    """
    CREATE TABLE chunk_scores (
        run_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        chunk_index INTEGER NOT NULL,
        chunk_id INTEGER NOT NULL REFERENCES chunks(id),
        tokens INTEGER NOT NULL,
        logit REAL NOT NULL,
        score REAL NOT NULL,
        rank INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        truncated INTEGER NOT NULL DEFAULT 0,
        cached INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, position, chunk_index),
        FOREIGN KEY (run_id, position) REFERENCES run_documents (run_id, position) ON DELETE CASCADE
    )""",
    "CREATE INDEX chunk_scores_by_chunk ON chunk_scores (chunk_id)",
    "CREATE INDEX chunk_scores_by_rank ON chunk_scores (run_id, rank)",
    """
    CREATE TABLE score_cache (
        fingerprint TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        logit REAL NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (fingerprint, prompt_hash)
    ) WITHOUT ROWID""",
    """
    CREATE TABLE instruction_presets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
)


def _v1_initial(db: Database) -> None:
    for statement in _V1_TABLES:
        db.execute(statement)
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    db["instruction_presets"].insert_all(
        ({"name": name, "text": text, "created_at": now} for name, text in DEFAULT_PRESETS),
        ignore=True,
    )


_V1_RUN_COLUMNS = (
    "id, session_id, created_at, finished_at, status, query, instruction, chunk_tokens, "
    "chunk_overlap, aggregate, top_k, model_id, model_kind, revision, dtype, quantization, device, "
    "attn_implementation, max_length, fallback, fallback_reason, model_choices, fingerprint, "
    "latency_s, first_result_s, pairs, scored, cached, prompt_tokens"
)


def _v2_interrupted_runs(db: Database) -> None:
    """Runs remember which process writes them, and may be 'interrupted' (that process died).

    SQLite cannot alter a CHECK constraint, so `runs` is rebuilt the documented way (create,
    copy, drop, rename); `migrate` runs steps with foreign keys off so the drop cascades nothing.
    The columns are written out again rather than derived from step 1: a step is history, and
    must create the same table however later code changes.
    """
    db.execute(
        """
        CREATE TABLE runs_v2 (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'done', 'cancelled', 'interrupted')),
            query TEXT NOT NULL,
            instruction TEXT NOT NULL,
            chunk_tokens INTEGER NOT NULL,
            chunk_overlap INTEGER NOT NULL,
            aggregate TEXT NOT NULL,
            top_k INTEGER NOT NULL,
            model_id TEXT NOT NULL,
            model_kind TEXT NOT NULL,
            revision TEXT,
            dtype TEXT NOT NULL,
            quantization TEXT NOT NULL,
            device TEXT NOT NULL,
            attn_implementation TEXT,
            max_length INTEGER NOT NULL,
            fallback INTEGER NOT NULL DEFAULT 0,
            fallback_reason TEXT,
            model_choices TEXT NOT NULL DEFAULT '[]',
            fingerprint TEXT NOT NULL DEFAULT '{}',
            latency_s REAL,
            first_result_s REAL,
            pairs INTEGER,
            scored INTEGER,
            cached INTEGER,
            prompt_tokens INTEGER,
            -- Who writes the run: pid, host, and a token of the process (boot id, pid namespace,
            -- start time on Linux) so a reused pid is not taken for the writer still running.
            writer_pid INTEGER,
            writer_host TEXT,
            writer_process TEXT
        )"""
    )
    db.execute(f"INSERT INTO runs_v2 ({_V1_RUN_COLUMNS}) SELECT {_V1_RUN_COLUMNS} FROM runs")
    db.execute("DROP TABLE runs")
    db.execute("ALTER TABLE runs_v2 RENAME TO runs")
    db.execute("CREATE INDEX runs_by_session ON runs (session_id, created_at DESC, id DESC)")
    db.execute("CREATE INDEX runs_by_time ON runs (created_at DESC, id DESC)")
    # Every listing looks for runs still 'running'; few are, so a partial index keeps that cheap.
    db.execute("CREATE INDEX runs_running ON runs (id) WHERE status = 'running'")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _v3_session_origin(db: Database) -> None:
    """Sessions remember what started them: 'app', 'score' or 'eval' (NULL: logged before this
    step). Each launch gets its own session, and the app restores the last one it wrote.

    Run lists show each run's best document: one row per run in a partial index, so finding it
    costs a probe, not a walk over the run's documents.
    """
    db.execute("ALTER TABLE sessions ADD COLUMN origin TEXT")
    db.execute("CREATE INDEX run_documents_top ON run_documents (run_id, position) WHERE rank = 1")


def _v4_relevance_labels(db: Database) -> None:
    """Relevance grades (0-3) a user gave to chunks or whole documents for a query.

    Keyed by the query text and the document's text hash, not its file name: a label follows the
    text wherever it is loaded from, and is reused whenever that query is scored again, in any
    session. A chunk is a character span; a whole document is the span (0, its length).
    """
    db.execute(
        """
        CREATE TABLE labels (
            query TEXT NOT NULL,
            document_hash TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            grade INTEGER NOT NULL CHECK (grade BETWEEN 0 AND 3),
            doc_id TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (query, document_hash, start, "end")
        ) WITHOUT ROWID"""
    )


def _v5_model_tokens(db: Database) -> None:
    """Tokens the model ran for a run: the prompt head every pair shares is computed once, so
    this is less than prompt_tokens and is what tokens/s counts (NULL: logged before this step)."""
    db.execute("ALTER TABLE runs ADD COLUMN model_tokens INTEGER")


def _v6_embedding_cache(db: Database) -> None:
    """Chunk embeddings of scorers whose per-text work does not depend on the query (the offline
    fallback), by model fingerprint and hash of the token ids: float32 little-endian bytes."""
    db.execute(
        """
        CREATE TABLE embedding_cache (
            fingerprint TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            vector BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (fingerprint, text_hash)
        ) WITHOUT ROWID"""
    )


SCHEMA_STEPS: list[Callable[[Database], None]] = [
    _v1_initial,
    _v2_interrupted_runs,
    _v3_session_origin,
    _v4_relevance_labels,
    _v5_model_tokens,
    _v6_embedding_cache,
]
# From this version on, runs carry writer_pid / writer_host / writer_process.
WRITER_COLUMNS_VERSION = 2
# From this version on, sessions carry origin.
SESSION_ORIGIN_VERSION = 3
# From this version on, runs carry model_tokens.
MODEL_TOKENS_VERSION = 5
