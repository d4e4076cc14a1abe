#!/usr/bin/env python3
"""Appends COUNT realistic entries to a refex store's disclosure log, continuing its hash chain
exactly as refex does (SHA-256 of the RFC 8785 form; for these entries: sorted keys, no
whitespace). For verification tests and the log benchmark; run it while refex is stopped.

usage: fill_log.py STORE COUNT [SUBJECTS]"""
import hashlib, json, sqlite3, sys, uuid, time

store, count = sys.argv[1], int(sys.argv[2])
subjects = [str(uuid.UUID(int=i + 1)) for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 1000)]
db = sqlite3.connect(store)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
row = db.execute("SELECT seq, hash FROM log_entries ORDER BY seq DESC LIMIT 1").fetchone()
seq, previous = (row[0], row[1]) if row else (0, "0" * 64)
start_ms = int(time.time() * 1000) - count * 10
events = ["referral.received", "consent.recorded", "disclosure.authorised", "disclosure.delivered"]
batch = []
for i in range(count):
    seq += 1
    subject = subjects[i % len(subjects)]
    referral = str(uuid.UUID(int=(i // 4) + 10**12))
    event = events[i % 4]
    ms = start_ms + i * 10
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
    entry = {"seq": seq, "time": t, "event": event, "actor": "police", "referralId": referral, "subjectId": subject, "prevHash": previous}
    recipient = basis = disclosure = None
    if event.startswith("disclosure."):
        disclosure = str(uuid.UUID(int=(i // 4) + 10**13))
        recipient, basis = "dv-support", "consent"
        entry.update({"disclosureId": disclosure, "recipient": recipient, "service": "domestic-abuse", "lawfulBasis": basis,
                      "consentId": str(uuid.UUID(int=(i // 4) + 10**14)),
                      "pointers": ["/subject/name/family", "/subject/contact/phone/number", "/offence/category"], "categories": []})
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hashlib.sha256(canonical).hexdigest()
    batch.append((seq, ms, event, "police", referral, subject, disclosure, recipient, basis, canonical, digest))
    previous = digest
    if len(batch) == 10000:
        db.executemany("INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
        batch = []
if batch:
    db.executemany("INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(json.dumps({"lastSeq": seq, "subjects": len(subjects)}))
