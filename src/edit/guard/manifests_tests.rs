//! `inspect` on whole manifests: unknown fields with a suggestion, values of the wrong type
//! with their path and offset, and no issue at all on real manifests (fixtures and the shared
//! corpus). Paths are relative to the package root, where `cargo test` runs.

use std::fs;
use std::path::{Path as FsPath, PathBuf};

use super::{inspect, twin_of, Issue, IssueKind};
use crate::path::{Path, Seg};
use crate::policy::workload;
use crate::yaml::Documents;

/// Every issue of every workload in `text`.
fn issues(text: &str) -> Vec<Issue> {
    let mut out = Vec::new();
    for doc in Documents::new(text) {
        let doc = doc.expect("parses");
        for w in workload::find(&doc.root, &[]) {
            out.extend(inspect(&doc.root, &w.meta, &w.spec));
        }
    }
    out
}

fn pod(spec: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{spec}")
}

fn deployment(spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n{}",
        spec.lines()
            .map(|l| format!("      {l}\n"))
            .collect::<String>()
    )
}

fn path(segs: &[&str]) -> Path {
    Path(
        segs.iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(s.to_string().into()),
            })
            .collect(),
    )
}

fn unknown(issue: &Issue) -> (&str, Option<&str>) {
    match &issue.kind {
        IssueKind::UnknownField { field, suggestion } => (field, suggestion.as_deref()),
        other => panic!("not an unknown field: {other:?}"),
    }
}

fn wrong(issue: &Issue) -> (&str, &str) {
    match &issue.kind {
        IssueKind::WrongType {
            expected, found, ..
        } => (expected, found),
        other => panic!("not a wrong type: {other:?}"),
    }
}

#[test]
fn misspelled_pod_security_context_field() {
    let text =
        deployment("securityContext:\n  runAsNonroot: true\ncontainers:\n- name: a\n  image: a\n");
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    let i = &found[0];
    assert_eq!(unknown(i), ("runAsNonroot", Some("runAsNonRoot")));
    assert_eq!(
        i.path,
        path(&[
            "spec",
            "template",
            "spec",
            "securityContext",
            "runAsNonroot"
        ])
    );
    assert_eq!(&text[i.at..i.at + 12], "runAsNonroot");
    assert_eq!(
        i.message(),
        "unknown field \"runAsNonroot\" in spec.template.spec.securityContext \
         (did you mean \"runAsNonRoot\"?)"
    );
    assert_eq!(
        i.twin(),
        Some(path(&[
            "spec",
            "template",
            "spec",
            "securityContext",
            "runAsNonRoot"
        ]))
    );
}

#[test]
fn misspelled_container_security_context_field() {
    let text = pod(
        "  containers:\n  - name: a\n    image: a\n  - name: b\n    image: b\n    securityContext:\n      allowPrivilegeEscalaton: false\n",
    );
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        unknown(&found[0]),
        ("allowPrivilegeEscalaton", Some("allowPrivilegeEscalation"))
    );
    assert_eq!(
        found[0].path,
        path(&[
            "spec",
            "containers",
            "1",
            "securityContext",
            "allowPrivilegeEscalaton"
        ])
    );
    assert_eq!(
        found[0].message(),
        "unknown field \"allowPrivilegeEscalaton\" in spec.containers[1].securityContext \
         (did you mean \"allowPrivilegeEscalation\"?)"
    );
}

#[test]
fn misspelled_container_field() {
    let text = pod(
        "  containers:\n  - name: a\n    image: a\n    securityContex:\n      runAsNonRoot: true\n",
    );
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        unknown(&found[0]),
        ("securityContex", Some("securityContext"))
    );
    assert_eq!(
        found[0].path,
        path(&["spec", "containers", "0", "securityContex"])
    );
    // Nothing below an unknown field is judged.
    // A fix writing anywhere under the container's `securityContext` sits beside the twin.
    let fix = path(&["spec", "containers", "0", "securityContext", "runAsNonRoot"]);
    assert_eq!(twin_of(&found, &fix), Some(&found[0]));
    let other = path(&["spec", "containers", "1", "securityContext"]);
    assert_eq!(twin_of(&found, &other), None);
    let pod_level = path(&["spec", "securityContext", "runAsNonRoot"]);
    assert_eq!(twin_of(&found, &pod_level), None);
}

