//! Synthetic Kubernetes manifest streams: the input for benchmarks and property tests.
//!
//! This module owns [`stream`], a deterministic generator of multi-document YAML that looks like
//! `helm template` output of many charts. Benchmarks need realistic input of any size without
//! checked-in fixtures, and property tests need varied but reproducible manifests drawn from a
//! seed. The generator therefore covers the stylistic variety a lossless rewriter must survive:
//! 2- and 4-space indentation, indentless and indented sequences, flow maps, Helm's
//! `securityContext:\n  {}`, partially set security contexts, comments on their own lines and
//! after values, quoted and plain strings, block scalars (`|`, `|-`, `>-`, `|+`) and non-ASCII
//! text. Every document is valid YAML with the types the Kubernetes API expects.
//!
//! Randomness comes from a self-contained splitmix64, so a seed maps to the same bytes on every
//! platform and release. Fragments are written below as 2-space YAML with indented sequences;
//! [`Gen::emit`] re-indents them into the style of the release being rendered.

use std::fmt::Write as _;

/// A multi-document YAML stream of roughly `target_bytes` (stop after the first document that
/// reaches it), deterministic for a given seed.
pub fn stream(target_bytes: usize, seed: u64) -> String {
    let mut g = Gen {
        out: String::with_capacity(target_bytes + 16 * 1024),
        rng: Rng(seed),
        ind: 2,
        indentless: false,
        flow: false,
        subchart: false,
        chart: &CHARTS[0],
        release: "",
        version: String::new(),
        full: String::new(),
        kind: Kind::Deployment,
        stack: Vec::new(),
    };
    while g.out.len() < target_bytes {
        release(&mut g, target_bytes);
    }
    g.out
}

/// splitmix64: tiny, fast, and plenty for choosing between styles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

struct Chart(&'static str, &'static str, &'static str, u16); // name, image, tag, port

const CHARTS: &[Chart] = &[
    Chart("nginx", "docker.io/library/nginx", "1.25.3", 8080),
    Chart(
        "redis",
        "docker.io/bitnami/redis",
        "7.2.4-debian-12-r9",
        6379,
    ),
    Chart("postgresql", "docker.io/bitnami/postgresql", "16.2", 5432),
    Chart("grafana", "docker.io/grafana/grafana", "10.4.1", 3000),
    Chart(
        "prometheus",
        "quay.io/prometheus/prometheus",
        "v2.51.0",
        9090,
    ),
    Chart(
        "fluent-bit",
        "cr.fluentbit.io/fluent/fluent-bit",
        "3.0",
        2020,
    ),
    Chart(
        "cert-manager",
        "quay.io/jetstack/cert-manager-controller",
        "v1.14",
        9402,
    ),
    Chart("api-gateway", "ghcr.io/acme/api-gateway", "2.3.1", 8000),
    Chart(
        "backup",
        "registry.example.com/ops/backup",
        "2024.03.1",
        8081,
    ),
];
const RELEASES: &[&str] = &["prod", "staging", "my-release", "team-a", "edge", "dev"];
const NAMESPACES: &[&str] = &["default", "monitoring", "kube-system", "apps", "data"];
const NOTES: &[&str] = &[
    "# -- Values are rendered from values.yaml",
    "# Override with --set on the command line",
    "# TODO(ops): tune after the load test — Grüße",
];
const TAILS: &[&str] = &[
    " # managed by Helm",
    "  # see values.yaml",
    " # 日本語のコメント",
    " # 🚀",
];
const INITS: &[(&str, &str)] = &[
    ("wait-for-db", "busybox:1.36"),
    ("init-perms", "bitnami/os-shell:12"),
];
const SIDECARS: &[(&str, &str)] = &[
    (
        "config-reloader",
        "ghcr.io/jimmidyson/configmap-reload:v0.12.0",
    ),
    (
        "metrics-exporter",
        "quay.io/prometheus/node-exporter:v1.7.0",
    ),
];
/// `env` entries; at least one, and a random subset of the rest, go into a container.
const ENV: &[&str] = &[
    "- name: LOG_LEVEL\n  value: info",
    "- name: POD_NAME\n  valueFrom:\n    fieldRef:\n      fieldPath: metadata.name",
    "- name: ENABLE_METRICS\n  value: \"true\"",
    "- {name: PORT, value: \"8080\"}",
    "- name: GREETING\n  value: \"Grüße aus Köln 👋\"",
    "- name: GREETING_JA\n  value: '日本語 ✨'",
    "- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: app-credentials\n      key: password",
    "- name: JAVA_OPTS\n  value: -Xms256m -Xmx512m",
    "- name: TZ\n  value: Asia/Tokyo  # 日本標準時",
    "- name: GOMAXPROCS\n  valueFrom:\n    resourceFieldRef:\n      resource: limits.cpu",
];
const PLAIN_DATA: &[&str] = &[
    "LOG_LEVEL: info",
    "PORT: \"8080\"",
    "ENABLE_CACHE: \"false\"",
    "REPLICAS: '3'",
    "WELCOME: \"Grüße, 世界! 👋\"",
    "EMPTY: \"\"",
    "RATIO: \"0.75\"  # quoted, or it would be a float",
    "CITY: Zürich",
];
const NGINX_CONF: &str = "# Managed by Helm — do not edit by hand
worker_processes auto;
events {
    worker_connections 1024;
}
http {
    gzip on;
    server {
        listen 8080;
        location /healthz {
            return 200 \"ok\\n\";
        }
        location / {
            add_header X-Greeting \"Grüße aus München\";
        }
    }
}";
const CONFIG_JSON: &str = r#"{
  "logLevel": "info",
  "greeting": "こんにちは、日本語のテキスト",
  "features": {"metrics": true, "tracing": false},
  "emoji": "🚀✨",
  "retries": 3
}"#;
const ENTRYPOINT: &str = r#"#!/bin/sh
set -eu
# wait for dependencies
until nc -z "${DB_HOST:-db}" 5432; do
  echo "waiting for database…"
  sleep 2
