#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_chart.py - renders charts/lockwarden with tests/chart/render.py under default and
non-default values and checks every rendered document; checks values.yaml documentation,
the renderer's refusal of unsupported syntax, and the Dockerfile against the binary.

    tests/integration/test_chart.py          (make test runs it)

Prints "N passed, N failed" last and exits 1 when a check failed.
"""

import base64
import importlib.util
import json
import select
import socket
import ssl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

TOP = os.environ.get("LW_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                                 "..", ".."))
CHART = os.path.join(TOP, "charts", "lockwarden")
FIXTURES = os.path.join(TOP, "tests", "chart", "values")
RENDER = os.path.join(TOP, "tests", "chart", "render.py")
NS = "guard-system"
RELEASE = "lw"

spec = importlib.util.spec_from_file_location("render", RENDER)
render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render)

# libyaml's parser when PyYAML has it (Debian's python3-yaml does): same results, faster.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s%s" % (name, (": " + str(detail)) if detail else ""))


def render_docs(files=(), sets=(), name=RELEASE, namespace=NS, cluster=()):
    """Renders the chart in-process; returns the list of parsed documents. cluster: objects
    the template's lookup finds (an upgrade of a running release)."""
    rendered, notes, chart_name = render.render_chart(
        CHART, [os.path.join(FIXTURES, f) for f in files], [("typed", s) for s in sets], (),
        name, namespace, bool(cluster), cluster)
    text = render.manifests(rendered, chart_name)
    docs = [d for d in yaml.load_all(text, Loader=LOADER) if d is not None]
    return docs, notes


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(docs, kind, name_part=""):
    found = [d for d in by_kind(docs, kind) if name_part in d["metadata"]["name"]]
    return found[0] if len(found) == 1 else None


def kinds_of(docs):
    out = {}
    for d in docs:
        out[d["kind"]] = out.get(d["kind"], 0) + 1
    return out


# ---- generic document checks --------------------------------------------------------------------

CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
                  "MutatingWebhookConfiguration"}
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind",
               "impersonate"}
# (apiGroup, resource, verb) writes the chart may grant, and whether the rule must name
# its objects (resourceNames). RBAC cannot restrict create by name.
ALLOWED_WRITES = {
    ("snapshot.storage.k8s.io", "volumesnapshots", "create"): False,
    ("snapshot.storage.k8s.io", "volumesnapshots", "delete"): False,
    ("coordination.k8s.io", "leases", "create"): False,
    ("coordination.k8s.io", "leases", "update"): True,
    ("", "secrets", "update"): True,
    ("", "secrets", "patch"): True,
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "update"): True,
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "patch"): True,
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "update"): True,
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "patch"): True,
}


# Field names the API server knows, for the objects the chart renders. Without an API
# server to reject a misspelt field ("readinesProbe" is silently dropped by a lenient
# client), the test does it. Keys: the shape name; values: {field: shape of its value}.
POD = {"serviceAccountName": None, "automountServiceAccountToken": None,
       "priorityClassName": None, "imagePullSecrets": None, "securityContext": "podsc",
       "affinity": None, "nodeSelector": None, "tolerations": None, "containers": "container",
       "volumes": "volume", "restartPolicy": None, "terminationGracePeriodSeconds": None,
       "topologySpreadConstraints": None, "initContainers": "container"}
SHAPES = {
    "Deployment": {"replicas": None, "strategy": None, "selector": None, "template": "podtpl",
                   "minReadySeconds": None, "revisionHistoryLimit": None},
    "Job": {"backoffLimit": None, "activeDeadlineSeconds": None, "template": "podtpl",
            "ttlSecondsAfterFinished": None},
    "CronJob": {"schedule": None, "concurrencyPolicy": None, "startingDeadlineSeconds": None,
                "successfulJobsHistoryLimit": None, "failedJobsHistoryLimit": None,
                "jobTemplate": "jobtpl", "suspend": None, "timeZone": None},
    "jobtpl": {"metadata": None, "spec": "Job"},
    "podtpl": {"metadata": None, "spec": "pod"},
    "pod": POD,
    "podsc": {"runAsNonRoot": None, "runAsUser": None, "runAsGroup": None, "fsGroup": None,
              "seccompProfile": None, "supplementalGroups": None, "fsGroupChangePolicy": None},
    "container": {"name": None, "image": None, "imagePullPolicy": None, "args": None,
                  "command": None, "env": None, "envFrom": None, "ports": None,
                  "readinessProbe": "probe", "livenessProbe": "probe", "startupProbe": "probe",
                  "securityContext": "sc", "resources": "resources", "volumeMounts": None,
                  "lifecycle": None},
    "probe": {"httpGet": None, "tcpSocket": None, "exec": None, "grpc": None,
              "periodSeconds": None, "failureThreshold": None, "timeoutSeconds": None,
              "initialDelaySeconds": None, "successThreshold": None},
    "sc": {"runAsNonRoot": None, "runAsUser": None, "runAsGroup": None,
           "readOnlyRootFilesystem": None, "allowPrivilegeEscalation": None,
           "capabilities": None, "seccompProfile": None, "privileged": None},
    "resources": {"requests": None, "limits": None},
    "volume": {"name": None, "secret": None, "configMap": None, "emptyDir": None},
    "Service": {"type": None, "selector": None, "ports": None},
    "PodDisruptionBudget": {"minAvailable": None, "maxUnavailable": None, "selector": None},
    "webhook": {"name": None, "clientConfig": None, "rules": "rule", "failurePolicy": None,
                "matchPolicy": None, "namespaceSelector": None, "objectSelector": None,
                "sideEffects": None, "timeoutSeconds": None, "admissionReviewVersions": None,
                "reinvocationPolicy": None, "matchConditions": None},
    "rule": {"apiGroups": None, "apiVersions": None, "resources": None, "operations": None,
             "scope": None},
    "Certificate": {"secretName": None, "duration": None, "renewBefore": None,
                    "dnsNames": None, "privateKey": None, "usages": None, "issuerRef": None,
                    "isCA": None, "commonName": None},
    "policyrule": {"apiGroups": None, "resources": None, "verbs": None, "resourceNames": None},
}
TOP_KEYS = {"apiVersion", "kind", "metadata", "spec", "data", "stringData", "type", "rules",
            "roleRef", "subjects", "webhooks", "automountServiceAccountToken"}


def unknown_fields(value, shape, path):
    """Lists paths of fields the shape does not know (lists are checked item by item)."""
    if isinstance(value, list):
        return [u for i, v in enumerate(value) for u in unknown_fields(v, shape, path)]
    if not isinstance(value, dict) or shape not in SHAPES:
        return []
    out = []
    for k, v in value.items():
        if k not in SHAPES[shape]:
            out.append("%s.%s" % (path, k))
        else:
            out += unknown_fields(v, SHAPES[shape][k], "%s.%s" % (path, k))
    return out


def check_documents(label, docs, namespace=NS, read_all=False):
    bad = [d for d in docs if not (isinstance(d, dict) and d.get("apiVersion") and d.get("kind")
                                   and isinstance(d.get("metadata"), dict)
                                   and d["metadata"].get("name"))]
    check(label + ": every document has apiVersion, kind, metadata.name", not bad, bad[:1])
    keys = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    dups = {k for k in keys if keys.count(k) > 1}
    check(label + ": no two documents share kind/namespace/name", not dups, dups)
    long_names = [k for k in keys if len(k[2]) > 63 or not re.fullmatch(r"[a-z0-9.-]+", k[2])]
    check(label + ": names are DNS-1123 and at most 63 characters", not long_names, long_names)
    wrong_ns = [k for d, k in zip(docs, keys)
                if d["kind"] not in CLUSTER_SCOPED and d["kind"] != "RoleBinding"
                and k[1] != namespace]
    check(label + ": namespaced objects are in the release namespace", not wrong_ns, wrong_ns)
    scoped = [k for d, k in zip(docs, keys) if d["kind"] in CLUSTER_SCOPED and k[1]]
    check(label + ": cluster-scoped objects carry no namespace", not scoped, scoped)
    unknown = []
    for d in docs:
        name = "%s/%s" % (d["kind"], d["metadata"]["name"])
        unknown += ["%s: %s" % (name, k) for k in d if k not in TOP_KEYS]
        if d["kind"] in SHAPES:
            unknown += unknown_fields(d.get("spec"), d["kind"], name + ".spec")
        if d["kind"].endswith("WebhookConfiguration"):
            unknown += unknown_fields(d.get("webhooks"), "webhook", name + ".webhooks")
        if d["kind"] in ("Role", "ClusterRole"):
            unknown += unknown_fields(d.get("rules"), "policyrule", name + ".rules")
    check(label + ": no field the Kubernetes API does not know", not unknown, unknown[:5])
    metas = [(d["kind"] + "/" + d["metadata"]["name"], d["metadata"]) for d in docs]
    metas += [(owner + " pod", spec_meta) for owner, spec_meta in pod_metas(docs)]
    not_str = ["%s %s.%s" % (n, field, k) for n, m in metas for field in ("labels", "annotations")
               for k, v in (m.get(field) or {}).items() if not isinstance(v, str)]
    check(label + ": every label and annotation value is a string", not not_str, not_str[:5])
    check_rbac(label, docs, read_all)
    check_pods(label, docs)


