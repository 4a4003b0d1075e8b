//! From the fixes pss-fix plans on a chart's plain render to the values that make the chart
//! render them itself: each planned securityContext field ([`Need`]) gets a route through
//! the values ([`Route`]) found by the probe, or is left with the reason none fits.
//!
//! A route must change nothing but planned fields: a key whose marker also showed up
//! elsewhere (an annotation, another workload's securityContext that does not want the same
//! value) is not used. Mapping routes come first (one key reaching exactly this place, then
//! one shared by places that all want the same value), then single-field routes; keys under
//! `global` last. A container given whole as a list item in the values is reached only by
//! replacing the list, which `--unsafe` allows.

use std::collections::{BTreeMap, HashMap};

use super::probe::{Loc, Mark, MarkKind, ObjectId, Seen};
use super::tree::{Step, Tree};
use crate::engine::FileReport;
use crate::path::Seg;
use crate::policy::remedy::Action;

/// One field pss-fix plans in one securityContext of the plain render.
#[derive(Clone, Debug)]
pub struct Need {
    pub loc: Loc,
    /// The field's path below `securityContext`.
    pub field: Vec<String>,
    /// What it should be (`Null`: removed).
    pub value: Tree,
    /// What it is in the plain render.
    pub base: Option<Tree>,
    pub checks: Vec<&'static str>,
}

impl Need {
    /// `Deployment/web, container app` for comments and reports.
    pub fn place(&self) -> String {
        place(&self.loc)
    }
}

pub fn place(loc: &Loc) -> String {
    match &loc.container {
        Some((_, name)) => format!("{}, container {name}", loc.object.label()),
        None => loc.object.label(),
    }
}

/// The securityContext fields the fixes of `report` set, with the values the fixed text
/// gives them. `base` and `fixed` are the documents of the plain render and of its fixed
/// text, in stream order.
pub fn needs(report: &FileReport, base: &[Tree], fixed: &[Tree]) -> Vec<Need> {
    let mut out: Vec<Need> = Vec::new();
    for w in &report.workloads {
        let (Some(doc), Some(fixed_doc)) = (base.get(w.document), fixed.get(w.document)) else {
            continue;
        };
        let Some(object) = ObjectId::of(doc) else {
            continue;
        };
        for added in &w.added {
            let steps: Vec<Step> = added
                .at
                .segs()
                .iter()
                .map(|s| match s {
                    Seg::Key(k) => Step::Key(k.to_string()),
                    Seg::Index(i) => Step::Index(*i),
                })
                .collect();
            let Some(sc) = steps
                .iter()
                .rposition(|s| matches!(s, Step::Key(k) if k == "securityContext"))
            else {
                continue;
            };
            let (prefix, below) = (&steps[..sc], &steps[sc + 1..]);
            let (pod, container) = match prefix {
                [pod @ .., Step::Key(list), Step::Index(_)] => {
                    let name = doc
                        .at(prefix)
                        .and_then(|c| c.get("name"))
                        .and_then(Tree::scalar_text)
                        .unwrap_or_default();
                    (pod.to_vec(), Some((list.clone(), name)))
                }
                pod => (pod.to_vec(), None),
            };
            let loc = Loc {
                object: object.clone(),
                pod,
                container,
            };
            // A list is set whole: a path into one stops at it.
            let mut field: Vec<String> = Vec::new();
            for s in below {
                match s {
                    Step::Key(k) => field.push(k.clone()),
                    Step::Index(_) => break,
                }
            }
            let sc_path = &steps[..=sc];
            let fields: Vec<Vec<String>> = if field.is_empty() {
                // The whole securityContext was added: each of its fields.
                fixed_doc
                    .at(sc_path)
                    .and_then(Tree::as_map)
                    .map(|m| m.iter().map(|(k, _)| vec![k.clone()]).collect())
                    .unwrap_or_default()
            } else {
                vec![field]
            };
            for field in fields {
                let at: Vec<Step> = sc_path
                    .iter()
                    .cloned()
                    .chain(field.iter().map(|k| Step::Key(k.clone())))
                    .collect();
                let value = match added.action {
                    Action::Removed => Tree::Null,
                    _ => match fixed_doc.at(&at) {
                        Some(v) => v.clone(),
                        None => continue,
                    },
                };
                let base_value = doc.at(&at).cloned();
                match out.iter_mut().find(|n| n.loc == loc && n.field == field) {
                    Some(n) => {
                        if !n.checks.contains(&added.check) {
                            n.checks.push(added.check);
                        }
                    }
                    None => out.push(Need {
                        loc: loc.clone(),
                        field,
                        value,
                        base: base_value,
                        checks: vec![added.check],
                    }),
                }
            }
        }
    }
    out
}

