#!/usr/bin/env python3
"""Build sample_data/docs/zz_handbook_long.md, a very long document with one needle in the middle.

The handbook is assembled deterministically (no randomness, no network, stdlib only) from:

* handbook sections written in this file (HANDBOOK_SECTIONS), and
* level-2 sections reused from some of the other sample documents, under new headings
  (REUSED_SOURCES; sections that answer a query in queries.jsonl are skipped, so that the
  handbook never duplicates another document's answer),

cycled through several "volumes" with different section numbers until the text passes
TARGET_WORDS words. Exactly one section, NEEDLE, is unique: the procedure for rotating the
backup encryption key. It is inserted in the middle of the section list.

Usage:  python sample_data/generate_long.py            (writes the file)
        python sample_data/generate_long.py --check    (exit 1 if the file on disk is stale)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "docs"
OUT = DOCS / "zz_handbook_long.md"

TARGET_WORDS = 40_000  # about 50k+ tokens for a Qwen-style BPE tokenizer

VOLUME_NAMES = [
    "Core Practices",
    "Operating the Platform",
    "Reference Edition",
    "Regional Annex: Harbour Street",
    "Field Copy for On-Call Engineers",
    "Archive Edition",
]

# ---------------------------------------------------------------------------------------------
# Handbook sections written for this document.
# ---------------------------------------------------------------------------------------------

HANDBOOK_SECTIONS: list[tuple[str, str]] = [
    (
        "How to Use This Handbook",
        """\
This handbook collects the working practices of the Platform Operations group. It is meant to be
read in pieces, not cover to cover. Each section stands on its own and says who it applies to.
When a section conflicts with a policy document, the policy wins and the section should be
corrected; open a ticket in the handbook queue and mention the section number.

Sections are numbered by volume and position. Numbers change when the handbook is reorganised,
so link to sections by their title rather than by number. Older volumes are kept for reference
and may describe tools that have since been replaced; the current volume is always the one with
the highest revision number on its cover page.

Three conventions are used throughout:

- Commands are shown in code blocks and can be copied as they are, unless they contain a value
  in angle brackets, such as `<ticket>`, which you must replace.
- "Must" means a requirement that is audited. "Should" means the default that needs a reason to
  depart from. "May" means a choice left to you.
- A section marked "owner" names the team that keeps it accurate. Ask that team, not the
  handbook editors, about the content.

If you are new, start with the sections on on-call expectations, incident severity levels and
access requests. Everything else can wait until you need it.""",
    ),
    (
        "On-Call Expectations",
        """\
Every engineer in Platform Operations joins the on-call rotation after completing the shadowing
programme, which normally takes two rotations. A primary and a secondary are on call at all
times. Shifts last one week and hand over on Tuesday at 11:00 local time, so that the handover
never falls on a Monday after a weekend or just before a holiday.

While on call you must:

- Acknowledge pages within five minutes, day or night.
- Be able to reach a laptop with working access within fifteen minutes.
- Stay sober enough to make sound decisions, and within mobile coverage.
- Hand over open incidents and noisy alerts in writing at the end of the shift.

You should not be expected to do project work during a busy on-call week. If the pager fires
more than twice in a night, you may start late the next day; tell your manager, who will cover
your meetings. If you are woken more than three nights in one week, raise it at the weekly
operations review: the alerts, not the engineer, are the problem.

Swaps are arranged between engineers and recorded in the scheduling tool at least 24 hours in
advance. For illness or emergencies, page the secondary and your manager; nobody is expected to
find their own replacement while unwell.

On-call is compensated according to the regional allowance table, which is published by People
Operations and reviewed each year.""",
    ),
    (
        "Incident Severity Levels",
        """\
Severity describes impact, not cause or effort. Assign the highest level that matches, and
lower it later if the impact turns out to be smaller. It is always acceptable to over-declare.

| Level | Meaning | Examples | Response |
|---|---|---|---|
| SEV-1 | Critical customer impact | Checkout down, data loss, security breach in progress | Page incident commander; status page within 15 minutes |
| SEV-2 | Significant degradation | One region slow, a major feature unavailable | Incident channel; status page if customers notice |
| SEV-3 | Minor or internal impact | A batch job delayed, a single tenant affected | Handled by on-call during working hours |
| SEV-4 | No current impact | A near miss, a risk discovered | Ticket and review |

