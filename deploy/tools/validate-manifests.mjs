#!/usr/bin/env node
// Offline checks of rendered Kubernetes manifests (multi-document YAML, e.g. the output of
// deploy/tools/render.py or `kubectl kustomize`):
//
//   node validate-manifests.mjs [--sidecar=native|regular|none] FILE...
//   node validate-manifests.mjs --self-test FILE        (FILE: a correct rendering of the base)
//
// 1. Schema: every object is validated against the Kubernetes API schema (npm kubernetes-models)
//    or the Prometheus Operator CRD schema (@kubernetes-models/prometheus-operator). An object
//    whose apiVersion/kind has no schema there is an error, not a skip.
// 2. Unknown fields: those validators do not reject unknown keys. Every key the schema knows is
//    read by the compiled validator, so the objects are handed to it behind a Proxy that records
//    the keys it reads; a key it never read is not in the schema (a typo such as
//    `readinesProbe`) and is reported. This is the key allow-list, derived from the schemas
//    themselves instead of kept by hand.
// 3. Policy (ours): Pod Security "restricted" plus a read-only root filesystem for every
//    container; named ports, probes on named ports; requests and limits; tagged images; and for
//    the exporter: port 9985, liveness on /-/healthy, readiness on /-/ready (never anything that
//    depends on backend health), uid 65532, its config from a ConfigMap mounted read-only (whole
//    directory, so updates reach it) and reloaded on change (--config.watch-interval, or a
//    reloader container that POSTs the exporter's /-/reload and watches the mount), the
//    PodMonitor selecting the pod and scraping that port, dashboards that parse as JSON.
//    --sidecar says where the exporter must be: native (an init container with restartPolicy
//    Always), regular (an ordinary container) or none (no pods expected).
// Exit 0 when everything passes, 1 when anything is reported, 2 on usage errors.

import { readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const EXPORTER_NAME = "backend-health-exporter";
const EXPORTER_PORT = 9985;
const EXPORTER_UID = 65532;
const LIVENESS_PATH = "/-/healthy";
const READINESS_PATH = "/-/ready";
const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "secret", "emptyDir", "projected", "downwardAPI",
  "persistentVolumeClaim", "ephemeral", "csi"]);
const POD_SPEC_PATHS = {
  Pod: ["spec"], Deployment: ["spec", "template"], StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"], ReplicaSet: ["spec", "template"], Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

// ---------------------------------------------------------------------------------------------
// Schema validation and unknown fields

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  let mod;
  if (group === "monitoring.coreos.com") {
    mod = `@kubernetes-models/prometheus-operator/${group}/${version}`;
  } else {
    mod = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  }
  let ns;
  try {
    ns = await import(mod);
  } catch {
    return null;
  }
  return ns[kind] ?? null;
}

// Deep copy of obj behind Proxies that record which keys the validator reads.
function tracked(obj, where, finishers) {
  if (obj === null || typeof obj !== "object") return obj;
  const used = new Set();
  const copy = Array.isArray(obj)
    ? obj.map((v, i) => tracked(v, `${where}/${i}`, finishers))
    : Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, tracked(v, `${where}/${k}`, finishers)]));
  if (!Array.isArray(obj)) {
    finishers.push((unknown) => {
      for (const k of Object.keys(obj)) if (!used.has(k)) unknown.push(`${where}/${k}`);
    });
  }
  return new Proxy(copy, {
    get(t, k, r) { if (typeof k === "string") used.add(k); return Reflect.get(t, k, r); },
    ownKeys(t) { for (const k of Reflect.ownKeys(t)) used.add(k); return Reflect.ownKeys(t); },
  });
}

async function schemaCheck(obj, report) {
  const Model = await modelFor(obj.apiVersion, obj.kind);
  if (!Model) {
    report(`no schema for ${obj.apiVersion} ${obj.kind} in kubernetes-models; cannot validate it`);
    return;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    const details = (e.errors ?? []).map((x) => `${x.instancePath || "/"} ${x.message}`);
    report(`schema: ${details.length ? details.join("; ") : e.message}`);
  }
  const finishers = [];
  const proxy = tracked(obj, "", finishers);
  try {
    Model.prototype.validate.call(proxy);
  } catch {
    // already reported above
  }
  const unknown = [];
  for (const f of finishers) f(unknown);
  // Report an unknown key once, not again for everything under it.
  unknown.sort();
  unknown.filter((u, i) => !unknown.some((v, j) => j !== i && u.startsWith(`${v}/`)))
    .forEach((u) => report(`unknown field ${u} (not in the ${obj.kind} schema)`));
}

