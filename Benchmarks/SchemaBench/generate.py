#!/usr/bin/env python3
"""Generates synthetic referral documents (1-10 KiB) for the schema benchmark.

Every value is made up from fixed word lists with a fixed seed: no real personal data.
Usage: generate.py OUTPUT_DIR [COUNT]
"""
import hashlib
import json
import random
import sys
import uuid

rng = random.Random(20260301)
GIVEN = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Robin", "Avery"]
FAMILY = ["Example", "Sample", "Testperson", "Placeholder", "Fictional", "Madeup", "Synthetic", "Dummy"]
TOWNS = ["Exampleton", "Sampleford", "Testbury", "Mockham", "Fakeley"]
WORDS = ("the victim was contacted by the officer and agreed to be referred for support after the "
         "incident which was reported on the same day a follow up visit is planned next week").split()
SERVICES = ["emotional-support", "practical-support", "translation", "housing", "counselling", "advocacy"]


def name():
    return rng.choice(GIVEN)


def phone():
    return "+44 7" + "".join(rng.choice("0123456789") for _ in range(9))


def email():
    return f"{rng.choice(GIVEN).lower()}.{rng.choice(FAMILY).lower()}@example.org"


def address():
    letters = "ABCDEFGHJKLMNPRSTUWY"
    return {
        "line1": f"{rng.randint(1, 200)} {rng.choice(FAMILY)} Street",
        "town": rng.choice(TOWNS),
        "postcode": f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}",
        "country": "GB",
    }


def timestamp():
    return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def text(words):
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def contact():
    method = rng.choice([
        {"phone": phone(), "bestTime": rng.choice(["morning", "afternoon", "evening", "any"])},
        {"email": email()},
        {"address": address()},
    ])
    return {"name": name(), "relationship": rng.choice(["parent", "partner", "friend", "carer"]), "method": method,
            "safeToContact": rng.random() < 0.8}


def referral(target_bytes):
    doc = {
        "schema": "urn:refex:schema:referral:1",
        "referenceId": f"MET-2025-{rng.randint(0, 999999):06d}",
        "submittedAt": timestamp(),
        "priority": rng.choice(["routine", "soon", "urgent"]),
        "referrer": {"organisation": "Example Constabulary", "officer": name(), "collarNumber": f"PC{rng.randint(1000, 9999)}",
                     "email": email(), "phone": phone()},
        "subject": {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "givenName": name(), "familyName": rng.choice(FAMILY),
                    "dateOfBirth": f"19{rng.randint(40, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "gender": rng.choice(["female", "male", "not-stated"]), "language": rng.choice(["en", "cy", "pl", "ro", "ur-PK"]),
                    "interpreterNeeded": rng.random() < 0.2, "phone": phone(), "email": email(), "address": address(),
                    "vulnerabilities": rng.sample(["disability", "elderly", "repeat-victim", "intimidated"], 2)},
        "crime": {"crimeReference": f"EX/{rng.randint(10000, 9999999)}/25", "category": rng.choice(["violence", "burglary", "theft", "fraud"]),
                  "occurredAt": timestamp(), "location": address(), "weaponUsed": False, "injuries": rng.randint(0, 3)},
        "services": rng.sample(SERVICES, 3),
        "contacts": [],
        "consent": {"given": True, "recordedAt": timestamp(), "method": "verbal", "recordedBy": name()},
        "notes": [],
        "attachments": [],
    }
    def size():
        return len(json.dumps(doc, separators=(",", ":")).encode())

    while size() < target_bytes:
        choice = rng.random()
        if choice < 0.4 and len(doc["contacts"]) < 20:
            doc["contacts"].append(contact())
        elif choice < 0.8 and len(doc["notes"]) < 20:
            doc["notes"].append({"at": timestamp(), "author": name(), "text": text(rng.randint(10, 60)), "sensitivity": "normal"})
        elif len(doc["attachments"]) < 10:
            doc["attachments"].append({"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "mediaType": "application/pdf",
                                       "size": rng.randint(1000, 900000), "sha256": hashlib.sha256(str(rng.random()).encode()).hexdigest(),
                                       "url": f"https://files.example.org/a/{rng.randint(1, 99999)}"})
        else:
            break
    # Keep within 10 KiB: drop the last addition if it overshot.
    for key in ("attachments", "notes", "contacts"):
        while size() > 10 * 1024 and doc[key]:
            doc[key].pop()
    return doc


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    for index in range(count):
        target = 1024 + (9 * 1024) * index // max(count - 1, 1)
        doc = referral(target)
        with open(f"{out}/referral-{index:02d}.json", "w") as handle:
            json.dump(doc, handle, separators=(",", ":"))


if __name__ == "__main__":
    main()