A SEV-1 or SEV-2 always gets a written postmortem within five working days. A SEV-3 gets one if
the on-call engineer or the service owner thinks there is something to learn. Postmortems are
blameless: they describe what people knew and why their decisions made sense at the time, and
they focus on making the system safer.

Severity can change during an incident. When it does, the incident commander announces the
change in the incident channel and updates the incident record, so that the timeline shows
when the impact was understood.""",
    ),
    (
        "Incident Roles",
        """\
Large incidents go better when a few roles are made explicit. In a SEV-1 or SEV-2, the first
responder takes the incident commander role until they hand it over, out loud, in the channel.

**Incident commander.** Coordinates the response and makes decisions when the group is stuck.
The commander does not debug. They keep track of who is doing what, ask for status at regular
intervals, and decide when to escalate or bring in more people.

**Operations lead.** Does or directs the technical work on the affected systems. In a large
incident there may be several, one per workstream, each reporting to the commander.

**Scribe.** Keeps a running timeline in the incident document: what was observed, what was
tried, what was decided and by whom. A good timeline is the single most useful input to the
postmortem.

**Communications lead.** Writes status page updates and keeps support and account managers
informed. Updates go out at least every thirty minutes during a SEV-1, even when there is
nothing new to say; "we are still investigating" is an update.

Roles can be combined in a small incident, but the commander and operations lead should be
different people whenever possible. It is very hard to keep an overview while reading logs.

When the incident ends, the commander declares it resolved, names an owner for the postmortem,
and thanks the people involved.""",
    ),
    (
        "Change Management and Deploy Windows",
        """\
Most changes are deployed through the pipeline without a separate approval, because the
pipeline itself enforces review, tests and progressive rollout. A change needs a change ticket
when it cannot go through the pipeline: manual database operations, network changes, key and
certificate operations, and anything touching more than one region at once.

Change tickets must state what will be done, how it will be verified, how it will be rolled
back, and who will do it. High-risk changes need approval from a second engineer who is familiar
with the system. The approver checks the rollback plan first: a change without a tested way
back is not ready.

Deploy windows:

- Normal deploys may happen at any time on working days between 09:00 and 16:00 local time.
- No deploys on Friday after 13:00, on the day before a public holiday, or during a declared
  freeze, except for fixes to active incidents.
- Freezes are announced two weeks in advance, typically around major sales events and the end
  of the financial year.

Every change, manual or automated, is logged with its ticket or pull request reference in the
change calendar. When an incident starts, the first question is always "what changed?", and the
calendar should answer it within a minute.""",
    ),
    (
        "Access Requests and Least Privilege",
        """\
Access to production systems is granted through the access portal, never by sharing
credentials or adding people to groups by hand. Every grant has an owner, a reason and an expiry.

Standing access is kept to the minimum. Most engineers have read-only access to dashboards and
logs, and request elevated access when they need it. Elevated access is granted for a maximum of
eight hours, requires a ticket reference, and is logged. On-call engineers receive elevated
access to their services automatically for the duration of their shift.

Break-glass accounts exist for emergencies in which the normal access path is broken. Using one
pages Infrastructure Security, who will contact you to confirm the reason. This is not an
accusation; it is how we make sure the account was used by the person we think it was.

Access is reviewed quarterly. Managers receive a list of their reports' grants and must confirm
or revoke each one. Grants that are not confirmed within two weeks are revoked automatically.

When someone changes teams, their old access is removed on the day of the move and new access is
requested by their new manager. When someone leaves, all access is revoked by the end of their
last working day.""",
    ),
    (
        "Laptop Setup and Disk Encryption",
        """\
Company laptops are enrolled in device management before they are handed over. Enrolment
installs the endpoint agent, configures the firewall, enforces automatic updates and turns on
full-disk encryption.

The disk encryption recovery key for each laptop is escrowed in the device management service
when encryption is first enabled. If you forget your password, the service desk can retrieve the
recovery key after verifying your identity by video call. Recovery keys are regenerated
automatically after each use, so a key read out over the phone is never valid for long.

