#!/usr/bin/env python3
"""Checks examples/deploy without docker or a cluster (neither runs in CI): the Dockerfile's
COPY sources and build components exist, its runtime stage is non-root with a /health check;
compose.yaml and the Kubernetes manifests parse as YAML and refer to each other consistently
(secrets, volumes, ports, labels, the HPA's metric); every llmhost flag they pass is one the
built `llmhost` accepts; .env.example holds placeholders only.

    check_deploy.py REPO_ROOT [LLMHOST_BINARY]

Exit 0: all checks passed; 1: a check failed (each failure printed); 77: PyYAML is missing."""
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("skipped: PyYAML is not installed (Debian package python3-yaml; scripts/deps.sh installs it)")
    sys.exit(77)

root = os.path.abspath(sys.argv[1])
llmhost = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
deploy = os.path.join(root, "examples", "deploy")
failures = []
notes = []


def fail(where, what):
    failures.append(f"{where}: {what}")


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---- the flags of the built llmhost -----------------------------------------------------------
help_cache = {}


def flags_of(command):
    """The --flags `llmhost <command> --help` lists, or None when the command is not built."""
    if llmhost is None:
        return None
    if command not in help_cache:
        r = subprocess.run([llmhost] + command.split() + ["--help"], capture_output=True, text=True)
        # An unknown subcommand prints the top-level help (exit 0): its Usage line tells.
        known = r.returncode == 0 and f"Usage: llmhost {command} " in r.stdout
        help_cache[command] = set(re.findall(r"(--[a-z][a-z0-9-]*)", r.stdout)) if known else None
    return help_cache[command]


def check_args(where, args):
    """args: an llmhost argv without the program name (["serve", "--port", "8080", ...])."""
    if not args:
        return
    command = args[0]
    flags = flags_of(command)
    if flags is None:
        notes.append(f"{where}: `llmhost {command}` is not in this build; its flags were not checked")
        return
    for a in args[1:]:
        if a.startswith("--") and a.split("=")[0] not in flags:
            fail(where, f"`llmhost {command}` has no option {a}")