done

exec "$@""#;
const APP_YAML: &str = "server:
  port: 8080
spring:
  datasource:
    url: jdbc:postgresql://db:5432/app
logging:
  level:
    root: INFO";
const MOTD: &str = "This chart deploys the service with sensible defaults.
Grüße an das Betriebsteam — bitte Änderungen über values.yaml vornehmen.
日本語: 設定はvalues.yamlで変更してください。 🎉";
const RESTRICTED: &str = "
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
          - ALL
      runAsNonRoot: true
      seccompProfile:
        type: RuntimeDefault";

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Pod,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Init,
    Main,
    Sidecar,
}

/// The output plus the style and identity of the release being rendered.
struct Gen {
    out: String,
    rng: Rng,
    ind: usize,
    indentless: bool,
    flow: bool,
    subchart: bool,
    chart: &'static Chart,
    release: &'static str,
    version: String,
    full: String,
    kind: Kind,
    /// Scratch for [`Gen::emit`]: (template column, output column) of open levels.
    stack: Vec<(usize, usize)>,
}

/// Writes one line at column `col`: `ln!(g, col, "fmt", args...)`.
macro_rules! ln {
    ($g:expr, $col:expr, $($arg:tt)*) => {{
        let col: usize = $col;
        $g.out.extend(std::iter::repeat_n(' ', col));
        let _ = writeln!($g.out, $($arg)*);
    }};
}

impl Gen {
    /// Writes `tpl`, YAML written with 2-space indentation and indented sequences (common leading
    /// indentation is ignored), at column `c` in the current indent width and sequence style.
    fn emit(&mut self, c: usize, tpl: &str) {
        let lines = || tpl.lines().filter(|l| !l.trim().is_empty());
        let indent = |l: &str| l.len() - l.trim_start().len();
        let base = lines().map(indent).min().unwrap_or(0);
        self.stack.clear();
        self.stack.push((0, c));
        let mut after_key = false;
        for line in lines() {
            let (n, text) = (indent(line) - base, line.trim_start());
            while self.stack.last().is_some_and(|&(t, _)| t > n) {
                self.stack.pop();
            }
            let (t, mut col) = self.stack[self.stack.len() - 1];
            if t < n {
                if !(after_key && self.indentless && text.starts_with("- ")) {
                    col += self.ind;
                }
                self.stack.push((n, col));
            }
            ln!(self, col, "{text}");
            if text.starts_with("- ") {
                self.stack.push((n + 2, col + 2));
            }
            after_key = text.ends_with(':');
        }
    }
    /// Column of the `- ` of a sequence under a key at `c`.
    fn item(&self, c: usize) -> usize {
        c + if self.indentless { 0 } else { self.ind }
    }
    fn tail(&mut self) -> &'static str {
        let t = self.rng.pick(TAILS);
        if self.rng.chance(12) {
            t
        } else {
            ""
        }
    }
    /// A quote (or none) for a string that reads the same either way.
    fn q(&mut self) -> &'static str {
        self.rng.pick(&["", "", "\"", "'"])
    }
    fn note(&mut self, c: usize, percent: usize) {
        if self.rng.chance(percent) {
            let n = self.rng.pick(NOTES);
            ln!(self, c, "{n}");
        }
    }
}

