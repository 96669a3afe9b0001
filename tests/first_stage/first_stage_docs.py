"""The small corpus the first-stage tests share (importable: tests/first_stage is on sys.path)."""

DOCS = {
    "espresso.md": "Espresso needs a fine grind. Grind finer when shots run fast and taste sour.\n\n"
                   "Tamping evenly matters more than tamping hard. Preheat the portafilter.\n",
    "mars.md": "The Spirit rover got stuck in soft soil at Troy. Opportunity drove for fourteen years "
               "until a dust storm covered its solar panels.\n",
    "backups.txt": "Backups are kept for thirty days. The encryption key rotates every quarter, "
                   "and restores are tested monthly on a spare server.\n",
    "parking.txt": "Visitors park on level two of the garage. On Saturday the visitor parking gate "
                   "opens with the code from reception.\n",
}
