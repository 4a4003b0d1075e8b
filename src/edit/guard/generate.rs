//! The generator of `table.rs`, and the test that keeps it fresh: the JSON schema
//! k8s-openapi's `schemars` feature generates for `PodSpec` and `ObjectMeta`, walked into a
//! [`Table`] and rendered as Rust source. Test-only, so schemars is only a dev-dependency and
//! the binary carries nothing but the result.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::generate::SchemaSettings;
use serde_json::Value as Json;

use super::{Struct, Table, Ty, TABLE};

/// The checked-in table, from the crate root.
const TABLE_FILE: &str = "src/edit/guard/table.rs";
/// How to rewrite [`TABLE_FILE`].
const REGENERATE: &str = "PSS_FIX_REGENERATE=1 cargo test --lib guard_table_is_fresh";

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// A table as the walk builds it, with the definition each struct comes from (`None` for an
/// inline object), for the rendering's comments.
struct Built {
    table: Table,
    names: Vec<Option<String>>,
}

/// Walk the JSON schema k8s-openapi generates for `PodSpec` and `ObjectMeta`.
fn from_k8s_openapi() -> Built {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let pod_spec = generator.subschema_for::<PodSpec>();
    let object_meta = generator.subschema_for::<ObjectMeta>();
    let defs = generator.definitions();
    let mut builder = Builder {
        defs,
        structs: Vec::new(),
        names: Vec::new(),
        named: HashMap::new(),
    };
    let pod_spec = builder.ty(pod_spec.as_value(), None);
    let object_meta = builder.ty(object_meta.as_value(), None);
    let (Ty::Struct(pod_spec), Ty::Struct(object_meta)) = (pod_spec, object_meta) else {
        panic!("k8s-openapi's schemas of PodSpec and ObjectMeta are not objects");
    };
    Built {
        table: Table {
            structs: builder.structs.leak(),
            pod_spec,
            object_meta,
        },
        names: builder
            .names
            .into_iter()
            .map(|n| n.map(str::to_owned))
            .collect(),
    }
}

/// The table's types hold `'static` references so that the real one can be a `static`; the
/// walk's are leaked to match (once per test run).
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

struct Builder<'d> {
    defs: &'d serde_json::Map<String, Json>,
    structs: Vec<Struct>,
    names: Vec<Option<&'d str>>,
    /// Definitions already turned into types (objects are entered before their fields, so
    /// a recursive type ends).
    named: HashMap<&'d str, Ty>,
}

