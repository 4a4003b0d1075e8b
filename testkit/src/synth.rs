//! Synthetic Kubernetes manifest streams: the input for benchmarks and property tests.
//!
//! This module owns [`stream`], a deterministic generator of multi-document YAML that looks like
//! `helm template` output of many charts. Benchmarks need realistic input of any size without
//! checked-in fixtures, and property tests need varied but reproducible manifests drawn from a
//! seed. The generator therefore covers the stylistic variety a lossless rewriter must survive:
//! 2- and 4-space indentation, indentless and indented sequences, flow maps, Helm's
//! `securityContext:\n  {}`, partially set security contexts, comments on their own lines and
//! after values, quoted and plain strings, block scalars (`|`, `|-`, `>-`, `|+`) and non-ASCII
//! text. Every document is valid YAML whose fields have the types the Kubernetes API expects.
//!
//! Randomness comes from a self-contained splitmix64, so a seed maps to the same bytes on every
//! platform. Fragments are written as 2-space YAML with indented sequences; [`Gen::emit`]
//! re-indents them into the style of the release being rendered and fills in `$` placeholders.

use std::fmt::Write as _;

/// A multi-document YAML stream of roughly `target_bytes` (stop after the first document that
/// reaches it), deterministic for a given seed.
pub fn stream(target_bytes: usize, seed: u64) -> String {
    let mut g = Gen {
        rng: Rng(seed),
        ..Gen::default()
    };
    g.out.reserve(target_bytes + 16 * 1024);
    while g.out.len() < target_bytes {
        release(&mut g, target_bytes);
    }
    g.out
}

