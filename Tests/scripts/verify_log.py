#!/usr/bin/env python3
"""Recomputes refex's disclosure-log hash chain independently of refex: each entry's hash is
SHA-256 of its RFC 8785 canonical JSON (for refex's entries, sorted keys, no whitespace, no
floats) and each prevHash is the previous hash. Prints a JSON summary.

  verify_log.py --export       reads `refex log export` (JSON lines, the whole log) on stdin, as an
                               auditor holding an export would: any store.
  verify_log.py STORE.db       reads a SQLite store file's rows, and also checks that each is kept
                               in canonical form and that its columns agree with it (SQLite only)."""
import hashlib, json, sys


def canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def from_export(lines):
    for line in lines:
        if not line.strip():
            continue
        document = json.loads(line)
        stored_hash = document.pop("hash", None)
        # An export shows an override's justification beside its digest, opened for the reader;
        # the entry hashed holds the digest alone.
        if "justificationDigest" in document:
            document.pop("justification", None)
        yield document.get("seq"), document.get("event"), canonical(document), stored_hash


def from_store(path):
    import sqlite3
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    for seq, event, entry, stored_hash in db.execute("SELECT seq, event, entry, hash FROM log_entries ORDER BY seq"):
        yield seq, event, bytes(entry), stored_hash


rows = from_export(sys.stdin) if sys.argv[1] == "--export" else from_store(sys.argv[1])
previous = "0" * 64
count = 0
problems = []
events = {}
for seq, event, entry, stored_hash in rows:
    count += 1
    document = json.loads(entry)
    if canonical(document) != entry:
        problems.append(f"{seq}: not canonical")
    if hashlib.sha256(canonical(document)).hexdigest() != stored_hash:
        problems.append(f"{seq}: hash mismatch")
    if document.get("prevHash") != previous:
        problems.append(f"{seq}: prevHash does not match entry {seq - 1}")
    if document.get("seq") != seq or document.get("event") != event:
        problems.append(f"{seq}: columns disagree with the entry")
    previous = stored_hash
    events[event] = events.get(event, 0) + 1
print(json.dumps({"count": count, "problems": problems, "events": events}))