/// One `helm template` run: a chart, a style, and its documents in Helm's kind order.
fn release(g: &mut Gen, target: usize) {
    g.ind = g.rng.pick(&[2, 2, 4]);
    g.indentless = g.rng.chance(50);
    g.flow = g.rng.chance(30);
    g.subchart = g.rng.chance(15);
    g.chart = &CHARTS[g.rng.below(CHARTS.len())];
    g.release = g.rng.pick(RELEASES);
    g.version = format!(
        "{}.{}.{}",
        g.rng.below(20),
        g.rng.below(10),
        g.rng.below(10)
    );
    g.full = format!("{}-{}", g.release, g.chart.0);
    use Kind::*;
    g.kind = g.rng.pick(&[
        Deployment,
        Deployment,
        Deployment,
        StatefulSet,
        DaemonSet,
        CronJob,
        Job,
        Pod,
    ]);
    let serves = !matches!(g.kind, Job | CronJob);
    let steps: [(bool, fn(&mut Gen)); 6] = [
        (g.rng.chance(70), service_account),
        (g.rng.chance(35), secret),
        (g.rng.chance(80), config_map),
        (serves && g.rng.chance(85), service),
        (true, workload),
        (g.kind == Deployment && g.rng.chance(35), ingress),
    ];
    for (on, emit) in steps {
        if on && g.out.len() < target {
            emit(g);
        }
    }
}

/// `---`, the `# Source:` comment, apiVersion, kind and metadata. Annotation keys and values
/// come quoted as needed.
fn header(g: &mut Gen, file: &str, kind: (&str, &str), suffix: &str, annotations: &[(&str, &str)]) {
    let parent = if g.subchart { "platform/charts/" } else { "" };
    let (api, kind) = kind;
    ln!(
        g,
        0,
        "---\n# Source: {parent}{}/templates/{file}.yaml",
        g.chart.0
    );
    ln!(g, 0, "apiVersion: {api}\nkind: {kind}\nmetadata:");
    if g.rng.chance(15) {
        g.indentless = !g.indentless; // a chart's templates are not always consistent
    }
    let k = g.ind;
    ln!(g, k, "name: {}{suffix}", g.full);
    if g.rng.chance(30) {
        let (q, ns) = (g.q(), g.rng.pick(NAMESPACES));
        ln!(g, k, "namespace: {q}{ns}{q}");
    }
    labels(g, k, "labels", true);
    let default: &[(&str, &str)] = &[
        ("description", "\"Grüße — 日本語 ✅\""),
        ("owner", "team-a"),
    ];
    let annotations = if annotations.is_empty() && g.rng.chance(15) {
        default
    } else {
        annotations
    };
    if !annotations.is_empty() {
        ln!(g, k, "annotations:");
        for (key, value) in annotations {
            ln!(g, k + g.ind, "{key}: {value}");
        }
    }
}

/// Helm's standard labels (`full`) or selector labels, as a block or a flow map.
fn labels(g: &mut Gen, c: usize, key: &str, full: bool) {
    let (name, rel, tag) = (g.chart.0, g.release, g.chart.2);
    if g.flow || g.rng.chance(10) {
        let helm = if full {
            ", app.kubernetes.io/managed-by: Helm"
        } else {
            ""
        };
        return ln!(
            g,
            c,
            "{key}: {{app.kubernetes.io/name: {name}, app.kubernetes.io/instance: {rel}{helm}}}"
        );
    }
    ln!(g, c, "{key}:");
    let k = c + g.ind;
    if full {
        ln!(g, k, "helm.sh/chart: {name}-{}", g.version);
    }
    ln!(
        g,
        k,
        "app.kubernetes.io/name: {name}\n{:k$}app.kubernetes.io/instance: {rel}",
        ""
    );
    if full {
        ln!(
            g,
            k,
            "app.kubernetes.io/version: \"{tag}\"\n{:k$}app.kubernetes.io/managed-by: Helm",
            ""
        );
    }
}

fn service_account(g: &mut Gen) {
    let irsa: &[(&str, &str)] = &[(
        "eks.amazonaws.com/role-arn",
        "arn:aws:iam::123456789012:role/app",
    )];
    let annotations = if g.rng.chance(20) { irsa } else { &[] };
    header(
        g,
        "serviceaccount",
        ("v1", "ServiceAccount"),
        "",
        annotations,
    );
    if g.rng.chance(60) {
        let (on, t) = (g.rng.chance(30), g.tail());
        ln!(g, 0, "automountServiceAccountToken: {on}{t}");
    }
}