/// splitmix64: tiny, fast, and plenty for choosing between styles (and, in the tests, for
/// when to kill a writer): the same seed gives the same numbers on every platform.
#[derive(Default)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// Name, image, tag and container port of a chart's main container.
struct Chart(&'static str, &'static str, &'static str, u16);

const CHARTS: &[Chart] = &[
    Chart("nginx", "nginx", "1.25.3", 8080),
    Chart("redis", "bitnami/redis", "7.2.4-debian-12-r9", 6379),
    Chart("postgresql", "bitnami/postgresql", "16.2", 5432),
    Chart("grafana", "grafana/grafana", "10.4.1", 3000),
    Chart("prometheus", "prom/prometheus", "v2.51.0", 9090),
    Chart("fluent-bit", "fluent/fluent-bit", "3.0", 2020),
    Chart("cert-manager", "jetstack/cert-manager", "v1.14", 9402),
    Chart("api-gateway", "ghcr.io/acme/api-gateway", "2.3.1", 8000),
    Chart("backup", "registry.example.com/backup", "2024.03.1", 8081),
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

// Document parts. `$0`..`$9` are arguments; `$full`, `$name`, `$image`, `$tag`, `$port`,
// `$release` and `$version` describe the release.
const HEADER: &str = "---
# Source: $0$name/templates/$1.yaml
apiVersion: $2
kind: $3
metadata:
  name: $full$4";
const LABELS: &str = "
    $0:
      helm.sh/chart: $name-$version
      app.kubernetes.io/name: $name
      app.kubernetes.io/instance: $release
      app.kubernetes.io/version: \"$tag\"
      app.kubernetes.io/managed-by: Helm";
const SELECTOR: &str =
    "$0:\n  app.kubernetes.io/name: $name\n  app.kubernetes.io/instance: $release";
const FLOW_LABELS: &str =
    "$0: {app.kubernetes.io/name: $name, app.kubernetes.io/instance: $release$1}";
const DESCRIPTION: &str = "annotations:\n  description: \"Grüße — 日本語 ✅\"\n  owner: team-a";
const IRSA: &str = "annotations:\n  eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/app";
const HOOK: &str =
    "annotations:\n  \"helm.sh/hook\": pre-install,pre-upgrade\n  \"helm.sh/hook-weight\": \"-5\"";
const TEST_HOOK: &str = "annotations:\n  \"helm.sh/hook\": test";
const SECRET: &str = "
    type: Opaque
    stringData:
      username: $0admin$0
      password: \"$1\"
      DATABASE_URL: \"postgres://app:$1@$full-postgresql:5432/app?sslmode=disable\"";
const PASSPHRASE: &str = "# 日本語のパスフレーズ\npassphrase: \"パスワード🔑 Grüße\"";
const SECRET_DATA: &str = "
    data:
      api-token: c2VjcmV0LXRva2VuLTEyMzQ=
      tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==";
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
const LITERAL: &[&str] = &["|", "|-", "|+", "|-  # rendered from values.yaml"];
/// ConfigMap files: key, possible block scalar headers, content.
const FILES: &[(&str, &[&str], &str)] = &[
    ("nginx.conf", LITERAL, NGINX_CONF),
    ("config.json", LITERAL, CONFIG_JSON),
    ("entrypoint.sh", LITERAL, ENTRYPOINT),
    ("application.yaml", LITERAL, APP_YAML),
    ("motd", &[">-", ">"], MOTD),
];
const NGINX_CONF: &str = r#"# Managed by Helm — do not edit by hand
worker_processes auto;
events {
    worker_connections 1024;
}
http {
    gzip on;
    server {
        listen 8080;
        location /healthz {
            return 200 "ok\n";
        }
        location / {
            add_header X-Greeting "Grüße aus München";
        }
    }
}"#;
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
const SERVICE_PORTS: &[&str] = &[
    "ports:\n  - {name: http, port: 80, targetPort: http, protocol: TCP}",
    "ports:\n  - port: 80\n    targetPort: http  # named container port\n    protocol: TCP\n    name: http",
    "ports:\n  - port: $port\n    targetPort: $port\n    name: tcp",
];
const INGRESS_ANNOTATIONS: &str = "
    annotations:
      nginx.ingress.kubernetes.io/proxy-body-size: \"0\"
      nginx.ingress.kubernetes.io/ssl-redirect: 'true'
      cert-manager.io/cluster-issuer: letsencrypt-prod";
const INGRESS_TLS: &str =
    "tls:\n  - hosts:\n      - \"$name.example.com\"\n    secretName: $full-tls";
const INGRESS_RULES: &str = "
    ingressClassName: nginx
    rules:
      - host: $name.example.com
        http:
          paths:
            - path: /
              pathType: $0
              backend:
                service:
                  name: $full
                  port:
                    number: 80";
const JOB: &str = "backoffLimit: $0\nttlSecondsAfterFinished: 300";
const SCHEDULES: &[&str] = &["\"*/15 * * * *\"", "'0 3 * * *'", "\"@hourly\""];
const CRON_JOB: &str = "
    schedule: $0
    concurrencyPolicy: Forbid
    successfulJobsHistoryLimit: 3
    suspend: false
    jobTemplate:
      spec:
        backoffLimit: 1";
const STATEFUL_SET: &str = "serviceName: $full-headless\npodManagementPolicy: $0";
const STRATEGY: &str =
    "strategy:\n  type: RollingUpdate\n  rollingUpdate:\n    maxSurge: 25%\n    maxUnavailable: 0";
const CLAIMS: &str = "
    volumeClaimTemplates:
      - metadata:
          name: data
        spec:
          accessModes: [\"ReadWriteOnce\"]
          resources:
            requests:
              storage: $0";
const POD_ANNOTATIONS: &str =
    "annotations:\n  checksum/config: $0\n  kubectl.kubernetes.io/default-container: $name";
const TOLERATIONS: &str = "
    tolerations:
      - key: \"node-role.kubernetes.io/control-plane\"
        operator: Exists
        effect: NoSchedule";
/// Init containers and sidecars: name, image, and their command or args.
const INITS: &[(&str, &str, &str)] = &[
    (
        "wait-for-db",
        "busybox:1.36",
        "command:\n  - sh\n  - -c\n  - \"until nslookup db; do sleep 2; done\"",
    ),
    (
        "init-perms",
        "bitnami/os-shell:12",
        r#"command: ["sh", "-c", "chown -R 1001:1001 /data"]"#,
    ),
];
const SIDECARS: &[(&str, &str, &str)] = &[
    (
        "config-reloader",
        "jimmidyson/configmap-reload:v0.12.0",
        "args: [\"--volume-dir=/etc/config\", '--webhook-url=http://127.0.0.1:9533/-/reload']",
    ),
    (
        "metrics-exporter",
        "prom/node-exporter:v1.7.0",
        "args:\n  - --path.rootfs=/host\n  - '--web.listen-address=:9100'",
    ),
];
const MAIN_ARGS: &str = "args:\n  - --config=/etc/app/config.yaml\n  - '--log-format=json'";
const CONTAINER_PORTS: &[&str] = &[
    "ports:\n  - {name: http, containerPort: $port, protocol: TCP}",
    "ports:\n  - name: http\n    containerPort: $port\n    protocol: TCP",
    "ports:\n  - containerPort: $port\n    name: http",
];
const METRICS_PORT: &str = "- name: metrics\n  containerPort: 9100  # Prometheus scrape port";
/// `env` items; the first always, the rest at random.
const ENV: &[&str] = &[
    "- name: LOG_LEVEL\n  value: info",
    "- name: POD_NAME\n  valueFrom:\n    fieldRef:\n      fieldPath: metadata.name",
    "- name: ENABLE_METRICS\n  value: \"true\"",
    "- {name: PORT, value: \"8080\"}",
    "- name: GREETING\n  value: \"Grüße aus Köln 👋\"",
    "- name: GREETING_JA\n  value: '日本語 ✨'",
    "- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: $full\n      key: password",
    "- name: JAVA_OPTS\n  value: -Xms256m -Xmx512m",
    "- name: TZ\n  value: Asia/Tokyo  # 日本標準時",
    "- name: GOMAXPROCS\n  valueFrom:\n    resourceFieldRef:\n      resource: limits.cpu",
];
const ENV_FROM: &str = "envFrom:\n  - configMapRef:\n      name: $full";
const LIVENESS: &str = "
    livenessProbe:
      httpGet:
        path: /healthz
        port: http
      initialDelaySeconds: $0
      periodSeconds: 10";
const READINESS: &[&str] = &[
    "readinessProbe:\n  tcpSocket:\n    port: $port\n  timeoutSeconds: 3",
    "readinessProbe:\n  exec:\n    command:\n      - sh\n      - -c\n      - \"redis-cli ping | grep -q PONG\"",
    "readinessProbe:\n  httpGet: {path: /ready, port: http}\n  failureThreshold: 3",
];
const STARTUP: &str = "startupProbe: {httpGet: {path: /healthz, port: http}, failureThreshold: 30}";
/// `resources` variants; `$0` cpu limit, `$1` memory limit, `$2` a trailing comment.
const RESOURCES: &[&str] = &[
    "resources: {}\n  # limits:\n  #   cpu: 100m\n  #   memory: 128Mi",
    "resources:\n  {}",
    "resources: {limits: {cpu: 200m, memory: 256Mi}, requests: {cpu: 50m, memory: 64Mi}}",
    RESOURCES_BLOCK,
    RESOURCES_BLOCK,
];
const RESOURCES_BLOCK: &str = "
    resources:
      limits:
        cpu: $0
        memory: $1
      requests:
        cpu: 100m
        memory: 128Mi$2";
/// Pod-level `securityContext` variants, from absent through `{}` to restricted; `$0` is a
/// trailing comment.
const POD_SC: &[&str] = &[
    "",
    "",
    "securityContext: {}$0",
    "securityContext:\n  {}",
    "securityContext: {}\n  # runAsNonRoot: true\n  # fsGroup: 2000",
    "securityContext:\n  runAsUser: 1000",
    "securityContext: {runAsUser: 1001, fsGroup: 1001}",
    "securityContext:\n  fsGroup: 2000$0\n  seccompProfile:\n    type: RuntimeDefault",
    "securityContext:\n  # -- pod-wide defaults\n  runAsNonRoot: true\n  supplementalGroups: [1000]",
    "securityContext:\n  runAsNonRoot: true\n  runAsUser: 65534\n  seccompProfile: {type: RuntimeDefault}",
];
/// Container-level `securityContext` variants, like [`POD_SC`].
const CONTAINER_SC: &[&str] = &[
    "",
    "",
    "securityContext: {}$0",
    "securityContext:\n  {}",
    "securityContext: {}\n  # capabilities:\n  #   drop:\n  #   - ALL\n  # readOnlyRootFilesystem: true",
    "securityContext:\n  runAsUser: 1000",
    "securityContext:\n  capabilities: {drop: [NET_RAW]}",
    "securityContext: {capabilities: {drop: [NET_RAW]}, privileged: false}",
    "securityContext:\n  allowPrivilegeEscalation: false$0\n  readOnlyRootFilesystem: true  # writes go to /tmp",
    RESTRICTED,
];
const RESTRICTED: &str = "
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
          - ALL
      runAsNonRoot: true
      seccompProfile:
        type: RuntimeDefault";
const CONFIG_VOLUMES: &[&str] = &[
    "- name: config\n  configMap:\n    name: $full",
    "- name: config\n  configMap:\n    name: $full\n    defaultMode: 420",
];
const TMP_VOLUMES: &[&str] = &[
    "- name: tmp\n  emptyDir: {}",
    "- name: tmp\n  emptyDir:\n    {}",
    "- name: tmp\n  emptyDir:\n    medium: Memory\n    sizeLimit: 64Mi",
];

#[derive(Clone, Copy, Default, PartialEq)]
enum Kind {
    #[default]
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Pod,
}

const KINDS: &[Kind] = &[
    Kind::Deployment,
    Kind::Deployment,
    Kind::Deployment,
    Kind::StatefulSet,
    Kind::DaemonSet,
    Kind::CronJob,
    Kind::Job,
    Kind::Pod,
];

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Init,
    Main,
    Sidecar,
}

/// The output plus the style and identity of the release being rendered.
#[derive(Default)]
struct Gen {
    out: String,
    rng: Rng,
    ind: usize,
    indentless: bool,
    flow: bool,
    subchart: bool,
    chart: usize,
    release: &'static str,
    version: String,
    full: String,
    kind: Kind,
    /// Scratch for [`Gen::emit`]: (template column, output column) of the open levels.
    stack: Vec<(usize, usize)>,
}

impl Gen {
    fn chart(&self) -> &'static Chart {
        &CHARTS[self.chart]
    }

    /// Writes `tpl` at column `c` in the current indent width and sequence style. `tpl` is YAML
    /// with 2-space indentation and indented sequences; common leading indentation is ignored.
    fn emit(&mut self, c: usize, tpl: &str, args: &[&str]) {
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
                let indentless = after_key && self.indentless && text.starts_with("- ");
                col += if indentless { 0 } else { self.ind };
                self.stack.push((n, col));
            }
            self.out.extend(std::iter::repeat_n(' ', col));
            self.subst(text, args);
            self.out.push('\n');
            if text.starts_with("- ") {
                self.stack.push((n + 2, col + 2));
            }
            after_key = text.ends_with(':');
        }
    }

    /// Appends `text` with its `$` placeholders filled in.
    fn subst(&mut self, text: &str, args: &[&str]) {
        let mut parts = text.split('$');
        self.out.push_str(parts.next().unwrap_or_default());
        for part in parts {
            let n = match part.bytes().next() {
                Some(b'0'..=b'9') => 1,
                _ => part.bytes().take_while(u8::is_ascii_lowercase).count(),
            };
            let (key, rest) = part.split_at(n);
            let chart = self.chart();
            let _ = match key {
                "full" => write!(self.out, "{}", self.full),
                "name" => write!(self.out, "{}", chart.0),
                "image" => write!(self.out, "{}:{}", chart.1, chart.2),
                "tag" => write!(self.out, "{}", chart.2),
                "port" => write!(self.out, "{}", chart.3),
                "release" => write!(self.out, "{}", self.release),
                "version" => write!(self.out, "{}", self.version),
                digit => write!(self.out, "{}", args[digit.parse::<usize>().expect(key)]),
            };
            self.out.push_str(rest);
        }
    }

    /// Column of the `- ` of a sequence under a key at `c`.
    fn item(&self, c: usize) -> usize {
        c + if self.indentless { 0 } else { self.ind }
    }
    /// A trailing comment, now and then.
    fn tail(&mut self) -> &'static str {
        let t = self.rng.pick(TAILS);
        [t, "", "", "", "", "", "", ""][self.rng.below(8)]
    }
    /// A quote (or none) for a string that reads the same either way.
    fn q(&mut self) -> &'static str {
        self.rng.pick(&["", "", "\"", "'"])
    }
    fn note(&mut self, c: usize, percent: usize) {
        if self.rng.chance(percent) {
            let note = self.rng.pick(NOTES);
            self.emit(c, note, &[]);
        }
    }
    /// Random hex digits after a leading letter, so they never read as a number.
    fn hex(&mut self, first: char, n: usize) -> String {
        let digits = (1..n).map(|_| char::from(b"0123456789abcdef"[self.rng.below(16)]));
        std::iter::once(first).chain(digits).collect()
    }
    fn line(&mut self, c: usize, text: std::fmt::Arguments) {
        self.out.extend(std::iter::repeat_n(' ', c));
        let _ = writeln!(self.out, "{text}");
    }
}

