//! `restrictedVolumes` (restricted, every version; replaces `hostPathVolumes` at
//! restricted).
//!
//! **What it checks.** Every entry of `spec.volumes` must be one of the volume types a
//! restricted pod may use: configMap, csi, downwardAPI, emptyDir, ephemeral, image,
//! persistentVolumeClaim, projected, secret. (`image` was added to the v1.0 behaviour
//! itself, so it is allowed at every policy version.) A volume with no source at all passes:
//! the API server defaults it to `emptyDir` before admission sees it.
//!
//! **Why.** The other inline volume types reach node or network storage directly, outside
//! the control of PersistentVolumes (hostPath, nfs, iscsi, gitRepo, …).
//!
//! **Example** (fails, `volume "data" uses restricted volume type "nfs"`):
//! ```yaml
//! volumes:
//! - name: data
//!   nfs:
//!     server: nfs.example.com
//!     path: /exports
//! ```
//!
//! **Fix safety.** Manual only: moving to a PersistentVolumeClaim is a storage decision;
//! reported with its reason.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{PodSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{join_quote, pluralize, Applicability, CheckInfo, Finding, FixNote, Override};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "restrictedVolumes",
    level: Level::Restricted,
    doc: "volumes must be configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret",
    versions: &[0],
    overrides: Some(Override {
        check: "hostPathVolumes",
        since: 0,
    }),
    fix_safety: Applicability::Manual,
    fixes: &[FixNote {
        safety: Applicability::Manual,
        what: "replace the volume with an allowed type (e.g. a persistentVolumeClaim)",
    }],
    eval,
};

fn allowed(v: &Volume) -> bool {
    v.config_map.is_some()
        || v.csi.is_some()
        || v.downward_api.is_some()
        || v.empty_dir.is_some()
        || v.ephemeral.is_some()
        || v.image.is_some()
        || v.persistent_volume_claim.is_some()
        || v.projected.is_some()
        || v.secret.is_some()
}

/// The restricted source type of a volume, in the admission controller's precedence order;
/// `None` for a volume without any source, which the API server defaults to `emptyDir`.
fn restricted_type(v: &Volume) -> Option<&'static str> {
    let sources: [(bool, &'static str); 21] = [
        (v.host_path.is_some(), "hostPath"),
        (v.gce_persistent_disk.is_some(), "gcePersistentDisk"),
        (v.aws_elastic_block_store.is_some(), "awsElasticBlockStore"),
        (v.git_repo.is_some(), "gitRepo"),
        (v.nfs.is_some(), "nfs"),
        (v.iscsi.is_some(), "iscsi"),
        (v.glusterfs.is_some(), "glusterfs"),
        (v.rbd.is_some(), "rbd"),
        (v.flex_volume.is_some(), "flexVolume"),
        (v.cinder.is_some(), "cinder"),
        (v.cephfs.is_some(), "cephfs"),
        (v.flocker.is_some(), "flocker"),
        (v.fc.is_some(), "fc"),
        (v.azure_file.is_some(), "azureFile"),
        (v.vsphere_volume.is_some(), "vsphereVolume"),
        (v.quobyte.is_some(), "quobyte"),
        (v.azure_disk.is_some(), "azureDisk"),
        (v.photon_persistent_disk.is_some(), "photonPersistentDisk"),
        (v.portworx_volume.is_some(), "portworxVolume"),
        (v.scale_io.is_some(), "scaleIO"),
        (v.storageos.is_some(), "storageos"),
    ];
    sources
        .into_iter()
        .find(|(set, _)| *set)
        .map(|(_, name)| name)
}

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let mut bad: Vec<&str> = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    for v in spec.volumes.iter().flatten() {
        if allowed(v) {
            continue;
        }
        let Some(kind) = restricted_type(v) else {
            continue;
        };
        bad.push(&v.name);
        types.insert(kind);
    }
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quote(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_order_types_sorted() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "containers": [],
            "volumes": [
                {"name": "n", "nfs": {"server": "s", "path": "/"}},
                {"name": "img", "image": {"reference": "r"}},
                {"name": "h", "hostPath": {"path": "/"}},
                {"name": "defaulted"},
                {"name": "h2", "hostPath": {"path": "/"}, "secret": {}},
            ],
        }))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"volumes "n", "h" use restricted volume types "hostPath", "nfs""#
        );
    }

    #[test]
    fn singular() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "containers": [],
            "volumes": [{"name": "g", "gitRepo": {"repository": "r"}}],
        }))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"volume "g" uses restricted volume type "gitRepo""#
        );
    }
}
