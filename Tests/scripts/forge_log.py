#!/usr/bin/env python3
"""What an attacker who can write a store file (but has no signing key) can do to the disclosure
log, for the verification tests: rewrite one entry's content and recompute the hash chain after
it, the stored checkpoints' hashes too, so that only signatures and kept checkpoints can tell.

  forge_log.py STORE SEQ OLD NEW    replace the text OLD by NEW in entry SEQ, then re-chain
"""
import hashlib, json, sqlite3, sys

store, seq, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
db = sqlite3.connect(store)
rows = db.execute("SELECT seq, entry, hash FROM log_entries WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
previous = db.execute("SELECT hash FROM log_entries WHERE seq = ?", (seq - 1,)).fetchone()
previous = previous[0] if previous else "0" * 64
for number, entry, _ in rows:
    document = json.loads(bytes(entry))
    if number == seq:
        document = json.loads(bytes(entry).decode().replace(old, new))
    document["prevHash"] = previous
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hashlib.sha256(canonical).hexdigest()
    db.execute("UPDATE log_entries SET entry = ?, hash = ?, actor = ?, event = ? WHERE seq = ?",
               (canonical, digest, document["actor"], document["event"], number))
    previous = digest
db.execute("UPDATE checkpoints SET hash = (SELECT hash FROM log_entries WHERE log_entries.seq = checkpoints.seq) "
           "WHERE seq IN (SELECT seq FROM log_entries)")
db.commit()
print(json.dumps({"rechained": len(rows)}))