fn secret(g: &mut Gen) {
    header(g, "secret", ("v1", "Secret"), "", &[]);
    // A leading letter keeps the hex from ever reading as a number.
    let pw: String = std::iter::once('f')
        .chain((0..19).map(|_| g.rng.pick(&HEX)))
        .collect();
    let (q, full) = (g.q(), &g.full);
    let mut s = format!("type: Opaque\nstringData:\n  username: {q}admin{q}\n  password: \"{pw}\"");
    let _ = write!(
        s,
        "\n  DATABASE_URL: \"postgres://app:{pw}@{full}-postgresql:5432/app?sslmode=disable\""
    );
    if g.rng.chance(30) {
        s += "\n  # 日本語のパスフレーズ\n  passphrase: \"パスワード🔑 Grüße\"";
    }
    if g.rng.chance(40) {
        s += "\ndata:\n  api-token: c2VjcmV0LXRva2VuLTEyMzQ=\n  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==";
    }
    g.emit(0, &s);
}
const HEX: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f',
];

fn config_map(g: &mut Gen) {
    header(g, "configmap", ("v1", "ConfigMap"), "", &[]);
    ln!(g, 0, "data:");
    let (k, body) = (g.ind, 2 * g.ind);
    g.note(k, 20);
    let (start, n) = (g.rng.below(PLAIN_DATA.len()), 1 + g.rng.below(4));
    for entry in PLAIN_DATA.iter().cycle().skip(start).take(n) {
        ln!(g, k, "{entry}");
    }
    let files = [("nginx.conf", NGINX_CONF), ("config.json", CONFIG_JSON)];
    let files = files.into_iter().chain([
        ("entrypoint.sh", ENTRYPOINT),
        ("application.yaml", APP_YAML),
    ]);
    let first = g.rng.below(5);
    for (i, (key, text)) in files.chain([("motd", MOTD)]).enumerate() {
        if i != first && !g.rng.chance(35) {
            continue;
        }
        let style = if key == "motd" {
            ">-"
        } else {
            g.rng.pick(&["|", "|-", "|+"])
        };
        let comment = if g.rng.chance(10) {
            "  # rendered from values.yaml"
        } else {
            ""
        };
        ln!(g, k, "{key}: {style}{comment}");
        for line in text.lines() {
            ln!(g, if line.is_empty() { 0 } else { body }, "{line}");
        }
        if style == "|+" {
            g.out.push('\n'); // kept: part of the value
        }
    }
}

fn service(g: &mut Gen) {
    let headless = g.kind == Kind::StatefulSet;
    for suffix in if headless {
        &["", "-headless"][..]
    } else {
        &[""]
    } {
        let file = if suffix.is_empty() {
            "service"
        } else {
            "headless-service"
        };
        header(g, file, ("v1", "Service"), suffix, &[]);
        let k = g.ind;
        ln!(g, 0, "spec:");
        if suffix.is_empty() {
            let (ty, t) = (
                g.rng.pick(&["ClusterIP", "NodePort", "\"LoadBalancer\""]),
                g.tail(),
            );
            ln!(g, k, "type: {ty}{t}");
        } else {
            ln!(g, k, "clusterIP: None");
        }
        if g.rng.chance(25) {
            g.emit(
                k,
                "ports:\n  - {name: http, port: 80, targetPort: http, protocol: TCP}",
            );
        } else {
            let (port, target) = (
                g.rng.pick(&[80, 443, g.chart.3]),
                g.rng.pick(&["http", "8080"]),
            );
            g.emit(k, &format!("ports:\n  - port: {port}\n    targetPort: {target}\n    protocol: TCP\n    name: http"));
        }
        labels(g, k, "selector", false);
    }
}

fn ingress(g: &mut Gen) {
    let annotations = [
        ("nginx.ingress.kubernetes.io/proxy-body-size", "\"0\""),
        ("nginx.ingress.kubernetes.io/ssl-redirect", "'true'"),
        ("cert-manager.io/cluster-issuer", "letsencrypt-prod"),
    ];
    header(
        g,
        "ingress",
        ("networking.k8s.io/v1", "Ingress"),
        "",
        &annotations,
    );
    ln!(g, 0, "spec:");
    let (k, host, full) = (g.ind, format!("{}.example.com", g.chart.0), g.full.clone());
    if g.rng.chance(50) {
        g.emit(
            k,
            &format!("tls:\n  - hosts:\n      - \"{host}\"\n    secretName: {full}-tls"),
        );
    }
    let path_type = g.rng.pick(&["Prefix", "ImplementationSpecific"]);
    g.emit(
        k,
        &format!(
            "
        ingressClassName: nginx
        rules:
          - host: {host}
            http:
              paths:
                - path: /
                  pathType: {path_type}
                  backend:
                    service:
                      name: {full}
                      port:
                        number: 80"
        ),
    );
}