#[test]
fn unknown_field_without_a_likely_twin() {
    let text = pod("  containers:\n  - name: a\n    image: a\n    flavour: vanilla\n");
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(unknown(&found[0]), ("flavour", None));
    assert_eq!(
        found[0].message(),
        "unknown field \"flavour\" in spec.containers[0]"
    );
}

#[test]
fn unknown_field_in_template_metadata() {
    let text = deployment("containers: []\n").replace(
        "  template:\n",
        "  template:\n    metadata:\n      label:\n        app: web\n",
    );
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(unknown(&found[0]), ("label", Some("labels")));
    assert_eq!(
        found[0].path,
        path(&["spec", "template", "metadata", "label"])
    );
}

#[test]
fn quoted_boolean_is_a_string() {
    let text = pod("  securityContext:\n    runAsNonRoot: \"yes\"\n  containers: []\n");
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    let i = &found[0];
    assert_eq!(wrong(i), ("boolean", "string"));
    assert_eq!(i.path, path(&["spec", "securityContext", "runAsNonRoot"]));
    assert_eq!(&text[i.at..i.at + 5], "\"yes\"");
    assert_eq!(
        i.message(),
        "spec.securityContext.runAsNonRoot: expected a boolean, found a string (\"yes\")"
    );
}

#[test]
fn the_refuse_fixture_names_its_wrong_type() {
    let text = fs::read_to_string("fixtures/refuse/wrong-type.yaml").unwrap();
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(wrong(&found[0]), ("boolean", "string"));
    assert_eq!(
        found[0].path,
        path(&["spec", "securityContext", "runAsNonRoot"])
    );
}

#[test]
fn containers_must_be_a_list() {
    let text = pod("  containers: {}\n");
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(wrong(&found[0]), ("array", "object"));
    assert_eq!(found[0].path, path(&["spec", "containers"]));
    assert_eq!(&text[found[0].at..found[0].at + 2], "{}");
    assert_eq!(
        found[0].message(),
        "spec.containers: expected an array, found an object"
    );
}

#[test]
fn yaml_1_1_booleans_and_nulls_are_fine() {
    let text = pod(
        "  hostNetwork: yes\n  hostPID: Off\n  hostIPC: ~\n  securityContext:\n  nodeSelector:\n    disk: null\n  containers:\n  - name: a\n    image: a\n    securityContext: ~\n    env:\n    - name: X\n      value:\n",
    );
    assert_eq!(issues(&text), vec![]);
}

#[test]
fn int_or_string_and_quantities() {
    let text = pod(concat!(
        "  containers:\n",
        "  - name: a\n",
        "    image: a\n",
        "    ports: [{containerPort: 8080, name: http}]\n",
        "    readinessProbe: {httpGet: {port: http, path: /}}\n",
        "    livenessProbe: {tcpSocket: {port: 8080}}\n",
        "    resources:\n",
        "      limits: {cpu: 500m, memory: 1Gi, nvidia.com/gpu: 1}\n",
        "      requests: {cpu: 0.5, memory: \"128974848\"}\n",
    ));
    assert_eq!(issues(&text), vec![]);
    let bad = text
        .replace("port: http,", "port: true,")
        .replace("cpu: 0.5", "cpu: [1]")
        .replace("port: 8080}", "port: 80.5}");
    let found = issues(&bad);
    let got: Vec<_> = found
        .iter()
        .map(|i| (i.path.to_string(), wrong(i)))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "spec.containers[0].readinessProbe.httpGet.port".to_string(),
                ("integer or string", "boolean")
            ),
            (
                "spec.containers[0].livenessProbe.tcpSocket.port".to_string(),
                ("integer or string", "number")
            ),
            (
                "spec.containers[0].resources.requests.cpu".to_string(),
                ("number or string", "array")
            ),
        ]
    );
}