/// Renders one document.
type Document = fn(&mut Gen);

/// One `helm template` run: a chart, a style, and its documents in Helm's kind order.
fn release(g: &mut Gen, target: usize) {
    g.ind = g.rng.pick(&[2, 2, 4]);
    g.indentless = g.rng.chance(50);
    g.flow = g.rng.chance(30);
    g.subchart = g.rng.chance(15);
    g.chart = g.rng.below(CHARTS.len());
    g.release = g.rng.pick(RELEASES);
    let (major, minor, patch) = (g.rng.below(20), g.rng.below(10), g.rng.below(10));
    g.version = format!("{major}.{minor}.{patch}");
    g.full = format!("{}-{}", g.release, g.chart().0);
    g.kind = g.rng.pick(KINDS);
    let serves = !matches!(g.kind, Kind::Job | Kind::CronJob);
    let steps: [(bool, Document); 6] = [
        (g.rng.chance(70), service_account),
        (g.rng.chance(35), secret),
        (g.rng.chance(80), config_map),
        (serves && g.rng.chance(85), service),
        (true, workload),
        (g.kind == Kind::Deployment && g.rng.chance(35), ingress),
    ];
    for (on, emit) in steps {
        if on && g.out.len() < target {
            emit(g);
        }
    }
}

/// `---`, the `# Source:` comment, apiVersion, kind and metadata.
fn header(g: &mut Gen, file: &str, kind: [&str; 2], suffix: &str, annotations: &str) {
    let parent = ["", "platform/charts/"][g.subchart as usize];
    g.emit(0, HEADER, &[parent, file, kind[0], kind[1], suffix]);
    if g.rng.chance(15) {
        g.indentless = !g.indentless; // a chart's templates are not always consistent
    }
    let k = g.ind;
    if g.rng.chance(30) {
        let (q, ns) = (g.q(), g.rng.pick(NAMESPACES));
        g.emit(k, "namespace: $0$1$0", &[q, ns]);
    }
    labels(g, k, "labels", true);
    let annotations = match annotations {
        "" if g.rng.chance(15) => DESCRIPTION,
        a => a,
    };
    g.emit(k, annotations, &[]);
}

