#!/usr/bin/env python3
"""Appends COUNT realistic entries to a refex store's disclosure log, continuing its hash chain
exactly as refex does (SHA-256 of the RFC 8785 form; for these entries: sorted keys, no
whitespace), with the rows they record (subjects, one referral, consent and delivered disclosure
per four entries; `log verify` checks the log against them). BODY_BYTES (default 0) gives each
referral a sealed body of that many random bytes, for a store of realistic size. For
verification tests, the log benchmark and the integrity-check timing; run it while refex is stopped.

usage: fill_log.py STORE COUNT [SUBJECTS] [BODY_BYTES]"""
import hashlib, json, os, sqlite3, sys, uuid, time

store, count = sys.argv[1], int(sys.argv[2])
subjects = [str(uuid.UUID(int=i + 1)) for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 1000)]
body_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 0
db = sqlite3.connect(store)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
now_ms = int(time.time() * 1000)
db.executemany("INSERT OR IGNORE INTO subjects (id, created_at) VALUES (?, ?)", [(s, now_ms - count * 10) for s in subjects])
rows = {"referrals": [], "consents": [], "disclosures": []}
def flush_rows():
    db.executemany("INSERT INTO referrals (id, partner_id, reference_key, subject_id, schema_id, body_digest, sealed_body, received_at, receipt) VALUES (?,?,?,?,?,?,?,?,?)", rows["referrals"])
    db.executemany("INSERT INTO consents (id, subject_id, referral_id, partner_id, purposes, method, obtained_at, recorded_at) VALUES (?,?,?,?,?,?,?,?)", rows["consents"])
    db.executemany("INSERT INTO disclosures (id, referral_id, subject_id, recipient_id, service, state, lawful_basis, consent_id, actor, pointers, categories, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows["disclosures"])
    for table in rows: rows[table] = []
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
    consent = str(uuid.UUID(int=(i // 4) + 10**14))
    if event == "referral.received":
        rows["referrals"].append((referral, "police", hashlib.sha256(referral.encode()).digest(), subject, "urn:refex:schema:referral:1",
                                  hashlib.sha256(b"body" + referral.encode()).digest(), os.urandom(body_bytes) if body_bytes else None, ms, b"{}"))
    elif event == "consent.recorded":
        entry["consentId"] = consent
        rows["consents"].append((consent, subject, referral, "police", '["domestic-abuse"]', "written", ms, ms))
    elif event == "disclosure.authorised":
        rows["disclosures"].append((str(uuid.UUID(int=(i // 4) + 10**13)), referral, subject, "dv-support", "domestic-abuse", "delivered",
                                    "consent", consent, "police", "[]", "[]", ms, ms + 10))
    if event.startswith("disclosure."):
        disclosure = str(uuid.UUID(int=(i // 4) + 10**13))
        recipient, basis = "dv-support", "consent"
        entry.update({"disclosureId": disclosure, "recipient": recipient, "service": "domestic-abuse", "lawfulBasis": basis,
                      "consentId": consent,
                      "pointers": ["/subject/name/family", "/subject/contact/phone/number", "/offence/category"], "categories": []})
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hashlib.sha256(canonical).hexdigest()
    batch.append((seq, ms, event, "police", referral, subject, disclosure, recipient, basis, canonical, digest))
    previous = digest
    if len(batch) == 10000:
        flush_rows()
        db.executemany("INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
        batch = []
flush_rows()
if batch:
    db.executemany("INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(json.dumps({"lastSeq": seq, "subjects": len(subjects)}))