#[test]
fn wrong_scalar_types_are_named() {
    let text = pod(concat!(
        "  terminationGracePeriodSeconds: soon\n",
        "  containers:\n",
        "  - name: a\n",
        "    image: a\n",
        "    env:\n",
        "    - name: PORT\n",
        "      value: 8080\n",
        "    args: [--verbose, 3]\n",
    ));
    let found = issues(&text);
    let got: Vec<_> = found
        .iter()
        .map(|i| (i.path.to_string(), wrong(i)))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "spec.terminationGracePeriodSeconds".to_string(),
                ("integer", "string")
            ),
            (
                "spec.containers[0].env[0].value".to_string(),
                ("string", "integer")
            ),
            (
                "spec.containers[0].args[1]".to_string(),
                ("string", "integer")
            ),
        ]
    );
    assert_eq!(
        found[1].message(),
        "spec.containers[0].env[0].value: expected a string, found an integer (8080)"
    );
}

#[test]
fn free_form_maps_check_values_only() {
    let text = deployment("containers: []\n").replace(
        "  template:\n",
        "  template:\n    metadata:\n      labels: {app.kubernetes.io/name: web, Weird_Key: x}\n      annotations:\n        prometheus.io/scrape: true\n",
    );
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(wrong(&found[0]), ("string", "boolean"));
    assert_eq!(
        found[0].path,
        path(&[
            "spec",
            "template",
            "metadata",
            "annotations",
            "prometheus.io/scrape"
        ])
    );
}

#[test]
fn aliases_merge_keys_and_patch_directives_are_left_alone() {
    let text = "base: &b {image: a}\n---\napiVersion: v1\nkind: Pod\nspec:\n  $setElementOrder/containers: [{name: a}]\n  containers:\n  - <<: {name: a}\n    $patch: replace\n    image: *x\n";
    // The alias is undefined in its document, so build one that parses.
    let text = text.replace("*x", "a");
    assert_eq!(issues(&text), vec![]);
    let alias = "apiVersion: v1\nkind: Pod\nmetadata: {name: &n p}\nspec:\n  hostname: *n\n  containers: []\n";
    assert_eq!(issues(alias), vec![]);
}

#[test]
fn a_list_item_is_inspected_at_its_own_path() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: c}\n  spec:\n    jobTemplate:\n      spec:\n        template:\n          spec:\n            restartpolicy: Never\n            containers: []\n";
    let found = issues(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(unknown(&found[0]), ("restartpolicy", Some("restartPolicy")));
    assert_eq!(
        found[0].path.to_string(),
        "items[0].spec.jobTemplate.spec.template.spec.restartpolicy"
    );
}