def check_rbac(label, docs, read_all=False):
    problems = []
    wildcard_rules = []
    for d in by_kind(docs, "Role") + by_kind(docs, "ClusterRole"):
        for rule in d.get("rules", []):
            groups = rule.get("apiGroups", [])
            resources = rule.get("resources", [])
            verbs = rule.get("verbs", [])
            if "*" in groups or "*" in resources or "*" in verbs:
                wildcard_rules.append((d["metadata"]["name"], rule))
                if not read_all or "*" in verbs or sorted(verbs) != ["get", "list"] or \
                        not d["metadata"]["name"].endswith("executor-capture"):
                    problems.append("%s: wildcard in %s" % (d["metadata"]["name"], rule))
            if "watch" in verbs:
                problems.append("%s: watch is not needed: %s" % (d["metadata"]["name"], rule))
            if rule.get("nonResourceURLs"):
                problems.append("%s: nonResourceURLs" % d["metadata"]["name"])
            for g in groups:
                for r in resources:
                    for v in verbs:
                        if v not in WRITE_VERBS:
                            continue
                        need_names = ALLOWED_WRITES.get((g, r, v))
                        if need_names is None:
                            if (g, r, v) == ("", "secrets", "create") and \
                                    d["metadata"].get("annotations", {}).get("helm.sh/hook"):
                                continue  # only the pre-install hook, deleted on success
                            problems.append("%s: %s %s/%s is not an allowed write"
                                            % (d["metadata"]["name"], v, g, r))
                        elif need_names and not rule.get("resourceNames"):
                            problems.append("%s: %s %s/%s without resourceNames"
                                            % (d["metadata"]["name"], v, g, r))
    if read_all:
        check(label + ": exactly one wildcard rule, get/list in the capture role",
              len(wildcard_rules) == 1, wildcard_rules)
    check(label + ": RBAC has no wildcards%s, no watch, only the documented writes"
          % (" but readAllTypes' get/list" if read_all else ""), not problems, problems[:3])
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"])
             for d in by_kind(docs, "Role") + by_kind(docs, "ClusterRole")}
    dangling = []
    for b in by_kind(docs, "RoleBinding") + by_kind(docs, "ClusterRoleBinding"):
        ref = b["roleRef"]
        ns = None if ref["kind"] == "ClusterRole" else b["metadata"]["namespace"]
        if (ref["kind"], ns, ref["name"]) not in roles:
            dangling.append(b["metadata"]["name"])
        sas = {(d["metadata"]["namespace"], d["metadata"]["name"])
               for d in by_kind(docs, "ServiceAccount")}
        for s in b["subjects"]:
            if s["kind"] != "ServiceAccount" or (s["namespace"], s["name"]) not in sas:
                dangling.append("%s -> %s" % (b["metadata"]["name"], s))
    check(label + ": every binding names a rendered role and service account", not dangling,
          dangling)


def pod_metas(docs):
    """Yields (owner name, pod template metadata) of every workload document."""
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"].get("metadata", {})
        elif d["kind"] == "CronJob":
            yield d["metadata"]["name"], d["spec"]["jobTemplate"]["spec"]["template"].get(
                "metadata", {})


def pod_specs(docs):
    """Yields (owner name, pod spec) of every workload document."""
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]
        elif d["kind"] == "CronJob":
            yield d["metadata"]["name"], d["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def check_pods(label, docs):
    problems = []
    for owner, spec in pod_specs(docs):
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
            problems.append(owner + ": pod not runAsNonRoot with a UID")
        sas = {d["metadata"]["name"] for d in by_kind(docs, "ServiceAccount")}
        if spec.get("serviceAccountName") not in sas:
            problems.append(owner + ": service account %s not rendered"
                            % spec.get("serviceAccountName"))
        vols = {v["name"] for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(owner + ": root filesystem not read-only")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(owner + ": privilege escalation allowed")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                problems.append(owner + ": capabilities not dropped")
            res = c.get("resources", {})
            if not (res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory")
                    and res.get("requests", {}).get("cpu")):
                problems.append(owner + ": no requests/limits")
            for m in c.get("volumeMounts", []):
                if m["name"] not in vols:
                    problems.append(owner + ": mount of unknown volume " + m["name"])
                if "subPath" in m:
                    problems.append(owner + ": subPath mounts never see updates")
    check(label + ": every pod is non-root, read-only, capability-free, with resources",
          not problems, problems[:3])


# ---- the webhook --------------------------------------------------------------------------------

def check_webhooks(label, docs, failure="Fail", timeout=5, excluded=("kube-system",),
                   namespace=NS, mutating_failure=None, cert_manager=False, ca_bundle=None,
                   mutating=True):
    svc = one(docs, "Service", "webhook")
    check(label + ": webhook Service exists", svc is not None)
    configs = by_kind(docs, "ValidatingWebhookConfiguration")
    configs += by_kind(docs, "MutatingWebhookConfiguration")
    check(label + ": webhook configurations rendered", len(configs) == (2 if mutating else 1),
          [c["kind"] for c in configs])
    for cfg in configs:
        kind = cfg["kind"]
        hooks = cfg.get("webhooks", [])
        check(label + ": %s has one webhook" % kind, len(hooks) == 1)
        if len(hooks) != 1:
            continue
        w = hooks[0]
        is_mut = kind.startswith("Mutating")
        want_fp = (mutating_failure or failure) if is_mut else failure
        t = label + ": " + kind
        check(t + " admissionReviewVersions [v1]", w.get("admissionReviewVersions") == ["v1"])
        check(t + " sideEffects None", w.get("sideEffects") == "None")
        check(t + " timeoutSeconds %d" % timeout, w.get("timeoutSeconds") == timeout,
              w.get("timeoutSeconds"))
        check(t + " failurePolicy " + want_fp, w.get("failurePolicy") == want_fp,
              w.get("failurePolicy"))
        check(t + " name is fully qualified", w.get("name", "").count(".") >= 2)
        rules = w.get("rules", [])
        ok_rules = len(rules) == 1 and rules[0].get("apiGroups") == ["apps"] and \
            rules[0].get("apiVersions") == ["v1"] and \
            sorted(rules[0].get("resources", [])) == ["deployments", "statefulsets"] and \
            sorted(rules[0].get("operations", [])) == ["CREATE", "UPDATE"]
        check(t + " rules: apps/v1 deployments+statefulsets on CREATE+UPDATE only", ok_rules,
              rules)
        sel = w.get("namespaceSelector", {}).get("matchExpressions", [])
        notin = [e for e in sel if e.get("key") == "kubernetes.io/metadata.name"
                 and e.get("operator") == "NotIn"]
        values = set(notin[0]["values"]) if len(notin) == 1 else set()
        check(t + " namespaceSelector excludes the release namespace", namespace in values,
              values)
        for ex in excluded:
            check(t + " namespaceSelector excludes " + ex, ex in values, values)
        cc = w.get("clientConfig", {})
        s = cc.get("service", {})
        check(t + " calls the webhook Service",
              svc is not None and s.get("name") == svc["metadata"]["name"]
              and s.get("namespace") == namespace
              and s.get("port") == svc["spec"]["ports"][0]["port"], s)
        check(t + " path", s.get("path") == ("/mutate" if is_mut else "/validate"), s.get("path"))
        check(t + " has no url (in-cluster Service only)", "url" not in cc)
        ann = cfg["metadata"].get("annotations", {})
        if cert_manager:
            cert = one(docs, "Certificate", "webhook")
            want = "%s/%s" % (namespace, cert["metadata"]["name"]) if cert else None
            check(t + " cert-manager.io/inject-ca-from names the serving Certificate",
                  want is not None and ann.get("cert-manager.io/inject-ca-from") == want,
                  ann)
            check(t + " leaves caBundle to the CA injector", "caBundle" not in cc)
        else:
            check(t + " has no inject-ca-from", "cert-manager.io/inject-ca-from" not in ann)
            check(t + " caBundle", cc.get("caBundle") == ca_bundle, cc.get("caBundle"))
        if is_mut:
            check(t + " reinvocationPolicy Never", w.get("reinvocationPolicy") == "Never")


def check_webhook_deployment(label, docs, replicas=2, image="lockwarden:0.1.0", port=8443,
                             hard=False, tls_secret=None, resources=None, priority=None,
                             threads=2, log_level="info", pre_stop=5, ns_labels=True,
                             ns_refresh=30):
    dep = one(docs, "Deployment", "webhook")
    check(label + ": webhook Deployment exists", dep is not None)
    if dep is None:
        return
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    t = label + ": webhook Deployment"
    check(t + " replicas", spec.get("replicas") == replicas, spec.get("replicas"))
    check(t + " rolls out without losing a ready pod",
          spec.get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable") == 0)
    sel = spec["selector"]["matchLabels"]
    labels = spec["template"]["metadata"]["labels"]
    check(t + " selector matches the pod labels",
          all(labels.get(k) == v for k, v in sel.items()))
    svc = one(docs, "Service", "webhook")
    check(t + " Service selects its pods",
          svc is not None and all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
          and svc["spec"]["ports"][0]["targetPort"] == "https")
    aff = pod.get("affinity", {}).get("podAntiAffinity", {})
    if hard:
        terms = aff.get("requiredDuringSchedulingIgnoredDuringExecution", [])
        term = terms[0] if terms else {}
    else:
        terms = aff.get("preferredDuringSchedulingIgnoredDuringExecution", [])
        term = terms[0].get("podAffinityTerm", {}) if terms else {}
    check(t + " anti-affinity across nodes (%s)" % ("hard" if hard else "soft"),
          term.get("topologyKey") == "kubernetes.io/hostname"
          and term.get("labelSelector", {}).get("matchLabels") == sel, aff)
    if ns_labels:
        check(t + " mounts its API token (to list namespaces)",
              pod.get("automountServiceAccountToken") is True)
    else:
        check(t + " does not mount an API token", pod.get("automountServiceAccountToken") is False)
    c0 = pod["containers"][0]
    pre = c0.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
    check(t + " preStop sleep %s s, inside the grace period" % pre_stop,
          (pre == ["sleep", str(pre_stop)] if pre_stop else pre is None)
          and pod.get("terminationGracePeriodSeconds", 30) > pre_stop, (pre, pod.get(
              "terminationGracePeriodSeconds")))
    if priority:
        check(t + " priorityClassName", pod.get("priorityClassName") == priority)
    else:
        check(t + " no priorityClassName by default", "priorityClassName" not in pod)
    c = pod["containers"][0]
    check(t + " image", c.get("image") == image, c.get("image"))
    check(t + " runs the webhook subcommand", c.get("args") == ["webhook"], c.get("args"))
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    want_env = {"LW_LISTEN": "0.0.0.0:%d" % port, "LW_TLS_CERT": "/tls/tls.crt",
                "LW_TLS_KEY": "/tls/tls.key", "LW_POLICIES": "/policies"}
    check(t + " env LW_LISTEN/LW_TLS_CERT/LW_TLS_KEY/LW_POLICIES",
          all(env.get(k) == v for k, v in want_env.items()), env)
    check(t + " env LW_NAMESPACE_LABELS=cluster only with namespaceLabelsFromCluster",
          env.get("LW_NAMESPACE_LABELS") == ("cluster" if ns_labels else None), env)
    check(t + " env LW_NAMESPACE_REFRESH=%s only with namespaceLabelsFromCluster" % ns_refresh,
          env.get("LW_NAMESPACE_REFRESH") == (str(ns_refresh) if ns_labels else None), env)
    check_webhook_rbac(label, docs, ns_labels)
    check(t + " env LW_THREADS and LW_LOG_LEVEL",
          env.get("LW_THREADS") == str(threads) and env.get("LW_LOG_LEVEL") == log_level, env)
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check(t + " container port https", ports.get("https") == port, ports)
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        g = c.get(probe, {}).get("httpGet", {})
        check(t + " %s GET %s over HTTPS" % (probe, path),
              g.get("path") == path and g.get("scheme") == "HTTPS" and g.get("port") == "https",
              g)
    sc = c.get("securityContext", {})
    check(t + " runAsNonRoot and readOnlyRootFilesystem",
          sc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True and
          pod["securityContext"].get("runAsNonRoot") is True)
    if resources:
        check(t + " resources", c.get("resources") == resources, c.get("resources"))
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    tls = vols.get(mounts.get("/tls"), {}).get("secret", {})
    check(t + " mounts the TLS Secret at /tls", tls.get("secretName") == tls_secret, tls)
    check(t + " TLS files are not world-readable", tls.get("defaultMode") == 0o440,
          tls.get("defaultMode"))
    check(t + " mounts only tls.crt and tls.key of the Secret",
          sorted((i["key"], i["path"]) for i in tls.get("items", []))
          == [("tls.crt", "tls.crt"), ("tls.key", "tls.key")], tls.get("items"))
    cm = vols.get(mounts.get("/policies"), {}).get("configMap", {})
    cmdoc = one(docs, "ConfigMap", "policies")
    check(t + " mounts the policies ConfigMap at /policies",
          cmdoc is not None and cm.get("name") == cmdoc["metadata"]["name"], cm)


def check_webhook_rbac(label, docs, ns_labels=True):
    """The webhook's only permission: list namespaces, bound to its service account."""
    t = label + ": webhook RBAC"
    roles = [d for d in by_kind(docs, "ClusterRole") + by_kind(docs, "Role")
             if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "webhook"]
    binds = [d for d in by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding")
             if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "webhook"]
    if not ns_labels:
        check(t + " none without namespaceLabelsFromCluster", not roles and not binds,
              [d["metadata"]["name"] for d in roles + binds])
        return
    check(t + " one ClusterRole: list namespaces, nothing else",
          len(roles) == 1 and roles[0]["kind"] == "ClusterRole" and roles[0]["rules"] ==
          [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]}],
          [r.get("rules") for r in roles])
    dep = one(docs, "Deployment", "webhook")
    sa = dep["spec"]["template"]["spec"]["serviceAccountName"] if dep else None
    check(t + " bound cluster-wide to the webhook's service account",
          len(binds) == 1 and roles and binds[0]["kind"] == "ClusterRoleBinding"
          and binds[0]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                      "kind": "ClusterRole",
                                      "name": roles[0]["metadata"]["name"]}
          and binds[0]["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": NS}],
          binds)