You must not disable encryption, the endpoint agent or automatic updates, and you must not store
company data on personal devices. Use the managed backup client for your documents; it runs
continuously when you are online and keeps thirty days of versions.

If a laptop is lost or stolen, report it to the service desk immediately, day or night. The
service desk will lock and remotely wipe the device. Because the disk is encrypted, the data on
it is protected even before the wipe, but report it anyway: access tokens stored on the laptop
must be revoked.

Laptops are replaced every four years, or sooner if they fail. Return the old laptop to the
service desk; do not wipe it yourself, as the desk needs to record its serial number and run a
certified erase.""",
    ),
    (
        "Renewing TLS Certificates",
        """\
Public TLS certificates are issued automatically by the certificate manager and renewed thirty
days before they expire. You should never need to renew one by hand. The certificate manager
pages Platform Networking if a renewal fails three times in a row, which leaves about four weeks
to fix the problem.

Internal certificates for service-to-service traffic are issued by the internal certificate
authority with a lifetime of seven days and rotated automatically by the service mesh sidecar.
Services that do not use the mesh must load certificates from the path provided by the sidecar
and reload them when the file changes. A service that reads its certificate only at startup will
fail within a week of its last restart, a mistake that has caused several incidents.

Certificates that cannot be automated, for example for legacy partners who pin certificates,
are tracked in the certificate register with an owner and an expiry date. The owner receives
reminders ninety, sixty and thirty days before expiry.

To check a certificate's expiry from the command line:

```
echo | openssl s_client -connect <host>:443 -servername <host> 2>/dev/null \\
  | openssl x509 -noout -enddate
```

Private keys for certificates never leave the systems that use them, and must never be pasted
into tickets or chat. If a private key is exposed, treat it as a security incident: revoke the
certificate and issue a new one with a new key.""",
    ),
    (
        "Rotating Application Database Passwords",
        """\
Application credentials for databases are issued by the secrets service as short-lived,
dynamically generated users. Services request a credential at startup and renew it while they
run; the secrets service revokes it when its lease ends. In normal operation, nobody rotates
these passwords, because they rotate themselves.

A few older services still use static database passwords stored in the secrets service. These
must be rotated every ninety days. The rotation uses two users per service, so that there is
never a moment without a valid password:

1. Set a new password on the inactive user of the pair.
2. Update the secret to point at the inactive user with its new password.
3. Restart or reload the service, and confirm from the database's connection view that it is
   connected as the newly activated user.
4. After one day, lock the previously active user. It becomes the inactive user for the next
   rotation.

If a password has been exposed, skip the one-day wait: lock the exposed user as soon as the
service has moved to the other one.

Migrating a service from static passwords to dynamic credentials removes this chore entirely
and is the preferred fix. The database reliability team keeps a list of remaining static users
and helps owners migrate.""",
    ),
    (
        "Restore Drills",
        """\
Backups exist to be restored, so we practise restoring them. The restore drill schedule follows
the backup policy: weekly automated restores for Tier 1 data, quarterly manual point-in-time
recovery exercises for Tier 1, and quarterly restores for Tier 2.

An automated restore takes the latest backup, restores it into an isolated account with no
network path to production, runs consistency checks, compares row counts and checksums of
selected tables with production, and reports the result to the restore test register. A failed
automated restore opens a SEV-3 incident for the owning team.

A manual exercise is run by a pair of engineers who have not run the previous one, so that the
knowledge spreads. They pick a random point in time within the retention window, restore to it,
and time each step. At the end, they compare the total with the recovery time objective and
update the restore procedure with anything that was unclear or slow.

Common findings from past drills:

- Restores were slower than expected because the isolated account had a lower storage
  throughput limit than production.
- Documentation referred to a tool flag that had been renamed.
- Nobody on the rota had permission to read the backup bucket until the break-glass role was
  used.

Each finding becomes a ticket. Drills that surface nothing are suspicious; the next drill should
try a harder scenario.""",
    ),
    (
        "Monitoring and Alert Design",
        """\
An alert must be actionable, urgent and real. If the person receiving it cannot do anything
about it, or it could wait until the morning, or it often fires without a real problem, it
should not page.

Guidelines for new alerts:

