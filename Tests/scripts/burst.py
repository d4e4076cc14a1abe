#!/usr/bin/env python3
"""Posts many referrals at once over mutual TLS (keep-alive, one connection per worker) and prints
one JSON line per answer as it arrives: {"ref": ..., "status": ..., "id": ..., "retryAfter": ...}. For refex's
concurrency and crash tests."""
import argparse, copy, http.client, json, ssl, sys, threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--prefix", default="BURST")
    args = parser.parse_args()

    template = json.load(open(args.template))
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.load_cert_chain(args.cert, args.key)
    lock = threading.Lock()
    next_index = [0]

    def worker():
        conn = None
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= args.count:
                return
            doc = copy.deepcopy(template)
            doc["referenceId"] = f"{args.prefix}-{index:06d}"
            body = json.dumps(doc).encode()
            result = {"ref": doc["referenceId"]}
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection("localhost", args.port, context=ctx, timeout=30)
                conn.request("POST", "/v1/referrals", body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                result["status"] = response.status
                if response.status == 202:
                    result["id"] = json.loads(data)["id"]
                if response.getheader("Retry-After") is not None:
                    result["retryAfter"] = response.getheader("Retry-After")
            except Exception as error:  # the server went away: report, reconnect next time
                result["status"] = 0
                result["error"] = type(error).__name__
                conn = None
            with lock:
                print(json.dumps(result), flush=True)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