// ---------------------------------------------------------------------------------------------
// Policy

function dig(obj, keys) {
  return keys.reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

function isExporter(c) {
  return c.name === EXPORTER_NAME || /(^|\/)backend-health-exporter([:@]|$)/.test(c.image ?? "");
}

function argValue(args, flag) {
  for (const a of args ?? []) {
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

function checkContainer(c, podSec, volumes, report) {
  const sc = c.securityContext ?? {};
  const eff = (k) => (sc[k] !== undefined ? sc[k] : podSec[k]);
  if (eff("runAsNonRoot") !== true) report("runAsNonRoot must be true (Pod Security restricted)");
  if (eff("runAsUser") === 0) report("runAsUser must not be 0 (Pod Security restricted)");
  if (sc.allowPrivilegeEscalation !== false) report("allowPrivilegeEscalation must be false (Pod Security restricted)");
  if (sc.privileged === true) report("privileged must not be true");
  const drop = dig(sc, ["capabilities", "drop"]) ?? [];
  if (!drop.includes("ALL")) report("capabilities.drop must contain ALL (Pod Security restricted)");
  const add = dig(sc, ["capabilities", "add"]) ?? [];
  for (const cap of add) if (cap !== "NET_BIND_SERVICE") report(`capability ${cap} is not allowed (Pod Security restricted)`);
  const seccomp = dig(sc, ["seccompProfile", "type"]) ?? dig(podSec, ["seccompProfile", "type"]);
  if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") report("seccompProfile.type must be RuntimeDefault or Localhost (Pod Security restricted)");
  if (sc.readOnlyRootFilesystem !== true) report("readOnlyRootFilesystem must be true");
  for (const kind of ["requests", "limits"]) {
    for (const r of ["cpu", "memory"]) {
      if (dig(c, ["resources", kind, r]) === undefined) report(`resources.${kind}.${r} is not set`);
    }
  }
  const portNames = new Set();
  for (const p of c.ports ?? []) {
    if (!p.name) report(`port ${p.containerPort} has no name`);
    else portNames.add(p.name);
    if (p.hostPort !== undefined) report(`port ${p.name ?? p.containerPort} uses a hostPort`);
  }
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const pr = c[probe];
    if (!pr) continue;
    const port = pr.httpGet?.port ?? pr.tcpSocket?.port ?? pr.grpc?.port;
    if (port === undefined) continue; // exec probes have no port
    if (typeof port !== "string") report(`${probe} uses port ${port} by number; use the port's name`);
    else if (!portNames.has(port)) report(`${probe} uses port ${port}, which is not a named port of this container`);
  }
  const image = c.image ?? "";
  const last = image.split("@")[0].split("/").pop();
  if (!image.includes("@") && !last.includes(":")) report(`image ${image} has no tag`);
  if (/:latest(@|$)/.test(image)) report(`image ${image} uses the tag latest`);
  for (const m of c.volumeMounts ?? []) {
    if (!volumes.has(m.name)) report(`volumeMount ${m.name} refers to no volume of the pod`);
  }
}

function checkExporter(c, where, pod, objects, report) {
  const ports = (c.ports ?? []).filter((p) => p.containerPort === EXPORTER_PORT);
  const portName = ports[0]?.name;
  if (!portName) report(`exporter: no named container port ${EXPORTER_PORT}`);
  const listen = argValue(c.args, "--web.listen-address");
  if (listen !== undefined && !listen.endsWith(`:${EXPORTER_PORT}`)) {
    report(`exporter: --web.listen-address=${listen} does not listen on port ${EXPORTER_PORT}`);
  }
  const probes = { livenessProbe: [LIVENESS_PATH], readinessProbe: [READINESS_PATH],
    startupProbe: [LIVENESS_PATH, READINESS_PATH] };
  for (const [probe, paths] of Object.entries(probes)) {
    const pr = c[probe];
    if (!pr) {
      if (probe !== "startupProbe") report(`exporter: no ${probe}`);
      continue;
    }
    if (!pr.httpGet) { report(`exporter: ${probe} is not an httpGet probe`); continue; }
    if (!paths.includes(pr.httpGet.path)) {
      report(`exporter: ${probe} path is ${pr.httpGet.path}; it must be ${paths.join(" or ")}` +
        (probe === "readinessProbe" ? " (ready = running with a valid config, never backend health)" : ""));
    }
    if (portName && pr.httpGet.port !== portName) report(`exporter: ${probe} port is ${pr.httpGet.port}, not ${portName}`);
    if ((pr.httpGet.scheme ?? "HTTP") !== "HTTP") report(`exporter: ${probe} scheme must be HTTP`);
  }
  const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
  if (uid !== EXPORTER_UID) report(`exporter: runAsUser is ${uid}, expected ${EXPORTER_UID} (the image's USER)`);

  const configFile = argValue(c.args, "--config.file");
  if (!configFile) { report("exporter: no --config.file=... argument"); return null; }
  const dir = path.posix.dirname(configFile);
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === dir || m.mountPath === configFile);
  if (!mount) { report(`exporter: nothing is mounted at ${dir} for --config.file=${configFile}`); return null; }
  if (mount.readOnly !== true) report(`exporter: the config mount ${mount.mountPath} is not readOnly`);
  if (mount.subPath || mount.subPathExpr || mount.mountPath === configFile) {
    report("exporter: the config is mounted with subPath/as a file; ConfigMap updates never reach such mounts");
  }
  const vol = (pod.volumes ?? []).find((v) => v.name === mount.name);
  const cmName = vol?.configMap?.name;
  if (!cmName) { report(`exporter: volume ${mount.name} is not a configMap volume`); return null; }
  let key = path.posix.basename(configFile);
  const item = (vol.configMap.items ?? []).find((i) => i.path === key);
  if (vol.configMap.items && !item) report(`exporter: configMap volume items do not provide ${key}`);
  if (item) key = item.key;
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === cmName &&
    (o.metadata?.namespace ?? "") === (where.namespace ?? ""));
  if (!cm) report(`exporter: ConfigMap ${cmName} is not part of this rendering`);
  else if (typeof cm.data?.[key] !== "string") report(`exporter: ConfigMap ${cmName} has no key ${key}`);
  return { portName, mount };
}

