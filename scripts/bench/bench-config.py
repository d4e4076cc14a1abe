#!/usr/bin/env python3
"""The development config (.dev/refex.json) rewritten for a benchmark folder two levels under
.dev (.dev/bench/NAME): paths made relative to it, the store in it (refex.db).
  bench-config.py OUT [--free-ports]   (--free-ports: listen and ops on port 0)"""
import json
import sys

out = sys.argv[1]
config = json.load(open(".dev/refex.json"))
for key in ("tls", "delivery"):
    section = config[key]
    for name, value in list(section.items()):
        if isinstance(value, str) and not value.startswith("/") and value.endswith((".crt", ".key", ".pem")):
            section[name] = "../../" + value
config["schemas"] = "../../../schemas"
config["masterKey"] = "../../master.key"
config["log"]["signingKey"] = "../../log-signing.key"
for recipient in config["recipients"]:
    if "ca" in recipient["delivery"]:
        recipient["delivery"]["ca"] = "../../" + recipient["delivery"]["ca"]
config["store"] = {"path": "refex.db"}
if "--free-ports" in sys.argv[2:]:
    config["listen"] = "127.0.0.1:0"
    config["ops"] = "127.0.0.1:0"
json.dump(config, open(out, "w"), indent=1)