def check_pdb(label, docs, expect=True, min_available=1):
    pdb = one(docs, "PodDisruptionBudget")
    if not expect:
        check(label + ": no PodDisruptionBudget", pdb is None)
        return
    dep = one(docs, "Deployment", "webhook")
    check(label + ": PodDisruptionBudget policy/v1 minAvailable %d" % min_available,
          pdb is not None and pdb["apiVersion"] == "policy/v1"
          and pdb["spec"].get("minAvailable") == min_available)
    check(label + ": PodDisruptionBudget selects the webhook pods",
          pdb is not None and dep is not None
          and pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"])


# ---- the executor -------------------------------------------------------------------------------

def rules_grant(rules, group, resource, verb):
    return any((group in r.get("apiGroups", []) or "*" in r.get("apiGroups", []))
               and (resource in r.get("resources", []) or "*" in r.get("resources", []))
               and verb in r.get("verbs", []) for r in rules)


def policy_secrets():
    """The Secrets the BackupPolicies in policies/ name, read here without the chart."""
    names = set()
    pol_dir = os.path.join(TOP, "policies")
    for f in sorted(os.listdir(pol_dir)) if os.path.isdir(pol_dir) else []:
        if not f.endswith(".yaml"):
            continue
        with open(os.path.join(pol_dir, f), encoding="utf-8") as fh:
            for d in yaml.load_all(fh, Loader=LOADER):
                if isinstance(d, dict) and d.get("kind") == "BackupPolicy":
                    spec = d.get("spec") or {}
                    for v in ((spec.get("location") or {}).get("credentialsSecret"),
                              (spec.get("encryption") or {}).get("keySecret")):
                        if v:
                            names.add(v)
    return sorted(names)


def check_executor(label, docs, scope="cluster", namespaces=(), secrets=True, s3_secret=None,
                   lease="lw-lockwarden-executor", image="lockwarden:0.1.0", metrics=9090,
                   namespace=NS, extra_secrets=()):
    dep = one(docs, "Deployment", "executor")
    check(label + ": executor Deployment exists", dep is not None)
    if dep is None:
        return
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    t = label + ": executor"
    want_args = ["executor", "-p", "/policies", "--metrics-addr", "0.0.0.0:%d" % metrics,
                 "--leader-elect", "--lease-name", lease, "--lease-namespace", namespace]
    check(t + " args", c.get("args") == want_args, c.get("args"))
    check(t + " image", c.get("image") == image, c.get("image"))
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    check(t + " mounts /policies and a writable /tmp", {"/policies", "/tmp"} <= mounts, mounts)
    live = c.get("livenessProbe", {}).get("httpGet", {})
    check(t + " liveness GET /healthz on the metrics port",
          live.get("path") == "/healthz" and live.get("port") == "metrics"
          and {"name": "metrics", "containerPort": metrics, "protocol": "TCP"}
          in c.get("ports", []), c.get("livenessProbe"))
    env = {e["name"]: e for e in c.get("env", [])}
    if s3_secret:
        refs = {k: env.get(k, {}).get("valueFrom", {}).get("secretKeyRef", {})
                for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        check(t + " S3 credentials from Secret " + s3_secret,
              all(r.get("name") == s3_secret and r.get("key") == k for k, r in refs.items()),
              refs)
    else:
        check(t + " no S3 credential env without a Secret", "AWS_ACCESS_KEY_ID" not in env)
    sa = pod["serviceAccountName"]
    capture = [d for d in by_kind(docs, "ClusterRole")
               if d["metadata"]["name"].endswith("executor-capture")]
    check(t + " capture ClusterRole", len(capture) == 1)
    if len(capture) != 1:
        return
    rules = capture[0]["rules"]
    for g, r in (("", "pods"), ("", "configmaps"), ("", "persistentvolumeclaims"),
                 ("", "services"), ("", "serviceaccounts"), ("", "podtemplates"),
                 ("", "replicationcontrollers"), ("apps", "deployments"),
                 ("apps", "statefulsets"), ("apps", "controllerrevisions"), ("batch", "jobs"),
                 ("networking.k8s.io", "ingresses"), ("storage.k8s.io", "csistoragecapacities"),
                 ("rbac.authorization.k8s.io", "roles")):
        check(t + " may get+list %s" % r,
              rules_grant(rules, g, r, "get") and rules_grant(rules, g, r, "list"))
    check(t + " may create VolumeSnapshots",
          rules_grant(rules, "snapshot.storage.k8s.io", "volumesnapshots", "create"))
    check(t + " Secrets readable iff captureSecrets=%s" % secrets,
          rules_grant(rules, "", "secrets", "list") == secrets)
    binds = [b for b in by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding")
             if b["roleRef"]["name"] == capture[0]["metadata"]["name"]]
    if scope == "cluster":
        check(t + " capture role bound cluster-wide",
              [b["kind"] for b in binds] == ["ClusterRoleBinding"], [b["kind"] for b in binds])
    else:
        check(t + " capture role bound only in %s" % ",".join(namespaces),
              all(b["kind"] == "RoleBinding" for b in binds)
              and sorted(b["metadata"]["namespace"] for b in binds) == sorted(namespaces),
              [(b["kind"], b["metadata"].get("namespace")) for b in binds])
    check(t + " bindings name its service account",
          all(s["name"] == sa for b in binds for s in b["subjects"]))
    read = [d for d in by_kind(docs, "ClusterRole")
            if d["metadata"]["name"].endswith("executor-cluster-read")]
    check(t + " lists Deployments and StatefulSets cluster-wide (finding bound apps)",
          len(read) == 1 and rules_grant(read[0]["rules"], "apps", "deployments", "list")
          and rules_grant(read[0]["rules"], "apps", "statefulsets", "list")
          and [b["kind"] for b in by_kind(docs, "ClusterRoleBinding")
               if b["roleRef"]["name"] == read[0]["metadata"]["name"]] == ["ClusterRoleBinding"])
    check(t + " reads PVs, StorageClasses, CRDs",
          len(read) == 1 and rules_grant(read[0]["rules"], "", "persistentvolumes", "list")
          and rules_grant(read[0]["rules"], "storage.k8s.io", "storageclasses", "list")
          and rules_grant(read[0]["rules"], "apiextensions.k8s.io", "customresourcedefinitions",
                          "list"))
    role = one(docs, "Role", "executor")
    lrules = role["rules"] if role else []
    check(t + " Lease: create, and get/update of its own Lease by name",
          rules_grant(lrules, "coordination.k8s.io", "leases", "create")
          and any(r.get("resourceNames") == [lease] and "update" in r["verbs"] for r in lrules),
          lrules)
    want = sorted(set(policy_secrets() + ([s3_secret] if s3_secret else [])
                      + list(extra_secrets)))
    got = [r.get("resourceNames") for r in lrules if r.get("resources") == ["secrets"]]
    check(t + " may get exactly the Secrets its BackupPolicies and values name: %s" % want,
          got == ([want] if want else []) and all(
              r["verbs"] == ["get"] for r in lrules if r.get("resources") == ["secrets"]), got)


# ---- certificates -------------------------------------------------------------------------------

def flag_values(args, flag):
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


def check_self_managed_certs(label, docs, renewal=True, schedule="17 3 * * *", days="365",
                             within="30", tls_secret=None, namespace=NS, mutating=True):
    configs = {d["kind"]: d["metadata"]["name"]
               for d in by_kind(docs, "ValidatingWebhookConfiguration")
               + by_kind(docs, "MutatingWebhookConfiguration")}
    want_patch = sorted(["validating:" + configs["ValidatingWebhookConfiguration"]]
                        + (["mutating:" + configs["MutatingWebhookConfiguration"]]
                           if mutating else []))
    svc = one(docs, "Service", "webhook")["metadata"]["name"]

    def check_args(t, args, patch):
        check(t + " runs lockwarden certs", args[:1] == ["certs"], args)
        check(t + " --service/--namespace name the webhook Service",
              flag_values(args, "--service") == [svc]
              and flag_values(args, "--namespace") == [namespace])
        check(t + " --days and --renew-within",
              flag_values(args, "--days") == [days]
              and flag_values(args, "--renew-within") == [within], args)
        check(t + " --secret names the TLS Secret",
              flag_values(args, "--secret") == ["%s/%s" % (namespace, tls_secret)], args)
        check(t + " --out is a mounted writable dir",
              flag_values(args, "--out") == ["/scratch/certs"])
        if patch:
            check(t + " --patch-webhook for each configuration",
                  sorted(flag_values(args, "--patch-webhook")) == want_patch, args)
        else:
            check(t + " does not patch webhooks", "--patch-webhook" not in args)

    jobs = {d["metadata"]["name"]: d for d in by_kind(docs, "Job")}
    init = [d for n, d in jobs.items() if n.endswith("certs-init")]
    patch = [d for n, d in jobs.items() if n.endswith("certs-patch")]
    check(label + ": certificate hook Jobs rendered", len(init) == 1 and len(patch) == 1)
    if len(init) == 1:
        ann = init[0]["metadata"]["annotations"]
        check(label + ": certs-init runs pre-install and pre-upgrade",
              set(ann["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"})
        hook_rbac = [d for d in docs if d["metadata"]["name"] == init[0]["metadata"]["name"]
                     and d["kind"] in ("ServiceAccount", "Role", "RoleBinding")]
        check(label + ": certs-init RBAC is a hook of lower weight, deleted on success",
              len(hook_rbac) == 3 and all(
                  d["metadata"]["annotations"]["helm.sh/hook"] == ann["helm.sh/hook"]
                  and int(d["metadata"]["annotations"]["helm.sh/hook-weight"])
                  < int(ann["helm.sh/hook-weight"])
                  and "hook-succeeded" in d["metadata"]["annotations"]
                  ["helm.sh/hook-delete-policy"] for d in hook_rbac))
        check_args(label + ": certs-init", init[0]["spec"]["template"]["spec"]["containers"][0]
                   ["args"], False)
    if len(patch) == 1:
        ann = patch[0]["metadata"]["annotations"]
        check(label + ": certs-patch runs post-install and post-upgrade",
              set(ann["helm.sh/hook"].split(",")) == {"post-install", "post-upgrade"})
        check_args(label + ": certs-patch", patch[0]["spec"]["template"]["spec"]["containers"][0]
                   ["args"], True)
    cron = by_kind(docs, "CronJob")
    if not renewal:
        check(label + ": no renewal CronJob", not cron)
    else:
        check(label + ": one renewal CronJob", len(cron) == 1)
        if len(cron) == 1:
            cj = cron[0]["spec"]
            check(label + ": CronJob schedule", cj.get("schedule") == schedule, cj.get("schedule"))
            check(label + ": CronJob never runs twice at once",
                  cj.get("concurrencyPolicy") == "Forbid")
            pod = cj["jobTemplate"]["spec"]["template"]["spec"]
            check_args(label + ": CronJob", pod["containers"][0]["args"], True)
    # The renewal service account may touch exactly that Secret and those configurations.
    role = [d for d in by_kind(docs, "Role") if d["metadata"]["name"].endswith("-certs")]
    role = role[0] if len(role) == 1 else None
    crole = [d for d in by_kind(docs, "ClusterRole") if d["metadata"]["name"].endswith("-certs")]
    check(label + ": renewal Role limited to the TLS Secret",
          role is not None and all(r.get("resourceNames") == [tls_secret]
                                   for r in role["rules"]), role and role["rules"])
    names = sorted(set(configs.values()))
    check(label + ": renewal ClusterRole limited to the webhook configurations",
          len(crole) == 1 and all(sorted(r.get("resourceNames", [])) == names
                                  and set(r["verbs"]) <= {"get", "update", "patch"}
                                  for r in crole[0]["rules"]), crole and crole[0]["rules"])
    check(label + ": no cert-manager objects", not by_kind(docs, "Certificate"))


def check_no_self_managed_certs(label, docs):
    certs_objs = [d["metadata"]["name"] for d in docs if "certs" in d["metadata"]["name"]]
    check(label + ": no certificate jobs, CronJob or their RBAC", not certs_objs, certs_objs)


# ---- policies ConfigMap -------------------------------------------------------------------------

def check_policies(label, docs, inline=None, from_files=True):
    cm = one(docs, "ConfigMap", "policies")
    check(label + ": policies ConfigMap exists", cm is not None)
    if cm is None:
        return
    data = cm.get("data") or {}
    pol_dir = os.path.join(TOP, "policies")
    want = set()
    if from_files and os.path.isdir(pol_dir):
        want = {f for f in os.listdir(pol_dir) if f.endswith(".yaml")}
    want |= set(inline or {})
    check(label + ": ConfigMap holds every policies/*.yaml (+ inline)", set(data) == want,
          sorted(set(data) ^ want))
    for f in sorted(want - set(inline or {})):
        with open(os.path.join(pol_dir, f), encoding="utf-8") as fh:
            check(label + ": ConfigMap %s equals policies/%s" % (f, f), data.get(f) == fh.read())
    for f, text in (inline or {}).items():
        check(label + ": inline policy %s" % f, data.get(f) == text)
    bad = []
    for f, text in data.items():
        try:
            for d in yaml.safe_load_all(text):
                if d is not None and not d.get("kind"):
                    bad.append(f)
        except yaml.YAMLError as e:
            bad.append("%s: %s" % (f, e))
    check(label + ": every policy file parses as YAML with a kind", not bad, bad)


# ---- value sets ---------------------------------------------------------------------------------

def expected_kinds(webhook_pdb=True, executor=True, scope_bindings=1, self_certs=True,
                   renewal=True, cert_manager=False, own_ca=True, s3_secret=False, mutating=True,
                   ns_labels=True):
    k = {"ServiceAccount": 1, "Service": 1, "Deployment": 1, "ConfigMap": 1,
         "ValidatingWebhookConfiguration": 1}
    if ns_labels:
        k["ClusterRole"] = 1
        k["ClusterRoleBinding"] = 1
    if mutating:
        k["MutatingWebhookConfiguration"] = 1

    def add(kind, n=1):
        k[kind] = k.get(kind, 0) + n
    if webhook_pdb:
        add("PodDisruptionBudget")
    if executor:
        add("Deployment")
        add("ServiceAccount")
        add("ClusterRole", 2)
        add("ClusterRoleBinding", 1)
        add("Role")
        add("RoleBinding")
        if scope_bindings == "cluster":
            add("ClusterRoleBinding")
        else:
            add("RoleBinding", scope_bindings)
    if self_certs:
        add("ServiceAccount", 2)
        add("Role", 2)
        add("RoleBinding", 2)
        add("ClusterRole")
        add("ClusterRoleBinding")
        add("Job", 2)
        if renewal:
            add("CronJob")
    if cert_manager:
        add("Certificate", 2 if own_ca else 1)
        if own_ca:
            add("Issuer", 2)
    if s3_secret:
        add("Secret")
    return k


def test_defaults():
    docs, notes = render_docs()
    label = "defaults"
    check_documents(label, docs)
    check(label + ": expected kinds", kinds_of(docs) == expected_kinds(scope_bindings="cluster"),
          kinds_of(docs))
    check_webhooks(label, docs, excluded=("kube-system", "kube-node-lease", "kube-public"))
    check_webhook_deployment(label, docs, tls_secret="lw-lockwarden-webhook-tls",
                             resources={"requests": {"cpu": "100m", "memory": "64Mi"},
                                        "limits": {"cpu": "1", "memory": "256Mi"}})
    check_pdb(label, docs)
    check_executor(label, docs)
    check_self_managed_certs(label, docs, tls_secret="lw-lockwarden-webhook-tls")
    check_policies(label, docs)
    check(label + ": NOTES render and warn about nothing", notes and "WARNING" not in notes,
          notes)


def test_cert_manager():
    docs, _ = render_docs(["cert-manager.yaml"])
    label = "cert-manager"
    check_documents(label, docs)
    check(label + ": expected kinds",
          kinds_of(docs) == expected_kinds(scope_bindings="cluster", self_certs=False,
                                           cert_manager=True), kinds_of(docs))
    check_webhooks(label, docs, cert_manager=True)
    check_no_self_managed_certs(label, docs)
    cert = one(docs, "Certificate", "webhook")
    svc = one(docs, "Service", "webhook")["metadata"]["name"]
    check(label + ": serving Certificate writes the webhook's TLS Secret",
          cert is not None and cert["spec"]["secretName"] == "lw-lockwarden-webhook-tls")
    check(label + ": serving Certificate covers the Service DNS names",
          cert is not None and "%s.%s.svc" % (svc, NS) in cert["spec"]["dnsNames"])
    check(label + ": serving Certificate renews before expiry",
          cert is not None and cert["spec"].get("renewBefore") == "720h")
    ca = one(docs, "Certificate", "-ca")
    issuer = one(docs, "Issuer", "-ca")
    check(label + ": chart-made CA chain (self-signed root -> CA Issuer -> serving cert)",
          ca is not None and ca["spec"].get("isCA") is True and issuer is not None
          and issuer["spec"]["ca"]["secretName"] == ca["spec"]["secretName"]
          and cert["spec"]["issuerRef"]["name"] == issuer["metadata"]["name"])
    docs, _ = render_docs(["cert-manager.yaml"], ["certManager.issuerRef.name=corp-ca",
                                                  "certManager.issuerRef.kind=ClusterIssuer"])
    label = "cert-manager with a ClusterIssuer"
    check(label + ": expected kinds",
          kinds_of(docs) == expected_kinds(scope_bindings="cluster", self_certs=False,
                                           cert_manager=True, own_ca=False), kinds_of(docs))
    cert = one(docs, "Certificate", "webhook")
    check(label + ": serving Certificate uses it",
          cert is not None and cert["spec"]["issuerRef"] == {
              "name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"})


def test_ignore():
    docs, _ = render_docs(["ignore.yaml"])
    label = "failurePolicy Ignore"
    check_documents(label, docs)
    check_webhooks(label, docs, failure="Ignore", timeout=3, mutating_failure="Fail",
                   excluded=("kube-system", "monitoring"))
    v = one(docs, "ValidatingWebhookConfiguration")
    exprs = v["webhooks"][0]["namespaceSelector"]["matchExpressions"]
    check(label + ": extra namespaceSelector expression is ANDed",
          {"key": "lockwarden.io/enforce", "operator": "In", "values": ["true"]} in exprs, exprs)
    docs, _ = render_docs(sets=["webhook.failurePolicy=Ignore"], namespace="kube-system")
    w = one(docs, "ValidatingWebhookConfiguration")["webhooks"][0]
    vals = w["namespaceSelector"]["matchExpressions"][0]["values"]
    check("release in kube-system: the exclusion lists it once", vals.count("kube-system") == 1,
          vals)


def test_no_namespace_labels():
    """webhook.namespaceLabelsFromCluster=false: no RBAC, no token, no LW_NAMESPACE_LABELS."""
    docs, _ = render_docs(sets=["webhook.namespaceLabelsFromCluster=false"])
    label = "namespaceLabelsFromCluster false"
    check_documents(label, docs)
    check(label + ": expected kinds",
          kinds_of(docs) == expected_kinds(scope_bindings="cluster", ns_labels=False),
          kinds_of(docs))
    check_webhook_deployment(label, docs, tls_secret="lw-lockwarden-webhook-tls",
                             resources={"requests": {"cpu": "100m", "memory": "64Mi"},
                                        "limits": {"cpu": "1", "memory": "256Mi"}},
                             ns_labels=False)


def test_namespace_refresh():
    """webhook.namespaceRefreshSeconds: both bounds, from --set and from a file; not
    rendered without namespaceLabelsFromCluster."""
    res = {"requests": {"cpu": "100m", "memory": "64Mi"},
           "limits": {"cpu": "1", "memory": "256Mi"}}
    for sets, want in ((["webhook.namespaceRefreshSeconds=1"], 1),
                       (["webhook.namespaceRefreshSeconds=86400"], 86400)):
        docs, _ = render_docs(sets=sets)
        check_webhook_deployment("namespaceRefreshSeconds %d" % want, docs,
                                 tls_secret="lw-lockwarden-webhook-tls", resources=res,
                                 ns_refresh=want)
    tmp = tempfile.mkdtemp(prefix="lw-chart-")
    try:
        path = os.path.join(tmp, "refresh.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("webhook:\n  namespaceRefreshSeconds: 120\n")
        rendered, _, chart_name = render.render_chart(CHART, [path], (), (), RELEASE, NS,
                                                      False, ())
        docs = [d for d in yaml.load_all(render.manifests(rendered, chart_name), Loader=LOADER)
                if d is not None]
        check_webhook_deployment("namespaceRefreshSeconds 120 from a file", docs,
                                 tls_secret="lw-lockwarden-webhook-tls", resources=res,
                                 ns_refresh=120)
    finally:
        shutil.rmtree(tmp)
    docs, _ = render_docs(sets=["webhook.namespaceLabelsFromCluster=false",
                                "webhook.namespaceRefreshSeconds=60"])
    check_webhook_deployment("namespaceRefreshSeconds without namespaceLabelsFromCluster", docs,
                             tls_secret="lw-lockwarden-webhook-tls", resources=res,
                             ns_labels=False)


def test_no_executor():
    docs, notes = render_docs(["no-executor.yaml"])
    label = "executor disabled"
    check_documents(label, docs)
    check(label + ": expected kinds",
          kinds_of(docs) == expected_kinds(executor=False, renewal=False, mutating=False),
          kinds_of(docs))
    check(label + ": nothing of the executor rendered",
          not [d for d in docs if "executor" in d["metadata"]["name"]])
    check_webhooks(label, docs, mutating=False,
                   excluded=("kube-system", "kube-node-lease", "kube-public"))
    check_self_managed_certs(label, docs, renewal=False, tls_secret="lw-lockwarden-webhook-tls",
                             mutating=False)
    check(label + ": NOTES warn that nothing renews the certificate",
          notes and "nothing renews it" in notes)


def test_namespaced_rbac():
    docs, _ = render_docs(["namespaced-rbac.yaml"])
    label = "namespaced RBAC"
    check_documents(label, docs)
    check(label + ": expected kinds",
          kinds_of(docs) == expected_kinds(scope_bindings=2), kinds_of(docs))
    check_executor(label, docs, scope="namespaces", namespaces=("shop", "billing"), secrets=False,
                   s3_secret="s3-creds", extra_secrets=("tenant-a-s3",))
    capture = [d for d in by_kind(docs, "ClusterRole")
               if d["metadata"]["name"].endswith("executor-capture")][0]
    check(label + ": extra rule for a custom resource",
          rules_grant(capture["rules"], "postgres-operator.crunchydata.com", "postgresclusters",
                      "list"))
    docs, _ = render_docs(sets=["executor.rbac.readAllTypes=true"])
    check_documents("readAllTypes", docs, read_all=True)
    check_executor("readAllTypes", docs)
    docs, _ = render_docs(["namespaced-rbac.yaml"], ["policies.fromChartFiles=false"])
    role = one(docs, "Role", "executor")
    names = [r.get("resourceNames") for r in role["rules"] if r.get("resources") == ["secrets"]]
    check(label + ", no chart policies: only the Secrets named in values",
          names == [["s3-creds", "tenant-a-s3"]], names)
    docs, _ = render_docs(sets=["policies.fromChartFiles=false"])
    role = one(docs, "Role", "executor")
    check("no policies and no S3 Secret: the executor may read no Secret in its namespace",
          not [r for r in role["rules"] if r.get("resources") == ["secrets"]], role["rules"])


def test_custom():
    docs, notes = render_docs(["custom.yaml"])
    label = "custom values"
    check_documents(label, docs)
    check(label + ": expected kinds",
          kinds_of(docs) == expected_kinds(scope_bindings="cluster", s3_secret=True),
          kinds_of(docs))
    image = "registry.example.com/platform/lockwarden:1.2.3"
    res = {"requests": {"cpu": "250m", "memory": "128Mi"},
           "limits": {"cpu": "2", "memory": "512Mi"}}
    check_webhook_deployment(label, docs, replicas=3, image=image, port=9443, hard=True,
                             tls_secret="guard-serving", resources=res,
                             priority="lockwarden-critical", threads=4, log_level="debug")
    check_webhooks(label, docs)
    check_pdb(label, docs, min_available=2)
    check_executor(label, docs, s3_secret="guard-s3", lease="guard-leader", image=image,
                   metrics=9191, extra_secrets=("tenant-b-s3", "guard-backup-key"))
    check_self_managed_certs(label, docs, schedule="0 */6 * * *", days="90", within="20",
                             tls_secret="guard-serving")
    inline = yaml.safe_load(open(os.path.join(FIXTURES, "custom.yaml"),
                                 encoding="utf-8"))["policies"]["inline"]
    check_policies(label, docs, inline=inline)
    images = {c["image"] for _, spec in pod_specs(docs) for c in spec["containers"]}
    check(label + ": every container uses the custom image", images == {image}, images)
    pulls = [spec.get("imagePullSecrets") for _, spec in pod_specs(docs)]
    check(label + ": every pod has the pull secret",
          all(p == [{"name": "regcred"}] for p in pulls), pulls)
    check(label + ": common labels on every object",
          all(d["metadata"]["labels"].get("team") == "platform"
              and d["metadata"]["labels"].get("tier") == "1" for d in docs))
    tmeta = one(docs, "Deployment", "webhook")["spec"]["template"]["metadata"]
    check(label + ": pod annotations and labels rendered as strings",
          tmeta.get("annotations") == {"prometheus.io/scrape": "true",
                                       "prometheus.io/port": "8443"}
          and tmeta["labels"].get("sidecar.istio.io/inject") == "false", tmeta)
    sec = one(docs, "Secret", "s3")
    check(label + ": S3 Secret holds base64 credentials",
          sec is not None and base64.b64decode(sec["data"]["AWS_ACCESS_KEY_ID"]) == b"AKIAEXAMPLE")
    dep = one(docs, "Deployment", "executor")
    env = dep["spec"]["template"]["spec"]["containers"][0]["env"]
    check(label + ": executor extra env kept",
          {"name": "AWS_REGION", "value": "eu-central-1"} in env)
    docs, _ = render_docs(sets=["webhook.podAnnotations.prometheus\\.io/scrape=true"])
    ann = one(docs, "Deployment", "webhook")["spec"]["template"]["metadata"].get("annotations")
    check("--set with an escaped dot sets a pod annotation",
          ann == {"prometheus.io/scrape": "true"}, ann)
    docs, _ = render_docs(sets=["image.digest=sha256:" + "a" * 64, "image.tag=9.9.9"])
    images = {c["image"] for _, spec in pod_specs(docs) for c in spec["containers"]}
    check("image digest wins over tag", images == {"lockwarden@sha256:" + "a" * 64}, images)


def test_upgrade_keeps_ca_bundle():
    """An upgrade renders the CA already in the TLS Secret as caBundle, so `helm upgrade`
    never blanks the bundle the certificate job wrote (caBundle drift)."""
    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nTEST\n").decode()
    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": "lw-lockwarden-webhook-tls", "namespace": NS},
              "data": {"ca.crt": ca, "tls.crt": "eA==", "tls.key": "eA=="}}
    docs, _ = render_docs(cluster=[secret])
    check_webhooks("upgrade", docs, ca_bundle=ca,
                   excluded=("kube-system", "kube-node-lease", "kube-public"))
    other = dict(secret, metadata={"name": "lw-lockwarden-webhook-tls",
                                   "namespace": "elsewhere"})
    docs, _ = render_docs(cluster=[other])
    check_webhooks("upgrade, Secret in another namespace", docs, ca_bundle=None)
    docs, _ = render_docs(["manual-certs.yaml"], cluster=[secret])
    check_webhooks("upgrade, manual caBundle wins", docs, ca_bundle="TUFOVUFMLUNBLUJVTkRMRQ==")
    docs, _ = render_docs(["cert-manager.yaml"], cluster=[secret])
    check_webhooks("upgrade, cert-manager", docs, cert_manager=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(secret, f)
    try:
        p = subprocess.run([sys.executable, RENDER, CHART, "--name", RELEASE, "--namespace", NS,
                            "--upgrade", "--lookup", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    check("render.py --lookup feeds lookup", p.returncode == 0 and
          p.stdout.count("caBundle: " + ca) == 2, p.stderr)


def test_manual_and_single_replica():
    docs, _ = render_docs(["manual-certs.yaml"])
    label = "manual certificates"
    check_documents(label, docs)
    check_no_self_managed_certs(label, docs)
    check_webhooks(label, docs, ca_bundle="TUFOVUFMLUNBLUJVTkRMRQ==")
    check_webhook_deployment(label, docs, tls_secret="my-webhook-tls")
    docs, _ = render_docs(sets=["policies.fromChartFiles=false"])
    check_policies("no chart policy files", docs, from_files=False)
    cm = one(docs, "ConfigMap", "policies")
    check("no chart policy files: ConfigMap data is an empty map",
          cm is not None and cm.get("data") == {}, cm and cm.get("data"))
    docs, _ = render_docs(sets=["webhook.preStopSeconds=0"])
    check_webhook_deployment("no preStop", docs, tls_secret="lw-lockwarden-webhook-tls",
                             pre_stop=0)
    docs, notes = render_docs(sets=["webhook.replicaCount=1"])
    check_pdb("one replica", docs, expect=False)
    check("one replica with Fail: NOTES warn", notes and "WARNING" in notes and "Fail" in notes)


def test_invalid_values():
    cases = {
        "failure-policy.yaml": "failurePolicy must be Fail or Ignore",
        "timeout.yaml": "timeoutSeconds must be between 1 and 30",
        "namespaces-empty.yaml": "executor.rbac.namespaces must list",
        "scope.yaml": "executor.rbac.scope must be cluster or namespaces",
        "star-rule.yaml": "\"*\" is not allowed",
        "s3-no-keys.yaml": "s3.accessKeyId is required",
        "manual-no-cabundle.yaml": "webhook.caBundle is required",
        "anti-affinity.yaml": "podAntiAffinity must be soft or hard",
        "threads.yaml": "webhook.threads must be between 1 and 64",
        "read-all-no-secrets.yaml": "readAllTypes reads Secrets too",
        "grace.yaml": "terminationGracePeriodSeconds must exceed webhook.preStopSeconds",
        "namespace-refresh.yaml": "webhook.namespaceRefreshSeconds must be between 1 and 86400",
        "namespace-refresh-high.yaml":
            "webhook.namespaceRefreshSeconds must be between 1 and 86400",
    }
    for f, msg in sorted(cases.items()):
        try:
            render.render_chart(CHART, [os.path.join(FIXTURES, "invalid", f)])
            err = "rendered without an error"
        except render.RenderError as e:
            err = str(e)
        check("invalid values %s: render fails with a clear message" % f,
              msg in err and "lockwarden/templates/" in err, err)
    p = subprocess.run([sys.executable, RENDER, CHART, "-f",
                        os.path.join(FIXTURES, "invalid", "timeout.yaml")],
                       capture_output=True, text=True)
    check("render.py exits 1 with template:line and nothing on stdout",
          p.returncode == 1 and not p.stdout and
          re.match(r"render: lockwarden/templates/[a-z-]+\.yaml:\d+: ", p.stderr), p.stderr)


# ---- values.yaml documentation ------------------------------------------------------------------

def test_values_documented():
    path = os.path.join(CHART, "values.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.splitlines()
    node = yaml.compose(text)
    undocumented = []
    count = 0

    def walk(n, prefix):
        # helm-docs convention: "# -- text" documents a value as a whole (its default's
        # inner keys are data); a plain "#" comment documents a section whose keys must
        # each be documented in turn.
        nonlocal count
        if not isinstance(n, yaml.MappingNode):
            return
        for k, v in n.value:
            count += 1
            key = prefix + k.value
            i = k.start_mark.line - 1
            while i >= 0 and not lines[i].strip():
                i -= 1
            # Skip up over a multi-line comment to its first line.
            while i > 0 and lines[i].lstrip().startswith("#") and \
                    lines[i - 1].lstrip().startswith("#") and \
                    not lines[i].lstrip().startswith("# --"):
                i -= 1
            comment = lines[i].lstrip() if i >= 0 else ""
            if not comment.startswith("#"):
                undocumented.append("%s (line %d)" % (key, k.start_mark.line + 1))
            elif not comment.startswith("# --"):
                walk(v, key + ".")
    walk(node, "")
    check("values.yaml: every key has a comment line above it (%d keys)" % count,
          count > 40 and not undocumented, undocumented)
    values = yaml.safe_load(text)
    tdir = os.path.join(CHART, "templates")
    missing = set()
    for f in os.listdir(tdir):
        with open(os.path.join(tdir, f), encoding="utf-8") as fh:
            for ref in re.findall(r"\.Values((?:\.[A-Za-z0-9_]+)+)", fh.read()):
                cur = values
                for part in ref[1:].split("."):
                    if not isinstance(cur, dict) or part not in cur:
                        missing.add(ref)
                        break
                    cur = cur[part]
    check("templates use only values that values.yaml defines", not missing, sorted(missing))


# ---- the renderer itself ------------------------------------------------------------------------

def test_renderer():
    tmp = tempfile.mkdtemp(prefix="lw-chart-")
    try:
        os.makedirs(os.path.join(tmp, "templates"))
        with open(os.path.join(tmp, "Chart.yaml"), "w") as f:
            f.write("apiVersion: v2\nname: t\nversion: 0.0.1\nappVersion: \"1\"\n")
        with open(os.path.join(tmp, "values.yaml"), "w") as f:
            f.write("a:\n  b: x\n  n: 2\n  l: [p, q]\n")
        with open(os.path.join(tmp, "big.yaml"), "w") as f:
            f.write("a:\n  big: 1000000\n")

        def run(body, *extra):
            with open(os.path.join(tmp, "templates", "t.yaml"), "w") as f:
                f.write(body)
            return subprocess.run([sys.executable, RENDER, tmp] + list(extra),
                                  capture_output=True, text=True)
        bad = {
            "line 1\nline 2\n{{ tpl \"x\" . }}\n": "t/templates/t.yaml:3: function \"tpl\"",
            "{{ block \"x\" . }}{{ end }}\n": "t/templates/t.yaml:1: {{block}} is outside",
            "{{ range .Values.a.l }}{{ break }}{{ end }}\n": "{{break}} is outside",
            "{{ if .Values.a.b }}\n": "missing {{end}}",
            "{{ if 1 }}{{ define \"x\" }}{{ end }}{{ end }}\n": "must be at the top level",
            "a: {{ .Values.nope.deeper }}\n": "t/templates/t.yaml:1: nil pointer",
            "{{ .Values.a.b | frobnicate }}\n": "function \"frobnicate\" not defined",
            "{{ .Values.a.b \n": "unclosed action",
            "{{ printf \"%x\" 1 }}\n": "printf verb %x",
            # values-file numbers are float64 in Helm; Go refuses float64 == int
            "{{ if eq .Values.a.n 2 }}x{{ end }}\n": "incompatible types for comparison",
        }
        for body, msg in bad.items():
            p = run(body)
            check("renderer rejects %r" % body.strip()[:30], p.returncode == 1 and msg in p.stderr,
                  p.stderr.strip())
        p = run("x:\n  {{- if .Values.a.b }}\n  y: {{ .Values.a.n }}\n  {{- end }}\n"
                "l: {{ .Values.a.l | join \",\" }}\n{{/* c */}}\nq: {{ .Values.a.b | quote }}\n",
                "--set", "a.n=7,a.l={r,s}")
        check("renderer: trimming, --set with a list, quote",
              p.returncode == 0 and "x:\n  y: 7\nl: r,s\n\nq: \"x\"" in p.stdout, p.stdout)
        p = run("a: {{ .Values.a.n }}\nb: {{ int .Values.a.n | printf \"%d\" }}\n"
                "c: {{ printf \"%d\" .Values.a.n }}\nd: {{ .Values.a.big }}\n",
                "-f", os.path.join(tmp, "big.yaml"))
        check("renderer: float64 values print like Go (2, 1e+06, %!d(float64=2))",
              p.returncode == 0 and "a: 2\nb: 2\nc: %!d(float64=2)\nd: 1e+06\n" in p.stdout,
              p.stdout + p.stderr)
        p = run("{{ if eq .Values.a.n 7 }}seven{{ end }}\n", "--set", "a.n=7")
        check("renderer: --set integers are int", p.returncode == 0 and "seven" in p.stdout,
              p.stderr)
        p = run("v: {{ .Values.a.b }}\n", "--set", "a.b=null")
        check("renderer: --set null removes a key (Helm semantics)",
              p.returncode == 0 and "v: \n" in p.stdout, p.stdout)
        p = run("{{- range $i, $v := .Values.a.l }}\n- {{ $i }}{{ $v }}\n{{- end }}\n")
        check("renderer: range with index and value", p.returncode == 0
              and "- 0p\n- 1q" in p.stdout, p.stdout)
    finally:
        shutil.rmtree(tmp)
    p = subprocess.run([sys.executable, RENDER, CHART, "--name", "x", "--namespace", "y"],
                       capture_output=True, text=True)
    check("renderer CLI renders the chart", p.returncode == 0 and "# Source: lockwarden/templates/"
          in p.stdout and not p.stderr, p.stderr)


# ---- the Dockerfile -----------------------------------------------------------------------------

def dockerfile_stages():
    with open(os.path.join(TOP, "Dockerfile"), encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            stages.append({"from": line.split()[1], "lines": []})
        elif stages and line and not line.startswith("#"):
            stages[-1]["lines"].append(line)
    return stages


def apt_packages(lines):
    pkgs = set()
    for line in lines:
        if line.startswith("RUN") and "apt-get install" in line:
            seg = line.split("apt-get install", 1)[1].split("&&")[0]
            pkgs |= {w for w in seg.split() if not w.startswith("-")}
    return pkgs


def test_dockerfile():
    stages = dockerfile_stages()
    check("Dockerfile: two stages from debian:12-slim",
          len(stages) == 2 and all(s["from"] == "debian:12-slim" for s in stages),
          [s["from"] for s in stages])
    if len(stages) != 2:
        return
    build, runtime = stages
    with open(os.path.join(TOP, "scripts", "deps.sh"), encoding="utf-8") as f:
        m = re.search(r'^BUILD_PKGS="([^"]*)"', f.read(), re.M)
    want = set(m.group(1).split()) if m else set()
    check("Dockerfile: build stage installs scripts/deps.sh BUILD_PKGS",
          want and apt_packages(build["lines"]) == want,
          sorted(apt_packages(build["lines"]) ^ want))
    check("Dockerfile: build stage runs make", any(l.startswith("RUN") and "make" in l
                                                   for l in build["lines"]))
    rt = apt_packages(runtime["lines"])
    check("Dockerfile: runtime has no -dev packages or compilers",
          not [p for p in rt if p.endswith("-dev") or p in ("gcc", "make")], rt)
    check("Dockerfile: copies build/lockwarden from the build stage",
          any(re.match(r"COPY --from=\S+ \S*build/lockwarden /usr/local/bin/lockwarden", l)
              for l in runtime["lines"]))
    user = [l.split()[1] for l in runtime["lines"] if l.startswith("USER ")]
    values = yaml.safe_load(open(os.path.join(CHART, "values.yaml"), encoding="utf-8"))
    uid = values["podSecurityContext"]["runAsUser"]
    check("Dockerfile: runs as the chart's fixed non-root UID",
          user == ["%d:%d" % (uid, uid)] and uid != 0, user)
    check("Dockerfile: ENTRYPOINT is the binary",
          'ENTRYPOINT ["/usr/local/bin/lockwarden"]' in runtime["lines"])
    with open(os.path.join(TOP, ".dockerignore"), encoding="utf-8") as f:
        ignored = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    check(".dockerignore keeps .git and build outputs out", {".git", "build", "build-*"}
          <= ignored, ignored)
    sources = {"Makefile", "cli", "common", "policy", "webhook", "backup", "certs"}
    check(".dockerignore keeps every source directory `make all` compiles",
          not [i for i in ignored if i.rstrip("/") in sources or i in ("*", "**")], ignored)

    # The runtime packages must provide every library the real binary loads.
    binary = os.environ.get("LW_BIN") or os.path.join(TOP, "build", "lockwarden")
    check("the binary exists for the library check (make builds it): " + binary,
          os.path.isfile(binary))
    if not os.path.isfile(binary):
        return
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    paths = re.findall(r"=>\s+(/\S+)", out)
    check("ldd lists the shared libraries", len(paths) >= 5, out)
    # `make check` links the sanitizer runtimes into its test build; the image ships the
    # release build, which has none of them.
    paths = [p for p in paths if not re.search(r"/lib(asan|ubsan|tsan|lsan)\.so", p)]
    # dpkg records /usr/lib or /lib depending on the package (usrmerge): ask for all spellings
    # at once, then map each answer back to its library.
    cands = {}
    for p in paths:
        alts = {p, os.path.realpath(p)}
        alts |= {"/usr" + c for c in list(alts) if c.startswith("/lib")}
        alts |= {c[4:] for c in list(alts) if c.startswith("/usr/lib")}
        for a in alts:
            cands[a] = p
    q = subprocess.run(["dpkg-query", "-S"] + sorted(cands), capture_output=True, text=True)
    owners = {p: set() for p in paths}
    for line in q.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        if path in cands:
            owners[cands[path]] |= {x.strip().split(":")[0] for x in pkg.split(",")}
    unowned = [p for p, o in owners.items() if not o]
    check("dpkg knows the package of every library", not unowned, unowned)
    # What the runtime stage gets: its packages, their dependencies, and debian:12-slim's
    # own required/essential set.
    q = subprocess.run(["dpkg-query", "-W", "-f",
                        "${Package}\t${Essential}\t${Priority}\t${Pre-Depends}, ${Depends}\n"],
                       capture_output=True, text=True)
    deps = {}
    base = set()
    for line in q.stdout.splitlines():
        name, essential, prio, dep = (line.split("\t") + ["", "", ""])[:4]
        deps[name] = {re.split(r"[\s(:]", alt.strip())[0]
                      for d in dep.split(",") for alt in d.split("|")[:1] if alt.strip()}
        if essential == "yes" or prio == "required":
            base.add(name)

    def closure(roots):
        seen = set()
        todo = list(roots)
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(deps.get(n, ()))
        return seen
    have = closure(rt | base)
    missing = sorted({p for p, o in owners.items() if o and not (o & have)})
    check("Dockerfile: runtime packages cover every library of build/lockwarden", not missing,
          ["%s (%s)" % (p, ",".join(sorted(owners[p]))) for p in missing])
    direct = {next(iter(o)) for p, o in owners.items() if len(o) == 1}
    extra = sorted(p for p in rt - {"ca-certificates"} if p not in closure(direct))
    check("Dockerfile: no runtime package the binary does not use", not extra, extra)


# ---- the real binary with the chart's configuration ----------------------------------------------

def https_post(port, ca, hostname, method, path, body=b""):
    """One HTTPS request to 127.0.0.1:port, verifying the certificate for hostname (the
    Service DNS name the API server would use). Returns (status, body)."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=hostname) as tls:
            head = ("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n"
                    % (method, path, hostname, len(body)))
            tls.sendall(head.encode() + body)
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        out = b""
        while payload:
            size, _, rest = payload.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out += rest[:n]
            payload = rest[n + 2:]
        payload = out
    return status, payload


def wait_for_line(proc, needle, seconds):
    """Reads the process's stderr until a line contains needle; returns that line or None.
    Waits on the pipe (select), never on a clock."""
    buf = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], deadline - time.monotonic())
        if not ready:
            break
        chunk = os.read(proc.stderr.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        for line in buf.split(b"\n")[:-1]:  # complete lines only
            if needle in line:
                return line.decode(errors="replace")
    return None


def test_binary_with_chart_config():
    """Starts the real webhook the way the chart's Deployment does: same args and
    environment, the rendered policies ConfigMap as the /policies directory, a certificate
    made by `lockwarden certs` with the certificate job's flags. Then calls the probe paths
    and both webhook paths as the kubelet and the API server would."""
    binary = os.environ.get("LW_BIN") or os.path.join(TOP, "build", "lockwarden")
    check("the binary exists for the chart smoke test (make builds it)", os.path.isfile(binary))
    if not os.path.isfile(binary):
        return
    docs, _ = render_docs()
    dep = one(docs, "Deployment", "webhook")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    svc = one(docs, "Service", "webhook")["metadata"]["name"]
    hostname = "%s.%s.svc" % (svc, NS)
    job = [d for d in by_kind(docs, "Job") if d["metadata"]["name"].endswith("certs-init")][0]
    cert_args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    chart_meta = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml"), encoding="utf-8"))
    v = subprocess.run([binary, "version"], capture_output=True, text=True).stdout.split()
    check("Chart appVersion (the default image tag) is the binary's version",
          v[1:] == [str(chart_meta["appVersion"])], (v, chart_meta["appVersion"]))
    tmp = tempfile.mkdtemp(prefix="lw-chart-")
    proc = None
    try:
        # The certificate job's flags, less the in-cluster ones (--secret, --patch-webhook),
        # writing into a directory instead of the Secret.
        args, i = [], 0
        while i < len(cert_args):
            if cert_args[i] in ("--secret", "--patch-webhook"):
                i += 2
                continue
            args.append(os.path.join(tmp, "tls") if i and cert_args[i - 1] == "--out"
                        else cert_args[i])
            i += 1
        p = subprocess.run([binary] + args, capture_output=True, text=True)
        check("lockwarden certs accepts the certificate job's flags", p.returncode == 0,
              p.stderr.strip())
        if p.returncode != 0:
            return
        ca = os.path.join(tmp, "tls", "ca.crt")
        # The kubelet's view of the pod: the Secret's items at /tls, the ConfigMap at /policies.
        pol = os.path.join(tmp, "policies")
        os.makedirs(pol)
        for name, text in (one(docs, "ConfigMap", "policies").get("data") or {}).items():
            with open(os.path.join(pol, name), "w", encoding="utf-8") as f:
                f.write(text)
        mounts = {"/tls": os.path.join(tmp, "tls"), "/policies": pol}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for e in container["env"]:
            v = e["value"]
            for m, real in mounts.items():
                if v == m or v.startswith(m + "/"):
                    v = real + v[len(m):]
            env[e["name"]] = v
        # The Namespace list needs a cluster: outside one, the smoke test runs without it.
        check("chart's webhook lists namespaces from the cluster",
              env.pop("LW_NAMESPACE_LABELS", None) == "cluster")
        # Kept: the binary must accept the chart's refresh setting.
        check("chart's webhook lists namespaces every 30 s",
              env.get("LW_NAMESPACE_REFRESH") == "30", env.get("LW_NAMESPACE_REFRESH"))
        check("chart's LW_LISTEN is the container port on all addresses",
              env["LW_LISTEN"] == "0.0.0.0:%d" % container["ports"][0]["containerPort"])
        env["LW_LISTEN"] = "127.0.0.1:0"  # the test never leaves loopback
        proc = subprocess.Popen([binary] + container["args"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = wait_for_line(proc, b'"listening"', 8)
        check("the webhook starts with the chart's args and environment", line is not None,
              "exit %s" % proc.poll())
        if line is None:
            return
        port = json.loads(line)["port"]
        for probe in ("readinessProbe", "livenessProbe"):
            path = container[probe]["httpGet"]["path"]
            status, _ = https_post(port, ca, hostname, "GET", path)
            check("%s %s answers 200 over TLS valid for %s" % (probe, path, hostname),
                  status == 200, status)
        # The executor's args must parse (exit 2 is a usage error); outside a cluster it
        # then stops on the missing kube config (exit 1) before doing anything.
        ex = one(docs, "Deployment", "executor")["spec"]["template"]["spec"]["containers"][0]
        ex_args = [pol if a == "/policies" else
                   ("127.0.0.1:0" if a.startswith("0.0.0.0:") else a) for a in ex["args"]]
        p = subprocess.run([binary] + ex_args, capture_output=True, text=True, timeout=20,
                           env={"PATH": env["PATH"], "HOME": tmp})
        check("lockwarden executor accepts the chart's args (stops only for the missing "
              "cluster)", p.returncode == 1 and "cannot run" in p.stderr, p.stderr.strip())
        fixtures = os.path.join(TOP, "tests", "fixtures", "admissionreview")
        for cfg in by_kind(docs, "ValidatingWebhookConfiguration") + \
                by_kind(docs, "MutatingWebhookConfiguration"):
            path = cfg["webhooks"][0]["clientConfig"]["service"]["path"]
            name = "%s-deployment-create-web-bad.json" % path.strip("/")
            with open(os.path.join(fixtures, name), "rb") as f:
                body = f.read()
            uid = json.loads(body)["request"]["uid"]
            timeout = cfg["webhooks"][0]["timeoutSeconds"]
            status, payload = https_post(port, ca, hostname, "POST",
                                         "%s?timeout=%ds" % (path, timeout), body)
            try:
                resp = json.loads(payload).get("response", {})
            except ValueError:
                resp = {}
            check("%s %s: 200 and an AdmissionReview answer for the request's uid"
                  % (cfg["kind"], path),
                  status == 200 and resp.get("uid") == uid
                  and isinstance(resp.get("allowed"), bool), (status, payload[:200]))
            if path == "/validate":
                check("/validate with the chart's policies denies a Deployment with no "
                      "dataprotection label", resp.get("allowed") is False, resp)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()
        shutil.rmtree(tmp)


def main():
    start = time.monotonic()
    for t in (test_defaults, test_cert_manager, test_ignore, test_no_namespace_labels,
              test_namespace_refresh, test_no_executor,
              test_namespaced_rbac, test_custom, test_upgrade_keeps_ca_bundle,
              test_manual_and_single_replica,
              test_invalid_values, test_values_documented, test_renderer, test_dockerfile,
              test_binary_with_chart_config):
        try:
            t()
        except render.RenderError as e:
            check(t.__name__ + " rendered", False, e)
        except Exception as e:  # a crash in one group must not hide the others
            check(t.__name__ + " ran", False, "%s: %s" % (type(e).__name__, e))
    # CPU time, ours and our children's: wall time on a shared, loaded machine says more
    # about the neighbours than about this test.
    t = os.times()
    cpu = t.user + t.system + t.children_user + t.children_system
    check("the whole chart test takes under 10 s of CPU (%.1f s CPU, %.1f s wall)"
          % (cpu, time.monotonic() - start), cpu < 10)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
