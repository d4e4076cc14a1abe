#!/usr/bin/env python3
"""Prunes a stopped SQLite store's disclosure log as retention would have, days ago.

usage: prune_log.py STORE.db SIGNING-KEY.pem DAYS

Finds the longest run of entries at the start of the log that name no referral, subject or
disclosure (readings of the log), signs a checkpoint at its last entry dated DAYS ago with the
log's Ed25519 key (openssl), records the anchor and deletes the entries up to it: a log pruned at
a signed checkpoint older than the retention period, as refex retention leaves one. Prints the
seq pruned through.
"""
import json, os, sqlite3, subprocess, sys, tempfile, time

store, key, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(store)
through = None
for seq, referral, subject, disclosure in db.execute(
        "SELECT seq, referral_id, subject_id, disclosure_id FROM log_entries ORDER BY seq"):
    if referral or subject or disclosure:
        break
    through = seq
if through is None:
    sys.exit("the log starts with an entry naming a row: nothing to prune")
(hash_,) = db.execute("SELECT hash FROM log_entries WHERE seq = ?", (through,)).fetchone()
ms = int(time.time() * 1000) - days * 86_400_000
stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
message = json.dumps({"hash": hash_, "seq": through, "time": stamp, "type": "refex.log.checkpoint.v1"},
                     separators=(",", ":"), sort_keys=True).encode()
with tempfile.TemporaryDirectory() as folder:
    with open(os.path.join(folder, "m"), "wb") as f:
        f.write(message)
    subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", os.path.join(folder, "m"),
                    "-out", os.path.join(folder, "s")], check=True)
    signature = open(os.path.join(folder, "s"), "rb").read()
(key_id,) = db.execute("SELECT key_id FROM checkpoints LIMIT 1").fetchone()
db.execute("DELETE FROM checkpoints WHERE seq <= ?", (through,))
db.execute("INSERT INTO checkpoints (seq, hash, time, signature, key_id) VALUES (?, ?, ?, ?, ?)",
           (through, hash_, ms, signature, key_id))
db.execute("INSERT INTO log_anchor (id, seq, hash) VALUES (1, ?, ?)", (through, hash_))
db.execute("DELETE FROM log_entries WHERE seq <= ?", (through,))
db.commit()
db.close()
print(through)