/// One pod spec that sets many of the fields the guard knows. The function is long because
/// the manifest is: the fields are checked together, as they appear in a real spec, so the
/// literal stays whole.
#[test]
fn a_full_pod_spec_has_no_issue() {
    let text = deployment(concat!(
        "serviceAccountName: web\n",
        "automountServiceAccountToken: false\n",
        "priorityClassName: high\n",
        "terminationGracePeriodSeconds: 30\n",
        "dnsPolicy: ClusterFirst\n",
        "imagePullSecrets: [{name: reg}]\n",
        "securityContext:\n",
        "  runAsUser: 1000\n",
        "  fsGroup: 2000\n",
        "  supplementalGroups: [3000]\n",
        "  seccompProfile: {type: RuntimeDefault}\n",
        "  sysctls: [{name: net.ipv4.ip_local_port_range, value: 1024 65535}]\n",
        "affinity:\n",
        "  nodeAffinity:\n",
        "    requiredDuringSchedulingIgnoredDuringExecution:\n",
        "      nodeSelectorTerms:\n",
        "      - matchExpressions: [{key: zone, operator: In, values: [a, b]}]\n",
        "  podAntiAffinity:\n",
        "    preferredDuringSchedulingIgnoredDuringExecution:\n",
        "    - weight: 100\n",
        "      podAffinityTerm:\n",
        "        topologyKey: kubernetes.io/hostname\n",
        "        labelSelector: {matchLabels: {app: web}}\n",
        "tolerations:\n",
        "- {key: dedicated, operator: Equal, value: web, effect: NoSchedule, tolerationSeconds: 60}\n",
        "topologySpreadConstraints:\n",
        "- maxSkew: 1\n",
        "  topologyKey: topology.kubernetes.io/zone\n",
        "  whenUnsatisfiable: DoNotSchedule\n",
        "  labelSelector: {matchLabels: {app: web}}\n",
        "initContainers:\n",
        "- name: init\n",
        "  image: busybox\n",
        "  command: [sh, -c, 'true']\n",
        "containers:\n",
        "- name: web\n",
        "  image: nginx:1.27\n",
        "  imagePullPolicy: IfNotPresent\n",
        "  ports:\n",
        "  - {name: http, containerPort: 80, protocol: TCP}\n",
        "  env:\n",
        "  - {name: A, value: \"1\"}\n",
        "  - name: POD\n",
        "    valueFrom: {fieldRef: {fieldPath: metadata.name}}\n",
        "  - name: MEM\n",
        "    valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}\n",
        "  - name: SECRET\n",
        "    valueFrom: {secretKeyRef: {name: s, key: k, optional: true}}\n",
        "  envFrom: [{configMapRef: {name: cm}}, {prefix: X_, secretRef: {name: s}}]\n",
        "  resources:\n",
        "    requests: {cpu: 100m, memory: 64Mi, ephemeral-storage: 1G}\n",
        "    limits: {cpu: 2, memory: 1.5Gi}\n",
        "  livenessProbe:\n",
        "    httpGet: {path: /healthz, port: http, scheme: HTTP, httpHeaders: [{name: X, value: z}]}\n",
        "    initialDelaySeconds: 5\n",
        "    periodSeconds: 10\n",
        "  readinessProbe: {exec: {command: [cat, /tmp/ok]}, failureThreshold: 3}\n",
        "  startupProbe: {grpc: {port: 9000}}\n",
        "  lifecycle: {preStop: {sleep: {seconds: 5}}}\n",
        "  volumeMounts:\n",
        "  - {name: data, mountPath: /data, readOnly: true, subPath: x}\n",
        "  securityContext:\n",
        "    allowPrivilegeEscalation: false\n",
        "    readOnlyRootFilesystem: true\n",
        "    runAsNonRoot: true\n",
        "    capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}\n",
        "volumes:\n",
        "- {name: data, emptyDir: {medium: Memory, sizeLimit: 64Mi}}\n",
        "- {name: cfg, configMap: {name: cm, defaultMode: 0644, items: [{key: a, path: a}]}}\n",
        "- {name: sec, secret: {secretName: s}}\n",
        "- {name: host, hostPath: {path: /var/log, type: Directory}}\n",
        "- {name: pvc, persistentVolumeClaim: {claimName: c}}\n",
        "- name: proj\n",
        "  projected:\n",
        "    sources:\n",
        "    - serviceAccountToken: {path: token, expirationSeconds: 3600, audience: api}\n",
        "    - downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}\n",
        "- name: eph\n",
        "  ephemeral:\n",
        "    volumeClaimTemplate:\n",
        "      metadata: {labels: {a: b}}\n",
        "      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n",
        "- {name: csi, csi: {driver: d, volumeAttributes: {a: b}}}\n",
    ));
    let found = issues(&text);
    assert!(found.is_empty(), "{:#?}", found);
}

/// Every manifest we know to be correct: the fixtures, the shared corpus and the official
/// Pod Security Admission fixtures (each a valid pod, whatever its policy verdict).
fn known_good() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "fixtures/demo",
        "fixtures/format",
        "../shared/corpus",
        "../shared/conformance/psa",
    ] {
        files.extend(pss_fix_testkit::manifests_under(FsPath::new(dir)));
    }
    // fixtures/format/typo-*.yaml hold misspelled fields on purpose.
    files.retain(|f| {
        !f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("typo-"))
    });
    files.sort();
    files
}

#[test]
fn no_issue_in_real_manifests() {
    let mut workloads = 0;
    let mut problems = Vec::new();
    let files = known_good();
    for file in &files {
        let text = crate::yaml::source::decode(fs::read(file).unwrap()).unwrap();
        for doc in Documents::new(&text) {
            let doc = doc.unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
            for w in workload::find(&doc.root, &[]) {
                workloads += 1;
                for i in inspect(&doc.root, &w.meta, &w.spec) {
                    problems.push(format!(
                        "{}: {}: {}",
                        file.display(),
                        w.label(),
                        i.message()
                    ));
                }
            }
        }
    }
    eprintln!(
        "guard: {} files, {workloads} workloads, {} issues",
        files.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(workloads > 0);
}