# ---- Dockerfile ---------------------------------------------------------------------------------
def check_dockerfile():
    where = "Dockerfile"
    text = open(os.path.join(deploy, "Dockerfile")).read()
    logical = re.sub(r"\\\n", " ", text)  # join continuation lines
    lines = [l.strip() for l in logical.splitlines() if l.strip() and not l.strip().startswith("#")]
    stages = [l for l in lines if l.upper().startswith("FROM ")]
    if len(stages) < 2:
        fail(where, "not multi-stage")
    for s in stages:
        image = s.split()[1]
        if not re.match(r"debian:12(-slim)?$", image):
            fail(where, f"base image {image} is not Debian 12")
    last = max(i for i, l in enumerate(lines) if l.upper().startswith("FROM "))
    runtime = lines[last:]
    for l in lines:
        if l.upper().startswith("COPY ") and "--from=" not in l:
            parts = l.split()[1:]
            parts = [p for p in parts if not p.startswith("--")]
            for src in parts[:-1]:
                if not os.path.exists(os.path.join(root, src)):
                    fail(where, f"COPY source {src} does not exist in the repository")
    m = re.search(r'-DLLMHOST_COMPONENTS="([^"]+)"', logical)
    if not m:
        fail(where, "the build does not name its components")
    else:
        copied = [l.split()[-2].rstrip("/") for l in lines if l.upper().startswith("COPY ") and "--from=" not in l]
        for comp in m.group(1).split(";"):
            if not os.path.exists(os.path.join(root, comp, "CMakeLists.txt")):
                fail(where, f"component {comp} has no CMakeLists.txt")
            if not any(comp == c or comp.startswith(c + "/") for c in copied):
                fail(where, f"component {comp} is built but not copied into the build stage")
        top = open(os.path.join(root, "CMakeLists.txt")).read()
        for comp in m.group(1).split(";"):
            if comp not in top:
                fail(where, f"component {comp} is not in the top-level _llmhost_dirs")
    users = [l.split()[1] for l in runtime if l.upper().startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        fail(where, "the runtime stage does not switch to a non-root user")
    installs = " ".join(l for l in runtime if "apt-get install" in l)
    if re.search(r"\S+-dev\b", installs):
        fail(where, "the runtime stage installs -dev packages")
    hc = [l for l in runtime if l.upper().startswith("HEALTHCHECK ")]
    if not hc or "/health" not in hc[0]:
        fail(where, "no HEALTHCHECK on /health")
    port = re.search(r"EXPOSE (\d+)", logical)
    if hc and port and f":{port.group(1)}/health" not in hc[0]:
        fail(where, "the HEALTHCHECK does not probe the EXPOSEd port")
    if not any(l.upper().startswith("VOLUME ") for l in runtime):
        fail(where, "no VOLUME for the model cache")
    cmd = [l for l in runtime if l.upper().startswith("CMD ")]
    if cmd:
        import json
        args = json.loads(cmd[-1][4:])
        check_args("Dockerfile CMD", args)
        if port and args[args.index("--port") + 1] != port.group(1):
            fail(where, "CMD --port differs from EXPOSE")


# ---- compose.yaml and .env.example --------------------------------------------------------------
def check_compose():
    where = "compose.yaml"
    (c,) = load_all(os.path.join(deploy, "compose.yaml"))
    env = {}
    for line in open(os.path.join(deploy, ".env.example")):
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            env[k] = v
    for k, v in env.items():
        if re.search(r"(TOKEN|KEY)$", k) and "REPLACE" not in v:
            fail(".env.example", f"{k} is not an obvious placeholder")
        if re.match(r"hf_[A-Za-z0-9]{30,}$", v) or re.match(r"sk-[A-Za-z0-9]{20,}$", v):
            fail(".env.example", f"{k} looks like a real token")
    raw = open(os.path.join(deploy, "compose.yaml")).read()
    for var in re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", raw):
        if var not in env:
            fail(where, f"${{{var}}} is not in .env.example")
    secrets = c.get("secrets", {})
    volumes = c.get("volumes", {}) or {}
    for name, s in c["services"].items():
        w = f"{where} service {name}"
        for sec in s.get("secrets", []):
            if sec not in secrets:
                fail(w, f"secret {sec} is not declared")
        for v in s.get("volumes", []):
            if isinstance(v, str):
                src = v.split(":")[0]
                if not src.startswith((".", "/", "$")) and src not in volumes:
                    fail(w, f"volume {src} is not declared")
        cmd = s.get("command", [])
        for a in cmd:
            if a.startswith("/run/secrets/") and a.split("/")[3] not in s.get("secrets", []):
                fail(w, f"{a} is not one of the service's secrets")
        check_args(w, cmd)
        if "HF_TOKEN" in (s.get("environment") or {}):
            fail(w, "HF_TOKEN in the environment: give it as a secret file (HF_TOKEN_PATH)")
    mirror = c["services"].get("mirror")
    if not mirror:
        fail(where, "no mirror service")
    elif not any(isinstance(v, dict) and v.get("read_only") for v in mirror.get("volumes", [])):
        fail(where, "the mirror's model cache is not mounted read-only")
    serve = c["services"].get("llmhost", {})
    if serve.get("environment", {}).get("HF_ENDPOINT", "").split("//")[-1].split(":")[0] != "mirror":
        fail(where, "llmhost serve does not download from the mirror service")


# ---- Kubernetes -------------------------------------------------------------------------------
def check_k8s():
    kdir = os.path.join(deploy, "k8s")
    docs = {}
    for f in sorted(os.listdir(kdir)):
        if f.endswith(".yaml"):
            for d in load_all(os.path.join(kdir, f)):
                if "kind" not in d:
                    fail(f"k8s/{f}", "a document without kind")
                    continue
                docs.setdefault(d["kind"], {})[d["metadata"]["name"] if "metadata" in d else f] = (f, d)
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "Secret", "PersistentVolumeClaim", "ConfigMap"):
        if kind not in docs:
            fail("k8s", f"no {kind}")
    kust = docs.get("Kustomization", {})
    for _, (f, d) in kust.items():
        for r in d.get("resources", []):
            if not os.path.exists(os.path.join(kdir, r)):
                fail(f"k8s/{f}", f"resource {r} does not exist")
    secrets = {n: d for n, (_, d) in docs.get("Secret", {}).items()}
    pvcs = docs.get("PersistentVolumeClaim", {})
    cms = {n: d for n, (_, d) in docs.get("ConfigMap", {}).items()}
    for dep_name, (f, dep) in list(docs.get("Deployment", {}).items()) + [
            (n, (f, {"spec": d["spec"]})) for n, (f, d) in docs.get("Job", {}).items()]:
        w = f"k8s/{f}"
        pod = dep["spec"]["template"]["spec"]
        labels = dep["spec"]["template"].get("metadata", {}).get("labels", {})
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        sc = pod.get("securityContext", {})
        if not sc.get("runAsNonRoot") or sc.get("runAsUser", 0) == 0:
            fail(w, "the pod does not run as non-root")
        for ctr in pod["containers"]:
            mounts = {m["name"]: m for m in ctr.get("volumeMounts", [])}
            for m in mounts:
                if m not in vols:
                    fail(w, f"volumeMount {m} has no volume")
            files = set()  # paths the secret and config mounts provide
            for name, v in vols.items():
                if name not in mounts:
                    fail(w, f"volume {name} is not mounted")
                    continue
                path = mounts[name]["mountPath"]
                if "secret" in v:
                    s = secrets.get(v["secret"]["secretName"])
                    if s is None:
                        fail(w, f"secret {v['secret']['secretName']} is not defined")
                        continue
                    keys = set((s.get("stringData") or {}).keys()) | set((s.get("data") or {}).keys())
                    for it in v["secret"].get("items", []):
                        if it["key"] not in keys:
                            fail(w, f"secret key {it['key']} is not in the Secret")
                        files.add(f"{path}/{it['path']}")
                    if not mounts[name].get("readOnly"):
                        fail(w, f"the secret volume {name} is not mounted read-only")
                if "configMap" in v:
                    cm = cms.get(v["configMap"]["name"])
                    if cm is None:
                        fail(w, f"configMap {v['configMap']['name']} is not defined")
                    else:
                        files |= {f"{path}/{k}" for k in cm.get("data", {})}
                if "persistentVolumeClaim" in v and v["persistentVolumeClaim"]["claimName"] not in pvcs:
                    fail(w, f"PVC {v['persistentVolumeClaim']['claimName']} is not defined")
            env = {e["name"]: e.get("value") for e in ctr.get("env", [])}
            if "HF_TOKEN" in env:
                fail(w, "HF_TOKEN in the environment: mount the token as a file")
            args = ctr.get("args", [])
            for i, a in enumerate(args):
                if a.startswith(("/run/secrets/", "/etc/llmhost/")) and a not in files:
                    fail(w, f"{a} is not provided by a mounted Secret or ConfigMap")
            for k in ("HF_TOKEN_PATH", "LLMHOST_CONFIG"):
                if k in env and env[k] not in files:
                    fail(w, f"{k}={env[k]} is not provided by a mounted Secret or ConfigMap")
            check_args(w, args)
            if dep_name != "llmhost":
                continue
            cache = [n for n, v in vols.items() if "persistentVolumeClaim" in v]
            for n in cache:
                if not (mounts.get(n, {}).get("readOnly") and vols[n]["persistentVolumeClaim"].get("readOnly")):
                    fail(w, f"the model cache {n} is not read-only")
            if env.get("HF_HOME") not in [mounts[n]["mountPath"] for n in cache if n in mounts]:
                fail(w, "HF_HOME is not the model cache volume")
            ports = {p.get("name"): p["containerPort"] for p in ctr.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe"):
                p = ctr.get(probe, {}).get("httpGet", {})
                if p.get("path") != "/health":
                    fail(w, f"{probe} is not GET /health")
                if p.get("port") not in ports and p.get("port") not in ports.values():
                    fail(w, f"{probe} probes a port the container does not have")
            if "--port" in args and int(args[args.index("--port") + 1]) not in ports.values():
                fail(w, "serve --port is not a container port")
            for _, (sf, svc) in docs.get("Service", {}).items():
                sel = svc["spec"]["selector"]
                if any(labels.get(k) != v for k, v in sel.items()):
                    fail(f"k8s/{sf}", "the Service selector does not match the pods")
                for sp in svc["spec"]["ports"]:
                    t = sp.get("targetPort")
                    if t not in ports and t not in ports.values():
                        fail(f"k8s/{sf}", f"targetPort {t} is not a container port")
    metrics_src = open(os.path.join(root, "host", "server", "src", "server_metrics.cpp")).read()
    adapter = " ".join(str(d) for _, (_, d) in docs.get("ConfigMap", {}).items())
    for _, (f, hpa) in docs.get("HorizontalPodAutoscaler", {}).items():
        ref = hpa["spec"]["scaleTargetRef"]
        if ref["kind"] != "Deployment" or ref["name"] not in docs.get("Deployment", {}):
            fail(f"k8s/{f}", f"scaleTargetRef {ref['name']} is not a Deployment here")
        for m in hpa["spec"]["metrics"]:
            name = m.get("pods", {}).get("metric", {}).get("name")
            if not name:
                fail(f"k8s/{f}", "a metric that is not a per-pod custom metric")
                continue
            if f'"{name}"' not in metrics_src:
                fail(f"k8s/{f}", f"{name} is not a metric llmhost serve exposes")
            if name not in adapter:
                fail(f"k8s/{f}", f"no Prometheus adapter rule serves {name}")


check_dockerfile()
check_compose()
check_k8s()
for n in notes:
    print("note:", n)
for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} problem(s) in examples/deploy")
sys.exit(1 if failures else 0)
