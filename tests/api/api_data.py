"""Texts the API tests rank (importable: tests/api is on sys.path)."""

QUERY = "how long are backups kept"
DOCS = [
    "Backups are kept for thirty days and then deleted. Restores take an hour. " * 3,
    "The cafeteria opens at nine and serves soup on Fridays.",
    "Retention: nightly snapshots are stored for one year in cold storage, then erased. " * 2,
    "Passwords expire after ninety days; the helpdesk resets them.",
]