impl<'d> Builder<'d> {
    /// The type a schema describes; `name` is the definition it comes from, if any.
    fn ty(&mut self, schema: &'d Json, name: Option<&'d str>) -> Ty {
        let Some(obj) = schema.as_object() else {
            return Ty::Any;
        };
        if let Some(reference) = obj.get("$ref").and_then(Json::as_str) {
            let Some(def_name) = reference.strip_prefix("#/$defs/") else {
                return Ty::Any;
            };
            if let Some(ty) = self.named.get(def_name) {
                return *ty;
            }
            let Some((key, def)) = self.defs.get_key_value(def_name) else {
                return Ty::Any;
            };
            return self.ty(def, Some(key.as_str()));
        }
        if obj.get("x-kubernetes-int-or-string") == Some(&Json::Bool(true)) {
            return if name == Some(QUANTITY) {
                Ty::Quantity
            } else {
                Ty::IntOrString
            };
        }
        let ty = match obj.get("type").and_then(Json::as_str) {
            Some("boolean") => Ty::Boolean,
            Some("integer") => Ty::Integer,
            Some("number") => Ty::Number,
            Some("string") => Ty::String,
            Some("array") => match obj.get("items") {
                Some(items) => Ty::Array(leak(self.ty(items, None))),
                None => Ty::Array(&Ty::Any),
            },
            Some("object") => {
                if let Some(Json::Object(props)) = obj.get("properties") {
                    let index = self.structs.len();
                    self.structs.push(Struct { fields: &[] });
                    self.names.push(name);
                    if let Some(name) = name {
                        self.named.insert(name, Ty::Struct(index));
                    }
                    let mut fields: Vec<(&'static str, Ty)> = props
                        .iter()
                        .map(|(field, s)| (&*field.clone().leak(), self.ty(s, None)))
                        .collect();
                    fields.sort_by(|a, b| a.0.cmp(b.0));
                    self.structs[index].fields = fields.leak();
                    return Ty::Struct(index);
                }
                match obj.get("additionalProperties") {
                    Some(v @ Json::Object(_)) => Ty::Map(leak(self.ty(v, None))),
                    Some(Json::Bool(true)) => Ty::Map(&Ty::Any),
                    _ => Ty::Object,
                }
            }
            _ => Ty::Any,
        };
        if let Some(name) = name {
            self.named.insert(name, ty);
        }
        ty
    }
}

// ---------------------------------------------------------------------------------------
// The rendering.

/// Where the schema comes from, as the header's list: crate versions as `Cargo.lock` pins
/// them, and the Kubernetes API k8s-openapi was built for.
fn provenance() -> String {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .unwrap_or_default();
    let version = |krate: &str| {
        let entry = format!("\nname = \"{krate}\"\nversion = \"");
        lock.split_once(&entry)
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("(version unknown)", |(v, _)| v)
            .to_owned()
    };
    // k8s-openapi's API version is a feature, visible in its module path (`v1_37`).
    let api = std::any::type_name::<PodSpec>()
        .split("::")
        .find_map(|seg| seg.strip_prefix("v1_"))
        .map_or(String::new(), |minor| {
            format!(" (Kubernetes 1.{minor} API)")
        });
    format!(
        "//! - k8s-openapi {}{api}\n//! - schemars {}",
        version("k8s-openapi"),
        version("schemars")
    )
}

/// The Rust source of `table.rs`, one line per field (rustfmt would fold short structs onto
/// one line and split long fields over four: `#[rustfmt::skip]` on the module keeps this).
fn render(built: &Built, provenance: &str) -> String {
    let Table {
        structs,
        pod_spec,
        object_meta,
    } = &built.table;
    let mut out = String::new();
    let _ = write!(
        out,
        "\
// @generated by `guard_table_is_fresh` (src/edit/guard/generate.rs): do not edit.
//! The guard's field table: every object type reachable from `PodSpec` and `ObjectMeta`,
//! each with its fields sorted by name. `Ty::Struct(i)` is the struct at index `i`, whose
//! definition the comment above it names.
//!
//! Generated by the test `guard_table_is_fresh` (`src/edit/guard/generate.rs`) from the JSON
//! schema k8s-openapi's `schemars` feature generates, with these crates (from `Cargo.lock`):
{provenance}
//!
//! That test fails when this file is stale. After upgrading either crate, regenerate it:
//! `{REGENERATE}`.

use super::{{Struct, Table, Ty}};

pub(super) static TABLE: Table = Table {{
    pod_spec: {pod_spec},
    object_meta: {object_meta},
    structs: &[
"
    );
    for (i, st) in structs.iter().enumerate() {
        let _ = match &built.names[i] {
            Some(name) => writeln!(out, "        // {i}: {name}"),
            None => writeln!(out, "        // {i}"),
        };
        if st.fields.is_empty() {
            out.push_str("        Struct { fields: &[] },\n");
            continue;
        }
        out.push_str("        Struct {\n            fields: &[\n");
        for (name, ty) in st.fields {
            let _ = writeln!(out, "                ({name:?}, {}),", ty_source(ty));
        }
        out.push_str("            ],\n        },\n");
    }
    out.push_str("    ],\n};\n");
    out
}

fn ty_source(ty: &Ty) -> String {
    match ty {
        Ty::Boolean => "Ty::Boolean".into(),
        Ty::Integer => "Ty::Integer".into(),
        Ty::Number => "Ty::Number".into(),
        Ty::String => "Ty::String".into(),
        Ty::IntOrString => "Ty::IntOrString".into(),
        Ty::Quantity => "Ty::Quantity".into(),
        Ty::Struct(i) => format!("Ty::Struct({i})"),
        Ty::Map(value) => format!("Ty::Map(&{})", ty_source(value)),
        Ty::Object => "Ty::Object".into(),
        Ty::Array(item) => format!("Ty::Array(&{})", ty_source(item)),
        Ty::Any => "Ty::Any".into(),
    }
}

/// The first line where `a` and `b` differ (1-based), with both versions of it.
fn first_difference<'s>(a: &'s str, b: &'s str) -> Option<(usize, &'s str, &'s str)> {
    let (mut a, mut b) = (a.lines(), b.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (x, y) if x != y => return Some((n, x.unwrap_or("<end>"), y.unwrap_or("<end>"))),
            _ => {}
        }
    }
    None
}

/// `table.rs` is what the walk renders today, byte for byte, and compiles to the table the
/// walk builds. With `PSS_FIX_REGENERATE=1`, rewrites it instead.
#[test]
fn guard_table_is_fresh() {
    let built = from_k8s_openapi();
    let source = render(&built, &provenance());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(TABLE_FILE);
    if std::env::var_os("PSS_FIX_REGENERATE").is_some_and(|v| v == "1") {
        std::fs::write(&path, &source)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != source {
        let at = match first_difference(&checked_in, &source) {
            Some((n, have, want)) => {
                format!("line {n} is\n    {have}\nbut should be\n    {want}")
            }
            None => "the line ends differ".to_owned(),
        };
        panic!(
            "{TABLE_FILE} is stale (k8s-openapi or schemars changed, or the file was edited): \
             {at}\nregenerate it with `{REGENERATE}`"
        );
    }
    assert!(
        TABLE == built.table,
        "{TABLE_FILE} renders the walk's table but does not compile back to it: fix `render`"
    );
}

#[test]
fn first_differences() {
    assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
    assert_eq!(first_difference("a\nb\n", "a\nc\n"), Some((2, "b", "c")));
    assert_eq!(first_difference("a\n", "a\nb\n"), Some((2, "<end>", "b")));
}