- Alert on symptoms that users feel, such as error rates and latency, before causes such as
  CPU usage. Cause-based alerts belong on dashboards unless they predict a symptom reliably.
- Every paging alert links to a runbook section. An alert without a runbook does not go live.
- Alert text names the service, host, region and, for disk alerts, the mount point. "Disk 91%"
  is not enough.
- Use rate-of-change alerts for resources that fill up, such as disks, queues and connection
  pools, so that slow growth is noticed days in advance.
- Separate warnings, which go to a team channel, from pages, which wake someone up. Review the
  warnings channel weekly; warnings that nobody acts on should be deleted or promoted.

Each team reviews its alerts monthly: how many fired, how many were actionable, and how many
were noise. Alerts with a poor signal-to-noise ratio are tuned or removed. The goal is that a
page always means something is wrong.""",
    ),
    (
        "Code Review Guidelines",
        """\
Every change to production code and configuration is reviewed by at least one other engineer.
Review is a conversation between colleagues, not a gate kept by a senior.

As an author:

- Keep changes small. A pull request that can be reviewed in twenty minutes gets a better review
  than one that takes two hours.
- Explain why, not just what. The description should say what problem the change solves and
  how you tested it.
- Point out the parts you are unsure about.

As a reviewer:

- Review within one working day, or say when you will.
- Distinguish between blocking concerns and suggestions. Prefix optional comments with "nit:"
  or "optional:".
- Check the tests, the rollback path and the observability of the change, not only the code
  style, which linters handle.
- Approve when the change is good enough, not when it is how you would have written it.

Disagreements that cannot be settled in the pull request are settled in a short call, and the
outcome is written back into the thread. If two engineers still disagree, the team lead decides;
that is fine and not a defeat for anyone.""",
    ),
    (
        "Working With Vendors",
        """\
Third-party services are part of our production system, and their outages are our outages.
Before adopting a new vendor that will handle customer data or sit in a critical path, the
owning team completes the vendor assessment with Infrastructure Security and Legal.

The assessment covers:

- What data the vendor will receive, and whether it can be minimised or pseudonymised.
- The vendor's security certifications and their most recent audit report.
- Their availability commitments, support hours and escalation path.
- How we would detect a failure at the vendor and what our service does when the vendor is down.
- How we would leave: exporting our data and replacing the vendor if needed.

Vendor credentials, such as API keys, are stored in the secrets service, owned by a team rather
than a person, and rotated according to the vendor's capabilities, at least once a year.

Each critical vendor has a named internal owner who reads their status page announcements,
attends their maintenance notifications, and keeps the vendor entry in the service catalogue up
to date. When a vendor incident affects us, we open our own incident record, even if there is
nothing we can do except communicate.""",
    ),
    (
        "Travel and Expenses",
        """\
Book travel through the travel portal, which applies the travel policy automatically and keeps
track of where everyone is in case of an emergency. Flights under six hours are booked in
economy; longer flights may be booked in premium economy. Rail is preferred over flying for
journeys under four hours.

Expenses are submitted in the expense tool within thirty days, with a photo of each receipt.
Meals while travelling are reimbursed up to the daily allowance for the destination city, which
the tool shows when you enter the location. Alcohol is not reimbursed, except at team events
approved in advance by a director.

Equipment for working from home, such as a chair, a monitor or a headset, can be bought up to the
annual home office allowance without prior approval. Anything more expensive needs your
manager's approval before purchase.

On-call engineers may expense a mobile data add-on if their personal plan does not cover
tethering, and a taxi home after a night-time incident that kept them in the office.

If you are unsure whether something is reimbursable, ask before you spend, not afterwards. The
finance team would much rather answer a question than reject a claim.""",
    ),
    (
        "Glossary of Operations Terms",
        """\
- **Blast radius:** The set of users or systems a change or failure can affect.
- **Break-glass role:** An emergency access path that bypasses normal approval and pages
  Infrastructure Security when used.
- **Canary:** A small share of traffic or hosts that receives a change first, to detect problems
  before a full rollout.
- **Error budget:** The amount of unreliability a service may have in a period, derived from its
  service level objective. When it is used up, reliability work takes priority.
- **Freeze:** A period in which only incident fixes may be deployed.
- **Point-in-time recovery:** Restoring a database to its state at a chosen moment, using a full
  backup plus archived write-ahead log.