// "10s", "500ms", "1m30s" -> milliseconds; null if not a duration.
function parseDuration(text) {
  if (text === undefined) return undefined;
  const parts = [...String(text).matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return null;
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  return parts.reduce((t, p) => t + Number(p[1]) * unit[p[2]], 0);
}

function checkReloader(c, exporterInfo, report) {
  const urls = (c.args ?? []).flatMap((a) => a.match(/https?:\/\/[^\s,]*\/-\/reload\b[^\s,]*/g) ?? []);
  if (urls.length === 0) return false;
  for (const u of urls) {
    const url = new URL(u);
    if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) report(`reloader: ${u} is not the pod's loopback`);
    if (Number(url.port) !== EXPORTER_PORT) report(`reloader: ${u} is not the exporter's port ${EXPORTER_PORT}`);
    if (url.pathname !== "/-/reload") report(`reloader: ${u} is not /-/reload`);
  }
  if (exporterInfo) {
    const m = (c.volumeMounts ?? []).find((x) => x.name === exporterInfo.mount.name);
    if (!m) report(`reloader: does not mount the exporter's config volume ${exporterInfo.mount.name}`);
    else {
      if (m.readOnly !== true) report("reloader: the config mount is not readOnly");
      const dirs = (c.args ?? []).filter((a) => a.startsWith("--volume-dir=")).map((a) => a.slice(13));
      if (!dirs.includes(m.mountPath)) report(`reloader: does not watch ${m.mountPath} (--volume-dir)`);
    }
  }
  return true;
}