/// How one need is met.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// A key path in the values, set to the value (plus `enabled: true` beside the mapping
    /// it goes into, when `enable` is given as that mapping's path).
    Key {
        key: Vec<String>,
        value: Tree,
        enable: Option<Vec<String>>,
    },
    /// A list in the values, replaced whole; the item at `item` gets the field at `below`.
    List {
        key: Vec<String>,
        item: Vec<Step>,
        below: Vec<String>,
        value: Tree,
    },
}

/// The overlay's keys, each with the needs it meets.
#[derive(Debug, Default)]
pub struct Plan {
    /// Key path → (value, indexes of the needs it meets).
    pub keys: BTreeMap<Vec<String>, (Tree, Vec<usize>)>,
    /// Needs with no route, and why.
    pub unmet: Vec<(usize, String)>,
    /// Mapping paths whose `enabled: true` the overlay sets, by key.
    pub enabled: Vec<Vec<String>>,
}

/// Find a route for every need.
pub fn plan(
    needs: &[Need],
    marks: &[Mark],
    seen: &HashMap<usize, Vec<Seen>>,
    values: &Tree,
    unsafe_fixes: bool,
    skip: &[Vec<String>],
) -> Plan {
    let mut plan = Plan::default();
    // Lists replaced whole, built up need by need.
    let mut lists: BTreeMap<Vec<String>, (Tree, Vec<usize>)> = BTreeMap::new();
    let mut candidates: Vec<Vec<Vec<String>>> = Vec::new();
    for (i, need) in needs.iter().enumerate() {
        let routes = routes(need, needs, marks, seen);
        candidates.push(
            routes
                .iter()
                .filter_map(|r| match r {
                    Route::Key {
                        key, enable: None, ..
                    } => Some(key.clone()),
                    _ => None,
                })
                .collect(),
        );
        let mut reason = "no values key reaches this field (probed every mapping and every securityContext field in the values)".to_string();
        let mut met = false;
        for route in routes {
            match route {
                Route::Key { key, value, enable } => {
                    if skip.contains(&key) {
                        reason = format!("the key {} was dropped by verification", key.join("."));
                        continue;
                    }
                    match plan.keys.get_mut(&key) {
                        Some((v, who)) if *v == value => who.push(i),
                        Some(_) => continue,
                        None => {
                            plan.keys.insert(key.clone(), (value, vec![i]));
                        }
                    }
                    if let Some(e) = enable {
                        let mut k = e.clone();
                        k.push("enabled".into());
                        plan.keys
                            .entry(k)
                            .or_insert_with(|| (Tree::Bool(true), Vec::new()))
                            .1
                            .push(i);
                        if !plan.enabled.contains(&e) {
                            plan.enabled.push(e);
                        }
                    }
                    met = true;
                }
                Route::List {
                    key,
                    item,
                    below,
                    value,
                } => {
                    if !unsafe_fixes {
                        reason = format!(
                            "the container comes whole from the values list `{}`; fixing it means replacing that list (--unsafe)",
                            key.join(".")
                        );
                        continue;
                    }
                    if skip.contains(&key) {
                        reason = format!("the key {} was dropped by verification", key.join("."));
                        continue;
                    }
                    let steps: Vec<Step> = key.iter().map(|k| Step::Key(k.clone())).collect();
                    let Some(list) = values.at(&steps) else {
                        continue;
                    };
                    let entry = lists
                        .entry(key)
                        .or_insert_with(|| (list.clone(), Vec::new()));
                    if let Some(node) = entry.0.at_mut(&item) {
                        node.set_path(&below, value);
                        entry.1.push(i);
                        met = true;
                    }
                }
            }
            if met {
                break;
            }
        }
        if !met {
            plan.unmet.push((i, reason));
        }
    }
    drop_redundant(&mut plan, &candidates);
    plan.keys.extend(lists);
    plan
}