/// Helm's standard labels (`full`) or its selector labels, as a block or a flow map.
fn labels(g: &mut Gen, c: usize, key: &str, full: bool) {
    let (more, block) = [
        ("", SELECTOR),
        (", app.kubernetes.io/managed-by: Helm", LABELS),
    ][full as usize];
    if g.flow || g.rng.chance(10) {
        g.emit(c, FLOW_LABELS, &[key, more]);
    } else {
        g.emit(c, block, &[key]);
    }
}

fn service_account(g: &mut Gen) {
    let irsa = ["", IRSA][g.rng.chance(20) as usize];
    header(g, "serviceaccount", ["v1", "ServiceAccount"], "", irsa);
    if g.rng.chance(60) {
        let (on, t) = (g.rng.chance(30), g.tail());
        g.line(0, format_args!("automountServiceAccountToken: {on}{t}"));
    }
}

fn secret(g: &mut Gen) {
    header(g, "secret", ["v1", "Secret"], "", "");
    let (q, password) = (g.q(), g.hex('f', 20));
    g.emit(0, SECRET, &[q, &password]);
    if g.rng.chance(30) {
        g.emit(g.ind, PASSPHRASE, &[]);
    }
    if g.rng.chance(40) {
        g.emit(0, SECRET_DATA, &[]);
    }
}

