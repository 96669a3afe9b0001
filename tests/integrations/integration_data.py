"""Texts the adapter tests retrieve and rerank (importable: tests/integrations is on sys.path)."""

QUERY = "how long are backups kept"
TEXTS = [
    "Backups are kept for thirty days and then deleted. Restores take an hour. " * 3,
    "The cafeteria opens at nine and serves soup on Fridays.",
    "Retention: nightly snapshots are stored for one year in cold storage, then erased. " * 2,
    "Passwords expire after ninety days; the helpdesk resets them.",
    "Backup tapes leave the building every week and are kept in a vault.",
    "Our office plants are watered on Mondays.",
]