function checkPolicy(objects, opts, reportFor) {
  const exporterPods = [];
  for (const obj of objects) {
    const report = reportFor(obj);
    const tplPath = POD_SPEC_PATHS[obj.kind];
    if (obj.kind === "Namespace") {
      if (dig(obj, ["metadata", "labels", "pod-security.kubernetes.io/enforce"]) !== "restricted") {
        report("namespace does not enforce Pod Security restricted (label pod-security.kubernetes.io/enforce)");
      }
    }
    if (obj.kind === "ConfigMap" && dig(obj, ["metadata", "labels", "grafana_dashboard"]) !== undefined) {
      if (obj.metadata.labels.grafana_dashboard !== "1") report('grafana_dashboard label must be "1"');
      for (const [k, v] of Object.entries(obj.data ?? {})) {
        try {
          const d = JSON.parse(v);
          if (!d.uid || !d.title) report(`dashboard ${k} has no uid or no title`);
        } catch (e) {
          report(`dashboard ${k} is not JSON: ${e.message}`);
        }
      }
    }
    if (obj.kind === "PrometheusRule") {
      const groups = obj.spec?.groups ?? [];
      if (groups.length === 0) report("PrometheusRule has no groups");
      for (const g of groups) {
        for (const r of g.rules ?? []) {
          if (!(r.alert || r.record) || !r.expr) report(`group ${g.name}: a rule without alert/record or expr`);
        }
      }
    }
    if (!tplPath) continue;
    const tpl = obj.kind === "Pod" ? obj : dig(obj, tplPath);
    const pod = obj.kind === "Pod" ? obj.spec : tpl?.spec;
    if (!pod) { report("no pod spec"); continue; }
    const podLabels = obj.kind === "Pod" ? obj.metadata?.labels : tpl.metadata?.labels;
    for (const k of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[k]) report(`${k} must not be set`);
    const volumes = new Set();
    for (const v of pod.volumes ?? []) {
      volumes.add(v.name);
      const type = Object.keys(v).find((k) => k !== "name");
      if (!RESTRICTED_VOLUME_TYPES.has(type)) report(`volume ${v.name} of type ${type} is not allowed (Pod Security restricted)`);
    }
    const podSec = pod.securityContext ?? {};
    const all = [...(pod.initContainers ?? []).map((c) => ["initContainers", c]),
      ...(pod.containers ?? []).map((c) => ["containers", c])];
    for (const [field, c] of all) checkContainer(c, podSec, volumes, (m) => report(`${field}/${c.name}: ${m}`));
    const exporters = all.filter(([, c]) => isExporter(c));
    if (exporters.length === 0) continue;
    if (exporters.length > 1) report("more than one exporter container in one pod");
    const [field, exp] = exporters[0];
    const rep = (m) => report(`${field}/${exp.name}: ${m}`);
    if (field === "initContainers" && exp.restartPolicy !== "Always") {
      rep("an init container without restartPolicy: Always runs to completion; the exporter never does (the pod would never start)");
    }
    if (field === "containers" && exp.restartPolicy !== undefined) rep("regular containers must not set restartPolicy");
    if (opts.sidecar === "native" && field !== "initContainers") rep("expected as a native sidecar (initContainers with restartPolicy: Always)");
    if (opts.sidecar === "regular" && field !== "containers") rep("expected as a regular container (clusters < 1.29)");
    if (opts.sidecar === "none") rep("no exporter pod expected in this rendering");
    const info = checkExporter(exp, obj.metadata ?? {}, pod, objects, rep);
    let reloaders = 0;
    for (const [f, c] of all) {
      if (c !== exp && checkReloader(c, info, (m) => report(`${f}/${c.name}: ${m}`))) {
        reloaders++;
        if (f === "initContainers" && c.restartPolicy !== "Always") report(`${f}/${c.name}: a reloader init container needs restartPolicy: Always`);
      }
    }
    const watch = argValue(exp.args, "--config.watch-interval");
    const watchMs = parseDuration(watch);
    if (watch !== undefined && watchMs === null) rep(`--config.watch-interval=${watch} is not a duration`);
    if (!(watchMs > 0) && reloaders === 0) {
      rep("the config is not reloaded on ConfigMap change: set --config.watch-interval (non-zero) or add a reloader that POSTs /-/reload");
    }
    exporterPods.push({ obj, labels: podLabels ?? {}, portName: info?.portName ?? null });
  }
  if ((opts.sidecar === "native" || opts.sidecar === "regular") && exporterPods.length === 0) {
    reportFor(null)(`expected an exporter sidecar (${opts.sidecar}), found no pod with one`);
  }
  for (const pm of objects.filter((o) => o.kind === "PodMonitor")) {
    const report = reportFor(pm);
    const sel = pm.spec?.selector?.matchLabels ?? {};
    if (Object.keys(sel).length === 0) report("PodMonitor selector has no matchLabels");
    const ns = pm.metadata?.namespace ?? "";
    const hits = exporterPods.filter((p) => (p.obj.metadata?.namespace ?? "") === ns &&
      Object.entries(sel).every(([k, v]) => p.labels[k] === v));
    if (exporterPods.length && hits.length === 0) report("PodMonitor selects no pod with the exporter");
    const endpoints = pm.spec?.podMetricsEndpoints ?? [];
    if (endpoints.length === 0) report("PodMonitor has no podMetricsEndpoints");
    for (const e of endpoints) {
      if (!e.port) report("podMetricsEndpoint without a named port");
      for (const p of hits) if (p.portName && e.port !== p.portName) report(`podMetricsEndpoint port ${e.port} is not the exporter's port ${p.portName}`);
      if ((e.path ?? "/metrics") !== "/metrics") report(`podMetricsEndpoint path ${e.path} is not /metrics`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function loadObjects(file) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  const objects = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    const o = d.toJS();
    if (o !== null && o !== undefined) objects.push(o);
  }
  return objects;
}

async function validate(objects, opts, label) {
  const problems = [];
  const name = (o) => (o ? `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}` : "(rendering)");
  const reportFor = (o) => (m) => problems.push(`${label}: ${name(o)}: ${m}`);
  for (const o of objects) {
    if (!o || typeof o !== "object" || !o.apiVersion || !o.kind) { reportFor(null)("a document without apiVersion/kind"); continue; }
    await schemaCheck(o, reportFor(o));
  }
  checkPolicy(objects, opts, reportFor);
  return problems;
}

const MUTATIONS = [
  ["a misspelt field", "unknown field", (p) => { p.exporter.readinesProbe = p.exporter.readinessProbe; delete p.exporter.readinessProbe; }],
  ["a wrong type", "schema", (p) => { p.exporter.securityContext.readOnlyRootFilesystem = "yes"; }],
  ["a bad enum", "schema", (p) => { p.exporter.imagePullPolicy = "Sometimes"; }],
  ["readiness on /-/healthy", "readinessProbe path", (p) => { p.exporter.readinessProbe.httpGet.path = "/-/healthy"; }],
  ["liveness on /metrics", "livenessProbe path", (p) => { p.exporter.livenessProbe.httpGet.path = "/metrics"; }],
  ["a probe on a port number", "by number", (p) => { p.exporter.livenessProbe.httpGet.port = 9985; }],
  ["an unnamed port", "has no name", (p) => { delete p.exporter.ports[0].name; }],
  ["the exporter on port 9986", `port ${EXPORTER_PORT}`, (p) => { p.exporter.ports[0].containerPort = 9986; }],
  ["root", "runAsUser", (p) => { p.exporter.securityContext.runAsUser = 0; }],
  ["privilege escalation", "allowPrivilegeEscalation", (p) => { p.exporter.securityContext.allowPrivilegeEscalation = true; }],
  ["capabilities kept", "capabilities.drop", (p) => { p.exporter.securityContext.capabilities.drop = []; }],
  ["NET_RAW added", "NET_RAW", (p) => { p.exporter.securityContext.capabilities.add = ["NET_RAW"]; }],
  ["no seccomp", "seccompProfile", (p) => { delete p.exporter.securityContext.seccompProfile; delete p.pod.securityContext.seccompProfile; }],
  ["a writable root", "readOnlyRootFilesystem", (p) => { p.exporter.securityContext.readOnlyRootFilesystem = false; }],
  ["no memory limit", "resources.limits.memory", (p) => { delete p.exporter.resources.limits.memory; }],
  ["a writable config mount", "not readOnly", (p) => { p.exporter.volumeMounts[0].readOnly = false; }],
  ["a subPath config mount", "subPath", (p) => { p.exporter.volumeMounts[0].subPath = "config.toml"; }],
  ["a latest image", "latest", (p) => { p.exporter.image = "example/backend-health-exporter:latest"; }],
  ["a native sidecar without restartPolicy", "restartPolicy", (p) => { delete p.exporter.restartPolicy; }],
  ["no config watch", "not reloaded on ConfigMap change", (p) => { p.exporter.args = p.exporter.args.filter((a) => !a.startsWith("--config.watch-interval=")); }],
  ["a config watch of 0s", "not reloaded on ConfigMap change", (p) => { p.exporter.args = p.exporter.args.map((a) => (a.startsWith("--config.watch-interval=") ? "--config.watch-interval=0s" : a)); }],
  ["a config watch of 'often'", "not a duration", (p) => { p.exporter.args = p.exporter.args.map((a) => (a.startsWith("--config.watch-interval=") ? "--config.watch-interval=often" : a)); }],
  ["a reloader posting elsewhere", "reloader:", (p) => {
    p.pod.initContainers.push({ ...structuredClone(p.exporter), name: "config-reloader", image: "ghcr.io/jimmidyson/configmap-reload:v0.15.0",
      args: ["--volume-dir=/etc/backend-health-exporter", "--webhook-url=http://127.0.0.1:9000/-/reload"], ports: [],
      livenessProbe: undefined, readinessProbe: undefined });
  }],
  ["a hostPath volume", "hostPath", (p) => { p.pod.volumes.push({ name: "host", hostPath: { path: "/" } }); }],
  ["a PodMonitor on another port", "podMetricsEndpoint port", (p) => { p.podMonitor.spec.podMetricsEndpoints[0].port = "http"; }],
  ["a PodMonitor selecting other pods", "selects no pod", (p) => { p.podMonitor.spec.selector.matchLabels = { app: "other" }; }],
  ["a config from a missing ConfigMap", "not part of this rendering", (p) => { p.pod.volumes.find((v) => v.configMap).configMap.name = "nope"; }],
];

async function selfTest(file) {
  const base = loadObjects(file);
  const clean = await validate(base, { sidecar: "native" }, "self-test");
  if (clean.length) {
    console.log(clean.join("\n"));
    console.log("self-test: the unmodified input must pass");
    return 1;
  }
  let failed = 0;
  for (const [what, expect, mutate] of MUTATIONS) {
    const objects = structuredClone(base);
    const dep = objects.find((o) => o.kind === "Deployment");
    const pod = dep.spec.template.spec;
    const handles = {
      pod,
      exporter: pod.initContainers.find(isExporter),
      podMonitor: objects.find((o) => o.kind === "PodMonitor"),
    };
    mutate(handles);
    const problems = await validate(objects, { sidecar: "native" }, "self-test");
    const caught = problems.some((m) => m.includes(expect));
    console.log(`${caught ? "ok  " : "MISS"} ${what}: ${caught ? problems.find((m) => m.includes(expect)) : `expected a problem mentioning "${expect}", got: ${problems.join(" | ") || "none"}`}`);
    if (!caught) failed++;
  }
  console.log(`${MUTATIONS.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

async function main(argv) {
  const opts = { sidecar: "none" };
  const files = [];
  let self = false;
  for (const a of argv) {
    if (a === "--self-test") self = true;
    else if (a.startsWith("--sidecar=")) opts.sidecar = a.slice(10);
    else if (a.startsWith("--")) { console.error(`unknown option ${a}`); return 2; }
    else files.push(a);
  }
  if (!["native", "regular", "none"].includes(opts.sidecar) || files.length === 0) {
    console.error("usage: validate-manifests.mjs [--sidecar=native|regular|none] FILE... | --self-test FILE");
    return 2;
  }
  if (self) return selfTest(files[0]);
  let problems = [];
  let count = 0;
  for (const f of files) {
    const objects = loadObjects(f);
    count += objects.length;
    problems = problems.concat(await validate(objects, opts, path.basename(f)));
  }
  if (count === 0) problems.push("no objects found");
  for (const p of problems) console.log(p);
  console.log(problems.length ? `FAILED: ${problems.length} problem(s) in ${count} object(s)`
    : `OK: ${count} object(s) valid against their schemas, no unknown fields, policy met`);
  return problems.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