fn config_map(g: &mut Gen) {
    header(g, "configmap", ["v1", "ConfigMap"], "", "");
    let k = g.ind;
    g.line(0, format_args!("data:"));
    g.note(k, 20);
    let (start, n) = (g.rng.below(PLAIN_DATA.len()), 1 + g.rng.below(4));
    for entry in PLAIN_DATA.iter().cycle().skip(start).take(n) {
        g.line(k, format_args!("{entry}"));
    }
    let first = g.rng.below(FILES.len());
    for (i, &(key, headers, text)) in FILES.iter().enumerate() {
        if i != first && !g.rng.chance(35) {
            continue;
        }
        let header = g.rng.pick(headers);
        g.line(k, format_args!("{key}: {header}"));
        for line in text.lines() {
            let col = if line.is_empty() { 0 } else { 2 * g.ind };
            g.line(col, format_args!("{line}"));
        }
        if header == "|+" {
            g.out.push('\n'); // kept: part of the value
        }
    }
}

fn service(g: &mut Gen) {
    let n = 1 + (g.kind == Kind::StatefulSet) as usize;
    for (file, suffix) in [("service", ""), ("headless-service", "-headless")]
        .into_iter()
        .take(n)
    {
        header(g, file, ["v1", "Service"], suffix, "");
        let (k, t) = (g.ind, g.tail());
        g.line(0, format_args!("spec:"));
        if suffix.is_empty() {
            let ty = g.rng.pick(&["ClusterIP", "NodePort", "\"LoadBalancer\""]);
            g.line(k, format_args!("type: {ty}{t}"));
        } else {
            g.line(k, format_args!("clusterIP: None"));
        }
        let ports = g.rng.pick(SERVICE_PORTS);
        g.emit(k, ports, &[]);
        labels(g, k, "selector", false);
    }
}

