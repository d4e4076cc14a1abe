#!/usr/bin/env python3
"""Rewrites a refex store's disclosure log as an attacker who can write the file would: deletes the
entries WHERE selects (and every checkpoint), optionally adds a raw member to one entry's text, then
renumbers the entries and recomputes every prevHash and hash, so that the chain itself verifies.
Entries are edited as text, so numbers stay exactly as written (e.g. 1e+400). For the tests of
`log verify`'s checks against the rest of the store and of its canonical-form check.

usage: rechain_log.py STORE [--delete WHERE] [--member SEQ NAME RAW] [--rename-referral SEQ ID]"""
import argparse, hashlib, re, sqlite3

parser = argparse.ArgumentParser()
parser.add_argument("store")
parser.add_argument("--delete")
parser.add_argument("--member", nargs=3, metavar=("SEQ", "NAME", "RAW"))
parser.add_argument("--rename-referral", nargs=2, metavar=("SEQ", "ID"))
args = parser.parse_args()

db = sqlite3.connect(args.store)
if args.delete:
    db.execute("DELETE FROM log_entries WHERE " + args.delete)
db.execute("DELETE FROM checkpoints")
rows = db.execute("SELECT seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, CAST(entry AS TEXT) FROM log_entries ORDER BY seq").fetchall()
db.execute("DELETE FROM log_entries")
previous = "0" * 64
for number, row in enumerate(rows, start=1):
    seq, rest, text = row[0], list(row[1:9]), row[9]
    if args.member and int(args.member[0]) == seq:
        # Keys are in sorted order; a name sorting after every other goes last.
        text = text[:-1] + ',"%s":%s}' % (args.member[1], args.member[2])
    if args.rename_referral and int(args.rename_referral[0]) == seq:
        text = re.sub(r'"referralId":"[^"]*"', '"referralId":"%s"' % args.rename_referral[1], text, count=1)
        rest[3] = args.rename_referral[1]
    text = re.sub(r'"seq":\d+', '"seq":%d' % number, text, count=1)
    text = re.sub(r'"prevHash":"[0-9a-f]*"', '"prevHash":"%s"' % previous, text, count=1)
    digest = hashlib.sha256(text.encode()).hexdigest()
    db.execute("INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
               [number] + rest + [text.encode(), digest])
    previous = digest
db.commit()
print(len(rows))
