#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# test_same_verdict.py - `lockwarden check` and `lockwarden webhook` reach the same
# verdict on the same object: every captured CREATE/UPDATE AdmissionReview (and
# variants of it: an unknown BackupPolicy, immutable without Object Lock, the k10-
# prefix, a compliant object) goes through both, and the exit code (0/1) must match
# allowed (true/false) and the failing policy/rule pairs must be the same.
# Prints "N passed, N failed" last (tests/run.sh reads it).
import copy
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("LW_TOP", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("LW_BIN", os.path.join(TOP, "build", "lockwarden"))
FIX = os.path.join(TOP, "tests", "fixtures", "admissionreview")
POLICIES = os.path.join(FIX, "policies")

passed = 0
failed = 0


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what)


def load(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return json.loads(f.read())


def cases():
    out = []
    for name in sorted(os.listdir(FIX)):
        if not name.startswith("validate-") or not name.endswith(".json"):
            continue
        review = load(name)
        if review["request"]["operation"] in ("CREATE", "UPDATE"):
            out.append((name, review))
    base = load("validate-deployment-create-web-ok.json")

    def variant(label, changes):
        r = copy.deepcopy(base)
        labels = r["request"]["object"]["metadata"]["labels"]
        for k, v in changes.items():
            if v is None:
                labels.pop(k, None)
            else:
                labels[k] = v
        out.append((label, r))

    variant("unknown BackupPolicy", {"dataprotection": "k10-nosuch"})
    variant("immutable without Object Lock", {"dataprotection": "scratch", "immutable": "enabled"})
    variant("immutable with Object Lock", {"immutable": "enabled"})
    variant("k10- prefix", {"dataprotection": "k10-gdpr-eu"})
    variant("compliant", {"team": "payments"})
    variant("no label at all", {"dataprotection": None})
    return out


def check_verdict(tmp, review):
    obj = review["request"]["object"]
    path = os.path.join(tmp, "object.json")
    with open(path, "w") as f:
        json.dump(obj, f)
    op = review["request"]["operation"]
    p = subprocess.run([BIN, "check", "-p", POLICIES, "-o", "json", "--operation", op, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    rules = set()
    try:
        for r in json.loads(p.stdout.decode())["results"]:
            if r["result"] in ("fail", "error"):
                rules.add(r["policy"] + "/" + r["rule"])
    except (ValueError, KeyError):
        rules = None
    return p.returncode, rules


def start_webhook(tmp):
    certs = os.path.join(tmp, "certs")
    subprocess.run([BIN, "certs", "--service", "lockwarden", "--namespace", "default", "--out",
                    certs, "--dns", "localhost", "--ip", "127.0.0.1"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    log_path = os.path.join(tmp, "webhook.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([BIN, "webhook", "--listen", "127.0.0.1:0", "--tls-cert",
                             os.path.join(certs, "tls.crt"), "--tls-key",
                             os.path.join(certs, "tls.key"), "--policies", POLICIES],
                            stdout=log, stderr=log)
    deadline = time.time() + 10
    port = None
    while time.time() < deadline and port is None:
        with open(log_path, "rb") as f:
            m = re.search(rb'"msg":"listening".*?"port":(\d+)', f.read())
        if m:
            port = int(m.group(1))
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.02)
    return proc, port, os.path.join(certs, "ca.crt"), log_path


def webhook_verdict(conn, review, log_path):
    body = json.dumps(review).encode()
    conn.request("POST", "/validate?timeout=5s", body=body,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    answer = json.loads(resp.read())
    uid = review["request"]["uid"]
    # The decision log names the failing rules (what the deny message and warnings say).
    rules = None
    deadline = time.time() + 5
    while rules is None and time.time() < deadline:
        with open(log_path, "rb") as f:
            for line in f.read().decode().splitlines():
                if '"msg":"admission"' in line:
                    entry = json.loads(line)
                    if entry.get("uid") == uid:
                        rules = set(entry.get("rules") or [])
        if rules is None:
            time.sleep(0.01)
    return resp.status, answer["response"]["allowed"], rules


def main():
    tmp = tempfile.mkdtemp(prefix="lw-same-")
    proc = None
    try:
        proc, port, ca, log_path = start_webhook(tmp)
        ok(port is not None, "webhook started")
        if port is None:
            return
        ctx = ssl.create_default_context(cafile=ca)
        conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
        for n, (label, review) in enumerate(cases()):
            review = copy.deepcopy(review)
            review["request"]["uid"] = "same-verdict-%d" % n
            code, check_rules = check_verdict(tmp, review)
            status, allowed, wh_rules = webhook_verdict(conn, review, log_path)
            ok(status == 200 and code in (0, 1), "%s: both answered (check exit %d, HTTP %d)"
               % (label, code, status))
            ok((code == 0) == allowed, "%s: same verdict (check %s, webhook %s)"
               % (label, "allow" if code == 0 else "deny", "allow" if allowed else "deny"))
            ok(check_rules is not None and check_rules == wh_rules,
               "%s: same failing rules %s / %s" % (label, sorted(check_rules or []),
                                                  sorted(wh_rules or [])))
        conn.close()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    print("same-verdict: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