fn ingress(g: &mut Gen) {
    let kind = ["networking.k8s.io/v1", "Ingress"];
    header(g, "ingress", kind, "", INGRESS_ANNOTATIONS);
    g.line(0, format_args!("spec:"));
    let (k, path_type) = (g.ind, g.rng.pick(&["Prefix", "ImplementationSpecific"]));
    if g.rng.chance(50) {
        g.emit(k, INGRESS_TLS, &[]);
    }
    g.emit(k, INGRESS_RULES, &[path_type]);
}

fn workload(g: &mut Gen) {
    let (file, kind, annotations) = match g.kind {
        Kind::Deployment => ("deployment", ["apps/v1", "Deployment"], ""),
        Kind::StatefulSet => ("statefulset", ["apps/v1", "StatefulSet"], ""),
        Kind::DaemonSet => ("daemonset", ["apps/v1", "DaemonSet"], ""),
        Kind::Job => ("job", ["batch/v1", "Job"], HOOK),
        Kind::CronJob => ("cronjob", ["batch/v1", "CronJob"], ""),
        Kind::Pod => ("tests/test-connection", ["v1", "Pod"], TEST_HOOK),
    };
    let suffix = ["", "-test-connection"][(g.kind == Kind::Pod) as usize];
    header(g, file, kind, suffix, annotations);
    g.line(0, format_args!("spec:"));
    let k = g.ind;
    match g.kind {
        Kind::Pod => return pod_spec(g, k),
        Kind::Job => {
            let limit = g.rng.below(6).to_string();
            g.emit(k, JOB, &[&limit]);
            return template(g, k);
        }
        Kind::CronJob => {
            let schedule = g.rng.pick(SCHEDULES);
            g.emit(k, CRON_JOB, &[schedule]);
            return template(g, k + 2 * g.ind);
        }
        Kind::StatefulSet => {
            let policy = g.rng.pick(&["OrderedReady", "Parallel"]);
            g.emit(k, STATEFUL_SET, &[policy]);
        }
        _ => g.note(k, 15),
    }
    if g.kind != Kind::DaemonSet && g.rng.chance(85) {
        let (n, t) = (1 + g.rng.below(5), g.tail());
        g.line(k, format_args!("replicas: {n}{t}"));
    }
    g.line(k, format_args!("selector:"));
    labels(g, k + g.ind, "matchLabels", false);
    if g.kind == Kind::Deployment && g.rng.chance(30) {
        g.emit(k, STRATEGY, &[]);
    }
    if g.kind == Kind::DaemonSet {
        g.emit(k, "updateStrategy: {type: RollingUpdate}", &[]);
    }
    template(g, k);
    if g.kind == Kind::StatefulSet {
        let size = g.rng.pick(&["8Gi", "\"20Gi\"", "100Gi"]);
        g.emit(k, CLAIMS, &[size]);
    }
}

