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
use crate::path::{Path, Seg};
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
            let Some(context) = Context::of(doc, &object, &added.at) else {
                continue;
            };
            for field in context.fields(fixed_doc) {
                let at: Vec<Step> = context
                    .path
                    .iter()
                    .cloned()
                    .chain(Step::keys(&field))
                    .collect();
                let value = match added.action {
                    Action::Removed => Tree::Null,
                    _ => match fixed_doc.at(&at) {
                        Some(v) => v.clone(),
                        None => continue,
                    },
                };
                let need = Need {
                    loc: context.loc.clone(),
                    field,
                    value,
                    base: doc.at(&at).cloned(),
                    checks: vec![added.check],
                };
                record(&mut out, need);
            }
        }
    }
    out
}

/// A need for a field already recorded only adds its check.
fn record(out: &mut Vec<Need>, need: Need) {
    match out
        .iter_mut()
        .find(|n| n.loc == need.loc && n.field == need.field)
    {
        Some(n) => {
            for c in need.checks {
                if !n.checks.contains(&c) {
                    n.checks.push(c);
                }
            }
        }
        None => out.push(need),
    }
}

/// The securityContext one added field of a fix sits in.
struct Context {
    /// The securityContext's path in the document.
    path: Vec<Step>,
    loc: Loc,
    /// The field below it, stopped at a list (set whole); empty when the whole
    /// securityContext was added.
    field: Vec<String>,
}

impl Context {
    fn of(doc: &Tree, object: &ObjectId, at: &Path) -> Option<Context> {
        let steps: Vec<Step> = at
            .segs()
            .iter()
            .map(|s| match s {
                Seg::Key(k) => Step::Key(k.to_string()),
                Seg::Index(i) => Step::Index(*i),
            })
            .collect();
        let sc = steps
            .iter()
            .rposition(|s| matches!(s, Step::Key(k) if k == "securityContext"))?;
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
        let field = below
            .iter()
            .map_while(|s| match s {
                Step::Key(k) => Some(k.clone()),
                Step::Index(_) => None,
            })
            .collect();
        let path = steps[..=sc].to_vec();
        Some(Context { path, loc, field })
    }

    /// The fields set here: the one added, or each field of a securityContext added whole.
    fn fields(&self, fixed_doc: &Tree) -> Vec<Vec<String>> {
        if !self.field.is_empty() {
            return vec![self.field.clone()];
        }
        fixed_doc
            .at(&self.path)
            .and_then(Tree::as_map)
            .map(|m| m.iter().map(|(k, _)| vec![k.clone()]).collect())
            .unwrap_or_default()
    }
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

impl Plan {
    /// Whether `key` is the `enabled: true` the plan sets beside a mapping it goes into.
    pub fn turns_on(&self, key: &[String]) -> bool {
        match key.split_last() {
            Some((last, parent)) => last == "enabled" && self.enabled.iter().any(|e| e == parent),
            None => false,
        }
    }
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
    let mut b = Builder {
        plan: Plan::default(),
        lists: BTreeMap::new(),
        values,
        unsafe_fixes,
        skip,
    };
    let mut candidates: Vec<Vec<Vec<String>>> = Vec::new();
    for (i, need) in needs.iter().enumerate() {
        let routes = routes(need, needs, marks, seen);
        candidates.push(plain_keys(&routes));
        let mut reason = "no values key reaches this field (probed every mapping and every securityContext field in the values)".to_string();
        let mut met = false;
        for route in routes {
            match b.take(i, route) {
                Take::Met => {
                    met = true;
                    break;
                }
                Take::Refused(why) => reason = why,
                Take::Passed => {}
            }
        }
        if !met {
            b.plan.unmet.push((i, reason));
        }
    }
    let mut plan = b.plan;
    drop_redundant(&mut plan, &candidates);
    plan.keys.extend(b.lists);
    plan
}

/// The keys of the routes that set one key and nothing beside it: what a need may move
/// to when its own key turns out redundant.
fn plain_keys(routes: &[Route]) -> Vec<Vec<String>> {
    routes
        .iter()
        .filter_map(|r| match r {
            Route::Key {
                key, enable: None, ..
            } => Some(key.clone()),
            _ => None,
        })
        .collect()
}

/// A plan being built, need by need.
struct Builder<'a> {
    plan: Plan,
    /// Lists replaced whole, built up need by need.
    lists: BTreeMap<Vec<String>, (Tree, Vec<usize>)>,
    values: &'a Tree,
    unsafe_fixes: bool,
    skip: &'a [Vec<String>],
}

/// What became of one route.
enum Take {
    Met,
    /// Not usable, and the reason the need is unmet if no later route is.
    Refused(String),
    /// Not usable; the reason stays the earlier one.
    Passed,
}