/// A key whose every need another chosen key also meets (a `global` key reaching a
/// subchart that has its own key too) changes nothing: left out, its needs moved over.
fn drop_redundant(plan: &mut Plan, candidates: &[Vec<Vec<String>>]) {
    loop {
        let redundant = plan.keys.iter().find_map(|(key, (_, who))| {
            let moves: Option<Vec<(usize, Vec<String>)>> = who
                .iter()
                .map(|&i| {
                    candidates[i]
                        .iter()
                        .find(|k| *k != key && plan.keys.contains_key(*k))
                        .map(|k| (i, k.clone()))
                })
                .collect();
            moves.map(|m| (key.clone(), m))
        });
        let Some((key, moves)) = redundant else {
            return;
        };
        plan.keys.remove(&key);
        for (i, to) in moves {
            if let Some((_, who)) = plan.keys.get_mut(&to) {
                who.push(i);
            }
        }
    }
}

/// The routes that could set `need`, best first.
fn routes(
    need: &Need,
    needs: &[Need],
    marks: &[Mark],
    seen: &HashMap<usize, Vec<Seen>>,
) -> Vec<Route> {
    // (rank, route): lower is better.
    let mut found: Vec<(u8, usize, Route)> = Vec::new();
    for (id, sightings) in seen {
        let Some(mark) = marks.get(*id) else { continue };
        let here = sightings.iter().find_map(|s| match s {
            Seen::Context { loc, rel } if *loc == need.loc && need.field.starts_with(rel) => {
                Some(Some(rel.clone()))
            }
            Seen::Container { loc } if *loc == need.loc => Some(None),
            _ => None,
        });
        let Some(rel) = here else { continue };
        let global = matches!(mark.path.first(), Some(Step::Key(k)) if k == "global");
        if let Some(at) = mark.list_at() {
            // Through a list: replace the list.
            let Some(key) = Mark {
                path: mark.path[..at].to_vec(),
                kind: mark.kind,
            }
            .keys() else {
                continue;
            };
            let (item, below) = match (&mark.kind, rel) {
                (MarkKind::Map { .. }, Some(rel)) => {
                    (mark.path[at..].to_vec(), need.field[rel.len()..].to_vec())
                }
                (MarkKind::Map { .. }, None) => (
                    mark.path[at..].to_vec(),
                    std::iter::once("securityContext".to_string())
                        .chain(need.field.iter().cloned())
                        .collect(),
                ),
                (MarkKind::Leaf, _) => continue,
            };
            if !matches!(item.as_slice(), [Step::Index(_), ..]) {
                continue;
            }
            found.push((
                9,
                0,
                Route::List {
                    key,
                    item,
                    below,
                    value: need.value.clone(),
                },
            ));
            continue;
        }
        let Some(rel) = rel else { continue };
        let Some(keys) = mark.keys() else { continue };
        let below = &need.field[rel.len()..];
        // Every place this key lands must want the value there (or have it already).
        let mut shared = false;
        let clean = sightings.iter().all(|s| match s {
            Seen::Context { loc, rel: r } => {
                let field: Vec<String> = r.iter().chain(below).cloned().collect();
                if *loc == need.loc && field == need.field {
                    return true;
                }
                shared = true;
                // A place that plans nothing for this field counts as a change (whether it
                // already has the value is the verification's to see): not clean.
                needs
                    .iter()
                    .any(|n| n.loc == *loc && n.field == field && n.value == need.value)
            }
            _ => false,
        });
        if !clean {
            continue;
        }
        let (rank, route) = match mark.kind {
            MarkKind::Map { enable } => {
                if matches!(need.value, Tree::Map(_)) && below.is_empty() {
                    continue;
                }
                let key: Vec<String> = keys.iter().chain(below).cloned().collect();
                (
                    u8::from(shared),
                    Route::Key {
                        key,
                        value: need.value.clone(),
                        enable: enable.then(|| keys.clone()),
                    },
                )
            }
            MarkKind::Leaf => {
                if !below.is_empty()
                    || matches!(need.value, Tree::Map(_) | Tree::Seq(_) | Tree::Null)
                {
                    continue;
                }
                (
                    2 + u8::from(shared),
                    Route::Key {
                        key: keys,
                        value: need.value.clone(),
                        enable: None,
                    },
                )
            }
        };
        found.push((rank + if global { 4 } else { 0 }, mark.path.len(), route));
    }
    found.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| format!("{:?}", a.2).cmp(&format!("{:?}", b.2)))
    });
    found.into_iter().map(|(_, _, r)| r).collect()
}