/// `template:` with pod metadata and the pod spec, the key at column `c`.
fn template(g: &mut Gen, c: usize) {
    let (m, k) = (c + g.ind, c + 2 * g.ind);
    g.emit(c, "template:\n  metadata:", &[]);
    labels(g, k, "labels", false);
    if g.rng.chance(40) {
        let checksum = g.hex('e', 64);
        g.emit(k, POD_ANNOTATIONS, &[&checksum]);
    }
    g.line(m, format_args!("spec:"));
    pod_spec(g, k);
}

fn pod_spec(g: &mut Gen, c: usize) {
    let restart = match g.kind {
        Kind::Job | Kind::CronJob => g.rng.pick(&["Never", "OnFailure"]),
        Kind::Pod => "Never",
        _ => "",
    };
    if !restart.is_empty() {
        g.line(c, format_args!("restartPolicy: {restart}"));
    }
    if g.rng.chance(60) {
        let q = g.q();
        g.emit(c, "serviceAccountName: $0$full$0", &[q]);
    }
    if g.rng.chance(15) {
        g.emit(
            c,
            "automountServiceAccountToken: false\nimagePullSecrets:\n  - name: regcred",
            &[],
        );
    }
    security_context(g, c, true);
    if g.rng.chance(25) {
        g.line(c, format_args!("initContainers:"));
        container(g, g.item(c), Role::Init);
    }
    g.note(c, 10);
    g.line(c, format_args!("containers:"));
    container(g, g.item(c), Role::Main);
    if g.rng.chance(25) {
        container(g, g.item(c), Role::Sidecar);
    }
    if g.rng.chance(20) {
        g.emit(c, "nodeSelector: {kubernetes.io/os: linux}", &[]);
    }
    if g.kind == Kind::DaemonSet || g.rng.chance(10) {
        g.emit(c, TOLERATIONS, &[]);
    }
    if g.rng.chance(30) {
        let seconds = g.rng.pick(&["10", "30", "60"]);
        g.emit(c, "terminationGracePeriodSeconds: $0", &[seconds]);
    }
    volumes(g, c);
}

