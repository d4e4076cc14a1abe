#!/usr/bin/env python3
"""Recomputes refex's disclosure-log hash chain from a store file, independently of refex:
each entry's hash is SHA-256 of its RFC 8785 canonical JSON (for refex's entries, sorted keys,
no whitespace, no floats) and each prevHash is the previous hash. Prints a JSON summary."""
import hashlib, json, sqlite3, sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
previous = "0" * 64
count = 0
problems = []
events = {}
for seq, event, entry, stored_hash in db.execute("SELECT seq, event, entry, hash FROM log_entries ORDER BY seq"):
    count += 1
    document = json.loads(entry)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if canonical != bytes(entry):
        problems.append(f"{seq}: not canonical")
    if hashlib.sha256(canonical).hexdigest() != stored_hash:
        problems.append(f"{seq}: hash mismatch")
    if document.get("prevHash") != previous:
        problems.append(f"{seq}: prevHash does not match entry {seq - 1}")
    if document.get("seq") != seq or document.get("event") != event:
        problems.append(f"{seq}: columns disagree with the entry")
    previous = stored_hash
    events[event] = events.get(event, 0) + 1
print(json.dumps({"count": count, "problems": problems, "events": events}))