- **Recovery point objective (RPO):** How much data, measured in time, we can afford to lose.
- **Recovery time objective (RTO):** How long restoring a service may take.
- **Runbook:** Step-by-step instructions for responding to an alert or carrying out a task.
- **Toil:** Manual, repetitive operational work that scales with the size of the system and
  could be automated.
- **Wrapped key:** A data key encrypted with another key, so that the data key can be stored
  alongside the data it protects.""",
    ),
]

# ---------------------------------------------------------------------------------------------
# The needle: appears exactly once, in the middle of the handbook.
# ---------------------------------------------------------------------------------------------

NEEDLE: tuple[str, str] = (
    "Rotating the Backup Encryption Key",
    """\
**Owner:** Infrastructure Security. **Applies to:** the backup platform in all regions.

The backup encryption key, `backup-master`, wraps the data keys of every backup we hold. It is
rotated once a year in March, and immediately if there is any suspicion that it has been
exposed. Rotation creates a new key version and re-wraps every existing data key with it. The
backup data itself is not re-encrypted, which is why the procedure takes hours rather than weeks.
The old key version is kept, disabled, until the oldest backup it ever protected has expired.

**Before you start.** Open a change ticket of type `KEY-ROTATION`. It must be approved by two
members of Infrastructure Security, and the rotation must be carried out by a third person while
one of the approvers watches on a shared screen. Check that no restore drill is scheduled during
the window.

**Procedure.**

1. Pause all backup schedules, so that no new backups are written during the rotation:
   `bkctl schedules pause --all --reason <ticket>`.
2. Create the new key version in the primary region, then in the secondary region:
   `kmsctl key create-version backup-master --region primary` and
   `kmsctl key create-version backup-master --region secondary`. Note both version numbers in
   the ticket.
3. Re-wrap the existing data keys with the new version. Run
   `bkctl key rotate --key backup-master --to-version <new> --rewrap-only` in each region.
   The command is resumable; if it stops, run it again with the same arguments.
4. Verify the rotation: `bkctl key verify --key backup-master --sample 50` must report zero data
   keys still wrapped by the old version. Then restore one Tier 1 backup and one Tier 2 backup
   to the isolated restore account and check their checksums.
5. Resume the schedules with `bkctl schedules resume --all` and confirm that the next backup in
   each region completes and is wrapped by the new version.
6. Disable, but do not destroy, the old key version: `kmsctl key disable-version backup-master
   --version <old>`. Schedule its destruction for 400 days later, which is beyond the longest
   retention period of thirteen months, and record the date in the ticket.
7. Close the ticket with the verification output attached. Infrastructure Security reviews it at
   the next quarterly key review.