/// One container as a sequence item whose `- ` is at column `s`.
fn container(g: &mut Gen, s: usize, role: Role) {
    let k = s + 2;
    let (name, image, extra) = match role {
        Role::Main => (g.chart().0, "$image", ""),
        Role::Init => g.rng.pick(INITS),
        Role::Sidecar => g.rng.pick(SIDECARS),
    };
    let (q, q2) = (g.q(), g.q());
    g.emit(
        s,
        &format!("- name: $0{name}$0\n  image: $1{image}$1"),
        &[q, q2],
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
        g.line(k, format_args!("imagePullPolicy: {policy}{t}"));
    }
    match role {
        Role::Main => main_container(g, k),
        _ => g.emit(k, extra, &[]),
    }
    if g.rng.chance(80) {
        let (variant, t) = (g.rng.pick(RESOURCES), g.tail());
        let (cpu, memory) = (
            g.rng.pick(&["500m", "\"1\"", "'2'"]),
            g.rng.pick(&["1Gi", "\"2Gi\""]),
        );
        g.note(k, 10);
        g.emit(k, variant, &[cpu, memory, t]);
    }
    if !sc_first {
        security_context(g, k, false);
    }
    g.line(k, format_args!("volumeMounts:"));
    let s = g.item(k);
    g.emit(s, "- name: tmp\n  mountPath: /tmp", &[]);
    if role != Role::Init {
        let read_only = ["", "\n  readOnly: true"][g.rng.chance(70) as usize];
        g.emit(
            s,
            &format!("- name: config\n  mountPath: /etc/config{read_only}"),
            &[],
        );
    }
    match (role, g.kind) {
        (Role::Main, Kind::StatefulSet) => g.emit(s, "- name: data\n  mountPath: /data", &[]),
        (Role::Main, Kind::DaemonSet) => g.emit(
            s,
            "- {name: varlog, mountPath: /var/log, readOnly: true}",
            &[],
        ),
        _ => {}
    }
}

/// Arguments, ports, env and probes of the chart's own container, keys at column `k`.
fn main_container(g: &mut Gen, k: usize) {
    if g.rng.chance(40) {
        g.emit(k, MAIN_ARGS, &[]);
    }
    let ports = g.rng.pick(CONTAINER_PORTS);
    g.emit(k, ports, &[]);
    if g.rng.chance(30) {
        g.emit(g.item(k), METRICS_PORT, &[]);
    }
    if g.rng.chance(60) {
        g.line(k, format_args!("env:"));
        for (i, entry) in ENV.iter().enumerate() {
            if i == 0 || g.rng.chance(35) {
                g.emit(g.item(k), entry, &[]);
            }
        }
        if g.rng.chance(20) {
            g.emit(k, ENV_FROM, &[]);
        }
    }
    if g.rng.chance(70) {
        let delay = (5 + g.rng.below(30)).to_string();
        g.emit(k, LIVENESS, &[&delay]);
        let readiness = g.rng.pick(READINESS);
        g.emit(k, readiness, &[]);
        if g.rng.chance(15) {
            g.emit(k, STARTUP, &[]);
        }
    }
}

fn security_context(g: &mut Gen, c: usize, pod: bool) {
    let variant = g.rng.pick(if pod { POD_SC } else { CONTAINER_SC });
    let t = g.tail();
    g.emit(c, variant, &[t]);
}

fn volumes(g: &mut Gen, c: usize) {
    g.line(c, format_args!("volumes:"));
    let s = g.item(c);
    let (config, tmp) = (g.rng.pick(CONFIG_VOLUMES), g.rng.pick(TMP_VOLUMES));
    g.emit(s, config, &[]);
    g.emit(s, tmp, &[]);
    if g.rng.chance(40) {
        g.emit(
            s,
            "- name: secret\n  secret: {secretName: $full, optional: true}",
            &[],
        );
    }
    if g.kind == Kind::DaemonSet {
        g.emit(s, "- name: varlog\n  hostPath:\n    path: /var/log", &[]);
    }
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