fn workload(g: &mut Gen) {
    let (file, kind) = match g.kind {
        Kind::Deployment => ("deployment", ("apps/v1", "Deployment")),
        Kind::StatefulSet => ("statefulset", ("apps/v1", "StatefulSet")),
        Kind::DaemonSet => ("daemonset", ("apps/v1", "DaemonSet")),
        Kind::Job => ("job", ("batch/v1", "Job")),
        Kind::CronJob => ("cronjob", ("batch/v1", "CronJob")),
        Kind::Pod => ("tests/test-connection", ("v1", "Pod")),
    };
    let hook: &[(&str, &str)] = match g.kind {
        Kind::Job => &[
            ("\"helm.sh/hook\"", "pre-install,pre-upgrade"),
            ("\"helm.sh/hook-weight\"", "\"-5\""),
        ],
        Kind::Pod => &[("\"helm.sh/hook\"", "test")],
        _ => &[],
    };
    header(g, file, kind, "", hook);
    ln!(g, 0, "spec:");
    let k = g.ind;
    match g.kind {
        Kind::Pod => return pod_spec(g, k),
        Kind::Job => {
            let n = g.rng.below(6);
            g.emit(
                k,
                &format!("backoffLimit: {n}\nttlSecondsAfterFinished: 300"),
            );
            return template(g, k);
        }
        Kind::CronJob => {
            let schedule = g
                .rng
                .pick(&["\"*/15 * * * *\"", "'0 3 * * *'", "\"@hourly\""]);
            let tz = if g.rng.chance(30) {
                "\ntimeZone: Etc/UTC"
            } else {
                ""
            };
            g.emit(
                k,
                &format!("schedule: {schedule}{tz}\nconcurrencyPolicy: Forbid\nsuspend: false"),
            );
            g.emit(
                k,
                "successfulJobsHistoryLimit: 3\njobTemplate:\n  spec:\n    backoffLimit: 1",
            );
            return template(g, k + 2 * g.ind);
        }
        _ => g.note(k, 15),
    }
    if g.kind == Kind::StatefulSet {
        let policy = g.rng.pick(&["OrderedReady", "Parallel"]);
        ln!(
            g,
            k,
            "serviceName: {}-headless\n{:k$}podManagementPolicy: {policy}",
            g.full,
            ""
        );
    }
    if g.kind != Kind::DaemonSet && g.rng.chance(85) {
        let (n, t) = (1 + g.rng.below(5), g.tail());
        ln!(g, k, "replicas: {n}{t}");
    }
    ln!(g, k, "selector:");
    labels(g, k + g.ind, "matchLabels", false);
    if g.kind == Kind::Deployment && g.rng.chance(30) {
        g.emit(k, "strategy:\n  type: RollingUpdate\n  rollingUpdate:\n    maxSurge: 25%\n    maxUnavailable: 0");
    }
    if g.kind == Kind::DaemonSet {
        ln!(g, k, "updateStrategy: {{type: RollingUpdate}}");
    }
    template(g, k);
    if g.kind == Kind::StatefulSet {
        let size = g.rng.pick(&["8Gi", "\"20Gi\"", "100Gi"]);
        g.emit(
            k,
            &format!(
                "
            volumeClaimTemplates:
              - metadata:
                  name: data
                spec:
                  accessModes: [\"ReadWriteOnce\"]
                  resources:
                    requests:
                      storage: {size}"
            ),
        );
    }
}

/// `template:` with pod metadata and the pod spec, the key at column `c`.
fn template(g: &mut Gen, c: usize) {
    let (m, k) = (c + g.ind, c + 2 * g.ind);
    ln!(g, c, "template:\n{:m$}metadata:", "");
    labels(g, k, "labels", false);
    if g.rng.chance(40) {
        let sum: String = std::iter::once('e')
            .chain((0..63).map(|_| g.rng.pick(&HEX)))
            .collect();
        let name = g.chart.0;
        g.emit(k, &format!("annotations:\n  checksum/config: {sum}\n  kubectl.kubernetes.io/default-container: {name}"));
    }
    ln!(g, m, "spec:");
    pod_spec(g, k);
}

fn pod_spec(g: &mut Gen, c: usize) {
    match g.kind {
        Kind::Job | Kind::CronJob => ln!(
            g,
            c,
            "restartPolicy: {}",
            g.rng.pick(&["Never", "OnFailure"])
        ),
        Kind::Pod => ln!(g, c, "restartPolicy: Never"),
        _ => {}
    }
    if g.rng.chance(60) {
        let q = g.q();
        ln!(g, c, "serviceAccountName: {q}{}{q}", g.full);
    }
    if g.rng.chance(15) {
        g.emit(
            c,
            "automountServiceAccountToken: false\nimagePullSecrets:\n  - name: regcred",
        );
    }
    security_context(g, c, true);
    if g.rng.chance(25) {
        ln!(g, c, "initContainers:");
        container(g, g.item(c), Role::Init);
    }
    g.note(c, 10);
    ln!(g, c, "containers:");
    container(g, g.item(c), Role::Main);
    if g.rng.chance(25) {
        container(g, g.item(c), Role::Sidecar);
    }
    if g.rng.chance(20) {
        ln!(g, c, "nodeSelector: {{kubernetes.io/os: linux}}");
    }
    if g.kind == Kind::DaemonSet || g.rng.chance(10) {
        g.emit(
            c,
            "
            tolerations:
              - key: \"node-role.kubernetes.io/control-plane\"
                operator: Exists
                effect: NoSchedule",
        );
    }
    if g.rng.chance(30) {
        ln!(
            g,
            c,
            "terminationGracePeriodSeconds: {}",
            g.rng.pick(&[10, 30, 60])
        );
    }
    volumes(g, c);
}

/// One container as a sequence item whose `- ` is at column `s`.
fn container(g: &mut Gen, s: usize, role: Role) {
    let k = s + 2;
    let main = format!("{}:{}", g.chart.1, g.chart.2);
    let (name, image) = match role {
        Role::Main => (g.chart.0, main.as_str()),
        Role::Init => g.rng.pick(INITS),
        Role::Sidecar => g.rng.pick(SIDECARS),
    };
    let (q, q2) = (g.q(), g.q());
    ln!(
        g,
        s,
        "- name: {q}{name}{q}\n{:k$}image: {q2}{image}{q2}",
        ""
    );
    let sc_first = g.rng.chance(40);
    if sc_first {
        security_context(g, k, false);
    }
    if g.rng.chance(70) {
        let (policy, t) = (
            g.rng.pick(&["IfNotPresent", "Always", "\"IfNotPresent\""]),
            g.tail(),
        );
        ln!(g, k, "imagePullPolicy: {policy}{t}");
    }
    match role {
        Role::Init if g.rng.chance(50) => {
            g.emit(k, r#"command: ["sh", "-c", "chown -R 1001:1001 /data"]"#)
        }
        Role::Init => g.emit(
            k,
            "command:\n  - sh\n  - -c\n  - \"until nslookup db; do sleep 2; done\"",
        ),
        Role::Sidecar => g.emit(
            k,
            "args: [\"--volume-dir=/etc/config\", '--webhook-url=http://127.0.0.1:9533/-/reload']",
        ),
        Role::Main => {
            if g.rng.chance(40) {
                g.emit(
                    k,
                    "args:\n  - --config=/etc/app/config.yaml\n  - '--log-format=json'",
                );
            }
            ports(g, k);
            if g.rng.chance(60) {
                env(g, k);
            }
            if g.rng.chance(70) {
                probes(g, k);
            }
        }
    }
    if g.rng.chance(80) {
        resources(g, k);
    }
    if !sc_first {
        security_context(g, k, false);
    }
    let mut mounts = String::from("volumeMounts:\n  - name: tmp\n    mountPath: /tmp");
    if role != Role::Init {
        mounts += "\n  - name: config\n    mountPath: /etc/config";
        mounts += if g.rng.chance(70) {
            "\n    readOnly: true"
        } else {
            ""
        };
    }
    if role == Role::Main && g.kind == Kind::StatefulSet {
        mounts += "\n  - name: data\n    mountPath: /data";
    }
    if role == Role::Main && g.kind == Kind::DaemonSet {
        mounts += "\n  - {name: varlog, mountPath: /var/log, readOnly: true}";
    }
    g.emit(k, &mounts);
}

fn ports(g: &mut Gen, c: usize) {
    let port = g.chart.3;
    if g.rng.chance(25) {
        g.emit(
            c,
            &format!("ports:\n  - {{name: http, containerPort: {port}, protocol: TCP}}"),
        );
    } else {
        g.emit(
            c,
            &format!("ports:\n  - name: http\n    containerPort: {port}\n    protocol: TCP"),
        );
    }
    if g.rng.chance(30) {
        g.emit(
            g.item(c),
            "- name: metrics\n  containerPort: 9100  # Prometheus scrape port",
        );
    }
}

fn env(g: &mut Gen, c: usize) {
    let mut s = String::from("env:");
    for (i, entry) in ENV.iter().enumerate() {
        if i == 0 || g.rng.chance(35) {
            entry.lines().for_each(|l| s += &format!("\n  {l}"));
        }
    }
    if g.rng.chance(20) {
        s += "\nenvFrom:\n  - configMapRef:\n      name: app-config";
    }
    g.emit(c, &s);
}

fn probes(g: &mut Gen, c: usize) {
    let delay = 5 + g.rng.below(30);
    g.emit(
        c,
        &format!(
            "
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
          initialDelaySeconds: {delay}
          periodSeconds: 10
        readinessProbe:"
        ),
    );
    let k = c + g.ind;
    match g.rng.below(3) {
        0 => g.emit(k, &format!("tcpSocket:\n  port: {}", g.chart.3)),
        1 => g.emit(k, "exec:\n  command:\n    - sh\n    - -c\n    - \"pg_isready -h localhost || redis-cli ping | grep -q PONG\""),
        _ => g.emit(k, "httpGet: {path: /ready, port: http}"),
    }
    ln!(g, k, "timeoutSeconds: {}", 1 + g.rng.below(5));
    if g.rng.chance(15) {
        g.emit(
            c,
            "startupProbe: {httpGet: {path: /healthz, port: http}, failureThreshold: 30}",
        );
    }
}

fn resources(g: &mut Gen, c: usize) {
    match g.rng.below(6) {
        0 => g.emit(
            c,
            "resources: {}\n  # limits:\n  #   cpu: 100m\n  #   memory: 128Mi",
        ),
        1 => g.emit(c, "resources:\n  {}"),
        2 => g.emit(
            c,
            "resources: {limits: {cpu: 200m, memory: 256Mi}, requests: {cpu: 50m, memory: 64Mi}}",
        ),
        _ => {
            let (cpu, mem) = (
                g.rng.pick(&["500m", "\"1\"", "'2'"]),
                g.rng.pick(&["512Mi", "1Gi", "\"2Gi\""]),
            );
            let (req, t) = (g.rng.pick(&["50m", "100m", "250m"]), g.tail());
            g.note(c, 20);
            g.emit(
                c,
                &format!(
                    "
                resources:
                  limits:
                    cpu: {cpu}
                    memory: {mem}
                  requests:
                    cpu: {req}
                    memory: 128Mi{t}"
                ),
            );
        }
    }
}

/// Pod- or container-level `securityContext`, from absent through `{}` to fully restricted.
fn security_context(g: &mut Gen, c: usize, pod: bool) {
    let t = g.tail();
    match (g.rng.below(10), pod) {
        (0 | 1, _) => {}
        (2, _) => ln!(g, c, "securityContext: {{}}{t}"),
        (3, _) => g.emit(c, "securityContext:\n  {}"),
        (4, _) => g.emit(c, "securityContext: {}\n  # capabilities:\n  #   drop:\n  #   - ALL\n  # runAsNonRoot: true"),
        (5, _) => g.emit(c, "securityContext:\n  runAsUser: 1000"),
        (6, true) => g.emit(c, "securityContext: {runAsUser: 1001, fsGroup: 1001}"),
        (6, false) => g.emit(c, "securityContext: {capabilities: {drop: [NET_RAW]}, privileged: false}"),
        (7, true) => g.emit(c, "securityContext:\n  fsGroup: 2000\n  seccompProfile:\n    type: RuntimeDefault"),
        (7, false) => g.emit(c, "securityContext:\n  capabilities: {drop: [NET_RAW]}\n  readOnlyRootFilesystem: true  # writes go to /tmp"),
        (8, true) => g.emit(c, "securityContext:\n  # -- pod-wide defaults\n  runAsNonRoot: true\n  runAsUser: 65534\n  supplementalGroups: [1000]"),
        _ => g.emit(c, RESTRICTED),
    }
}

fn volumes(g: &mut Gen, c: usize) {
    let mode = if g.rng.chance(30) {
        "\n      defaultMode: 420"
    } else {
        ""
    };
    let mut s = format!(
        "volumes:\n  - name: config\n    configMap:\n      name: {}{mode}\n  - name: tmp",
        g.full
    );
    s += g.rng.pick(&[
        "\n    emptyDir: {}",
        "\n    emptyDir:\n      {}",
        "\n    emptyDir:\n      medium: Memory\n      sizeLimit: 64Mi",
    ]);
    if g.rng.chance(40) {
        let _ = write!(
            s,
            "\n  - name: secret\n    secret: {{secretName: {}, optional: true}}",
            g.full
        );
    }
    if g.kind == Kind::DaemonSet {
        s += "\n  - name: varlog\n    hostPath:\n      path: /var/log";
    }
    g.emit(c, &s);
}

#[cfg(test)]
mod tests {
    use super::stream;
    use serde::de::DeserializeOwned;
    use serde::Deserialize;
    use serde_yaml_ng::Value;
    use std::collections::BTreeMap;

    #[test]
    fn same_seed_same_bytes() {
        assert_eq!(stream(200_000, 7), stream(200_000, 7));
        assert_ne!(stream(200_000, 7), stream(200_000, 8));
    }

    #[test]
    fn size_is_target_plus_at_most_one_document() {
        assert_eq!(stream(0, 1), "");
        for (target, seed) in [(1, 3), (10_000, 4), (1_000_000, 5)] {
            let s = stream(target, seed);
            assert!(
                s.len() >= target && s.len() < target + 64 * 1024,
                "{target}: {}",
                s.len()
            );
        }
        assert_eq!(
            stream(1, 9).matches("---\n").count(),
            1,
            "one document only"
        );
    }

    /// Deserializing into the k8s-openapi type checks apiVersion, kind and every field's type.
    fn typed<T: DeserializeOwned>(v: &Value, i: usize) {
        if let Err(e) = serde_yaml_ng::from_value::<T>(v.clone()) {
            panic!(
                "document {i} is not a {}: {e}\n{v:?}",
                std::any::type_name::<T>()
            );
        }
    }

    #[test]
    fn every_document_parses_as_its_kubernetes_kind() {
        use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
        let s = stream(2 << 20, 42);
        let mut kinds = BTreeMap::<String, usize>::new();
        for (i, doc) in serde_yaml_ng::Deserializer::from_str(&s).enumerate() {
            let v = Value::deserialize(doc).unwrap_or_else(|e| panic!("document {i}: {e}"));
            let kind = v["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("document {i} has no kind"));
            match kind {
                "Deployment" => typed::<apps::Deployment>(&v, i),
                "StatefulSet" => typed::<apps::StatefulSet>(&v, i),
                "DaemonSet" => typed::<apps::DaemonSet>(&v, i),
                "Job" => typed::<batch::Job>(&v, i),
                "CronJob" => typed::<batch::CronJob>(&v, i),
                "Pod" => typed::<core::Pod>(&v, i),
                "ConfigMap" => typed::<core::ConfigMap>(&v, i),
                "Secret" => typed::<core::Secret>(&v, i),
                "Service" => typed::<core::Service>(&v, i),
                "ServiceAccount" => typed::<core::ServiceAccount>(&v, i),
                "Ingress" => typed::<k8s_openapi::api::networking::v1::Ingress>(&v, i),
                other => panic!("document {i}: unexpected kind {other}"),
            }
            *kinds.entry(kind.to_owned()).or_default() += 1;
        }
        for kind in [
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "CronJob",
            "Pod",
            "Ingress",
        ] {
            assert!(kinds.contains_key(kind), "no {kind} in {kinds:?}");
        }
        assert_eq!(
            kinds.values().sum::<usize>(),
            s.matches("---\n# Source: ").count()
        );
    }

    #[test]
    fn covers_the_awkward_styles() {
        let s = stream(2 << 20, 42);
        assert!(!s.is_ascii(), "non-ASCII text");
        for header in [": |+\n", ": |-\n", ": >-\n", ": |\n"] {
            assert!(s.contains(header), "block scalar {header:?}");
        }
        assert!(
            s.contains("securityContext:\n") && s.lines().any(|l| l.trim() == "{}"),
            "{{}} alone"
        );
        assert!(
            s.contains("labels: {")
                && s.contains("securityContext: {capabilities: {drop: [NET_RAW]}")
        );
        assert!(
            s.contains("\n      containers:\n      - name: "),
            "2-space indentless sequence"
        );
        assert!(
            s.contains("\n            containers:\n                - name: "),
            "4-space indented"
        );
        assert!(
            s.contains("    # capabilities:\n") && s.contains(" # 日本語のコメント\n"),
            "comments"
        );
    }
}