**If something goes wrong.** Do not disable the old version until step 4 has passed. As long as
the old version is enabled, every backup remains restorable, whatever state the rotation is in.
If re-wrapping fails repeatedly, resume the schedules, leave both versions enabled, and escalate
to the Infrastructure Security on-call.""",
)

# ---------------------------------------------------------------------------------------------
# Sections reused from the other sample documents, under new headings.
# Sections that answer a query in queries.jsonl are skipped, so the handbook does not duplicate
# another document's answer (queries_check.py enforces this).
# ---------------------------------------------------------------------------------------------

REUSED_SOURCES: list[tuple[str, str, set[str]]] = [
    # (file name, new heading prefix, titles of level-2 sections to skip)
    (
        "sre_runbook_disk_full.md",
        "Runbook Excerpt: Disk Full",
        {
            "Step 3: Check for Deleted Files Still Held Open",
            "Step 7: Database Hosts",
            "Reference: Useful Commands",
        },
    ),
    (
        "postmortem_orders_db_outage.md",
        "Case Study: Orders Database Outage",
        {"1. Summary", "5. Root Cause"},
    ),
    (
        "sqlite_wal_mode_tutorial.md",
        "Engineering Notes: SQLite",
        {"6. Why the WAL File Keeps Growing"},
    ),
    (
        "faq_home_wifi.md",
        "Working From Home: Network",
        {"Interference and dropouts"},
    ),
    (
        "espresso_home_tuning_guide.md",
        "Office Kitchen: The Espresso Machine",
        {"8. Reading the Taste: Sour, Bitter, or Both"},
    ),
]


def split_sections(text: str) -> list[tuple[str, str]]:
    """Level-2 sections of a markdown text as (title, body); the text before the first is dropped."""
    sections: list[tuple[str, str]] = []
    title: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            if title is not None:
                sections.append((title, "\n".join(lines).strip()))
            title, lines = line[3:].strip(), []
        elif title is not None:
            lines.append(line)
    if title is not None:
        sections.append((title, "\n".join(lines).strip()))
    return sections


def demote(body: str) -> str:
    """Push headings inside a reused body one level down, so they nest under the new heading."""
    return re.sub(r"^(#{3,5}) ", lambda m: "#" + m.group(1) + " ", body, flags=re.M)


def strip_number(title: str) -> str:
    return re.sub(r"^\d+(\.\d+)*\.?\s+", "", title)


def reused_sections() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, prefix, skip in REUSED_SOURCES:
        text = (DOCS / name).read_text(encoding="utf-8")
        found = split_sections(text)
        missing = skip - {t for t, _ in found}
        if missing:
            raise SystemExit(f"{name}: sections to skip not found: {sorted(missing)}")
        for title, body in found:
            if title in skip:
                continue
            out.append((f"{prefix} — {strip_number(title)}", demote(body)))
    return out


def words(text: str) -> int:
    return len(text.split())


def interleave(a: list, b: list) -> list:
    """Deterministically merge two lists, spreading the shorter one evenly through the longer."""
    if len(a) < len(b):
        a, b = b, a
    out, j = [], 0
    for i, item in enumerate(a):
        out.append(item)
        while j < len(b) and (j + 1) * len(a) <= (i + 1) * len(b):
            out.append(b[j])
            j += 1
    out.extend(b[j:])
    return out


def build() -> str:
    own = HANDBOOK_SECTIONS
    reused = reused_sections()
    base = interleave(own, reused)

    # Cycle the section pool through volumes, rotating the order each time, until the target.
    plan: list[tuple[int, str, str]] = []  # (volume, title, body)
    total = 0
    volume = 0
    while total < TARGET_WORDS:
        volume += 1
        shift = (volume - 1) * 7 % len(base)
        for title, body in base[shift:] + base[:shift]:
            plan.append((volume, title, body))
            total += words(body)
            if total >= TARGET_WORDS:
                break

    # The needle goes in the middle of the plan, in the volume of its neighbour.
    mid = len(plan) // 2
    plan.insert(mid, (plan[mid][0], NEEDLE[0], NEEDLE[1]))

    parts = [
        "# Platform Operations Handbook",
        "",
        "_Harbour Street edition. Generated by `sample_data/generate_long.py`; do not edit by hand._",
        "",
        "This handbook gathers operating practices, runbook excerpts, case studies and reference",
        "notes for the Platform Operations group. It is long by design: use the search in your",
        "editor, or the table of volumes below, to find what you need.",
        "",
        "## Volumes",
        "",
    ]
    volumes = sorted({v for v, _, _ in plan})
    for v in volumes:
        parts.append(f"- Volume {v}: {VOLUME_NAMES[(v - 1) % len(VOLUME_NAMES)]}")
    parts.append("")

    current = 0
    number = 0
    for v, title, body in plan:
        if v != current:
            current, number = v, 0
            revision = f"{v + 2}.{(v * 3) % 10}"
            parts += [
                f"# Volume {v}: {VOLUME_NAMES[(v - 1) % len(VOLUME_NAMES)]}",
                "",
                f"_Revision {revision}. Sections in this volume are numbered {v}.1 onwards._",
                "",
            ]
        number += 1
        parts += [f"## {v}.{number} {title}", "", body, ""]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = build()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is stale; run: python {Path(__file__).name}")
            return 1
        print(f"{OUT.name} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    needle_at = text.index("## ", text.index(NEEDLE[0]) - 20)
    print(
        f"wrote {OUT.relative_to(HERE.parent)}: {words(text):,} words, {len(text.encode()):,} bytes; "
        f"needle '{NEEDLE[0]}' at character {needle_at:,} of {len(text):,} "
        f"({needle_at / len(text):.0%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