impl Builder<'_> {
    fn take(&mut self, i: usize, route: Route) -> Take {
        match route {
            Route::Key { key, value, enable } => self.take_key(i, key, value, enable),
            Route::List {
                key,
                item,
                below,
                value,
            } => self.take_list(i, key, &item, &below, value),
        }
    }

    fn take_key(
        &mut self,
        i: usize,
        key: Vec<String>,
        value: Tree,
        enable: Option<Vec<String>>,
    ) -> Take {
        if self.skip.contains(&key) {
            return Take::Refused(dropped(&key));
        }
        let plan = &mut self.plan;
        match plan.keys.get_mut(&key) {
            Some((v, who)) if *v == value => who.push(i),
            Some(_) => return Take::Passed,
            None => {
                plan.keys.insert(key, (value, vec![i]));
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
        Take::Met
    }

    fn take_list(
        &mut self,
        i: usize,
        key: Vec<String>,
        item: &[Step],
        below: &[String],
        value: Tree,
    ) -> Take {
        if !self.unsafe_fixes {
            return Take::Refused(format!(
                "the container comes whole from the values list `{}`; fixing it means replacing that list (--unsafe)",
                key.join(".")
            ));
        }
        if self.skip.contains(&key) {
            return Take::Refused(dropped(&key));
        }
        let Some(list) = self.values.at(&Step::keys(&key)) else {
            return Take::Passed;
        };
        let entry = self
            .lists
            .entry(key)
            .or_insert_with(|| (list.clone(), Vec::new()));
        match entry.0.at_mut(item) {
            Some(node) => {
                node.set_path(below, value);
                entry.1.push(i);
                Take::Met
            }
            None => Take::Passed,
        }
    }
}

fn dropped(key: &[String]) -> String {
    format!("the key {} was dropped by verification", key.join("."))
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
    // (rank, path length, route): lower is better.
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
        if mark.list_at().is_some() {
            found.extend(list_route(need, mark, rel.as_deref()));
            continue;
        }
        let Some(rel) = rel else { continue };
        let Some((rank, route)) = key_route(need, needs, mark, &rel, sightings) else {
            continue;
        };
        let global = matches!(mark.path.first(), Some(Step::Key(k)) if k == "global");
        found.push((rank + if global { 4 } else { 0 }, mark.path.len(), route));
    }
    found.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| format!("{:?}", a.2).cmp(&format!("{:?}", b.2)))
    });
    found.into_iter().map(|(_, _, r)| r).collect()
}

/// Through a list: replace the list, with the field set in the need's item. `rel` is where
/// the mark landed inside the securityContext (`None`: it is the container itself).
fn list_route(need: &Need, mark: &Mark, rel: Option<&[String]>) -> Option<(u8, usize, Route)> {
    let at = mark.list_at()?;
    let key = Mark {
        path: mark.path[..at].to_vec(),
        kind: mark.kind,
    }
    .keys()?;
    let item = mark.path[at..].to_vec();
    let below = match (&mark.kind, rel) {
        (MarkKind::Map { .. }, Some(rel)) => need.field[rel.len()..].to_vec(),
        (MarkKind::Map { .. }, None) => std::iter::once("securityContext".to_string())
            .chain(need.field.iter().cloned())
            .collect(),
        (MarkKind::Leaf, _) => return None,
    };
    if !matches!(item.as_slice(), [Step::Index(_), ..]) {
        return None;
    }
    let value = need.value.clone();
    Some((
        9,
        0,
        Route::List {
            key,
            item,
            below,
            value,
        },
    ))
}

/// A key route through `mark`, landing at `rel` in the need's securityContext, with its rank
/// before the `global` penalty; none when the key would change anything unplanned.
fn key_route(
    need: &Need,
    needs: &[Need],
    mark: &Mark,
    rel: &[String],
    sightings: &[Seen],
) -> Option<(u8, Route)> {
    let keys = mark.keys()?;
    let below = &need.field[rel.len()..];
    let shared = shared_cleanly(need, needs, below, sightings)?;
    let value = need.value.clone();
    match mark.kind {
        MarkKind::Map { enable } => {
            if matches!(need.value, Tree::Map(_)) && below.is_empty() {
                return None;
            }
            let key: Vec<String> = keys.iter().chain(below).cloned().collect();
            let enable = enable.then(|| keys.clone());
            Some((u8::from(shared), Route::Key { key, value, enable }))
        }
        MarkKind::Leaf => {
            if !below.is_empty() || matches!(need.value, Tree::Map(_) | Tree::Seq(_) | Tree::Null) {
                return None;
            }
            let route = Route::Key {
                key: keys,
                value,
                enable: None,
            };
            Some((2 + u8::from(shared), route))
        }
    }
}

/// Whether a key landing at `sightings` (with `below` under each) also lands beyond the
/// need's own place; `None` when some place it lands does not want the need's value there.
fn shared_cleanly(
    need: &Need,
    needs: &[Need],
    below: &[String],
    sightings: &[Seen],
) -> Option<bool> {
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
    clean.then_some(shared)
}
