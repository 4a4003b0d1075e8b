//! A serde `Deserializer` over the span tree, so a typed pod view is read straight from the
//! nodes instead of through a `serde_json::Value` built for every pod template (a full JSON
//! tree per workload was a measurable share of a run).
//!
//! The reading must stay exactly the one the API server makes (YAML through JSON, YAML 1.1
//! scalars), which is what deserializing from a `&Value` gave before: every `deserialize_*`
//! method dispatches as `&Value` does, numbers visit as `serde_json::Number` does (a
//! non-negative integer as `u64`, a negative one as `i64`, a float as `f64`), and errors are
//! `serde_json::Error`s so their messages read as before. What the JSON conversion refused
//! before any typed reading, [`vet`] refuses over the whole subtree (aliases, non-string,
//! merge and duplicate keys, integers past 64 bits, NaN and infinities), even in fields a
//! typed struct skips without looking. And as a `Value` object (a `BTreeMap`) yields its keys
//! sorted, which of several errors is met first depends on the order: a mapping is read as
//! written when only success matters, and by key ([`Order::Keys`]) to name the error the
//! JSON reading named.

use std::borrow::Cow;

use serde::de::{
    self, DeserializeSeed, EnumAccess, Error as _, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde_json::Error;

use crate::edit::plan::Refusal;
use crate::yaml::scalar::{self, resolve, Resolved};
use crate::yaml::{Kind, Node, ScalarStyle};

const ALIAS: &str = "YAML aliases are not supported inside a pod template; expand them first";
const NON_STRING_KEY: &str = "a mapping key must be a string here";
const MERGE_KEY: &str = "merge keys (<<) are not supported inside a pod template";
const OUT_OF_RANGE: &str = "integer out of range";
const NOT_FINITE: &str = "a NaN or infinite number is not valid here";

/// Above this many entries a mapping's duplicate keys are found by sorting, below by a scan.
const SCAN_MAX: usize = 16;

/// Refuses what the node cannot be read as JSON, with the refusal the first one met in a
/// depth-first walk in written order (for a mapping entry: its key, then its value, then
/// whether the key repeated an earlier one), as the JSON conversion this replaces met them.
pub fn vet(node: &Node<'_>) -> Result<(), Refusal> {
    let refuse = |at: usize, message: &str| Refusal {
        at,
        message: message.into(),
    };
    match &node.kind {
        Kind::Scalar(s) => {
            // Only a tagged scalar, or a plain one starting as a number, `.inf` or `.nan` can
            // start, can resolve to a number: most scalars are passed over without resolving.
            let numeric_start = |v: &str| {
                v.bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'))
            };
            if s.tag.is_none() && (s.style != ScalarStyle::Plain || !numeric_start(&s.value)) {
                return Ok(());
            }
            match resolve(s) {
                Resolved::Int(i) if u64::try_from(i).is_err() && i64::try_from(i).is_err() => {
                    Err(refuse(node.start, OUT_OF_RANGE))
                }
                Resolved::Float(f) if !f.is_finite() => Err(refuse(node.start, NOT_FINITE)),
                _ => Ok(()),
            }
        }
        Kind::Alias(_) => Err(refuse(node.start, ALIAS)),
        Kind::Seq(seq) => seq.items.iter().try_for_each(vet),
        Kind::Map(m) => {
            let entries = &m.entries;
            let first_repeat = (entries.len() > SCAN_MAX)
                .then(|| first_repeat(entries))
                .flatten();
            for (i, (k, v)) in entries.iter().enumerate() {
                let key = k.as_str().ok_or_else(|| refuse(k.start, NON_STRING_KEY))?;
                if key == "<<" && k.as_scalar().is_some_and(|s| s.style == ScalarStyle::Plain) {
                    return Err(refuse(k.start, MERGE_KEY));
                }
                vet(v)?;
                let repeated = if entries.len() > SCAN_MAX {
                    first_repeat == Some(i)
                } else {
                    entries[..i].iter().any(|(p, _)| p.as_str() == Some(key))
                };
                if repeated {
                    return Err(Refusal {
                        at: k.start,
                        message: format!("duplicate key {key:?}"),
                    });
                }
            }
            Ok(())
        }
    }
}

/// The index of the first entry whose string key an earlier entry already has.
fn first_repeat(entries: &[(Node<'_>, Node<'_>)]) -> Option<usize> {
    let mut keys: Vec<(&str, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, (k, _))| Some((k.as_str()?, i)))
        .collect();
    keys.sort_unstable();
    // Sorted by key, then position: within a run of equal keys every one after the first
    // repeats an earlier entry.
    keys.windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| w[1].1)
        .min()
}

/// The order a mapping's entries are visited in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// As written: the fast order, for when only success matters. For a type that reads
    /// each field on its own, as k8s-openapi's do, whether reading succeeds and what it
    /// reads do not depend on the order once keys are unique.
    Written,
    /// By key, as a `serde_json::Value` object iterates: the first error met is the one the
    /// JSON reading reported.
    Keys,
}

/// Reads a node as the JSON the API server would see. Run [`vet`] on the node first: what
/// it refuses is an error here too, but only where a typed reading happens to look.
#[derive(Clone, Copy)]
pub struct NodeDeserializer<'de, 'a> {
    node: &'de Node<'a>,
    order: Order,
}

impl<'de, 'a> NodeDeserializer<'de, 'a> {
    pub fn new(node: &'de Node<'a>, order: Order) -> Self {
        NodeDeserializer { node, order }
    }

    fn below(self, node: &'de Node<'a>) -> Self {
        NodeDeserializer { node, ..self }
    }

    fn shape(&self) -> Result<Shape<'de, 'a>, Error> {
        let node: &'de Node<'a> = self.node;
        Ok(match &node.kind {
            Kind::Scalar(s) => match resolve(s) {
                Resolved::Null => Shape::Null,
                Resolved::Bool(b) => Shape::Bool(b),
                Resolved::Int(i) => match (u64::try_from(i), i64::try_from(i)) {
                    (Ok(u), _) => Shape::PosInt(u),
                    (_, Ok(n)) => Shape::NegInt(n),
                    _ => return Err(Error::custom(OUT_OF_RANGE)),
                },
                Resolved::Float(f) if f.is_finite() => Shape::Float(f),
                Resolved::Float(_) => return Err(Error::custom(NOT_FINITE)),
                Resolved::Str(s) => Shape::Str(s),
            },
            Kind::Seq(seq) => Shape::Seq(&seq.items),
            Kind::Map(m) => Shape::Map(&m.entries),
            Kind::Alias(_) => return Err(Error::custom(ALIAS)),
        })
    }

    fn deserialize_number<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::PosInt(u) => visitor.visit_u64(u),
            Shape::NegInt(i) => visitor.visit_i64(i),
            Shape::Float(f) => visitor.visit_f64(f),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn visit_seq<V: Visitor<'de>>(
        self,
        items: &'de [Node<'a>],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut access = Items {
            items: items.iter(),
            de: self,
        };
        let out = visitor.visit_seq(&mut access)?;
        if access.items.len() == 0 {
            Ok(out)
        } else {
            Err(Error::invalid_length(
                items.len(),
                &"fewer elements in array",
            ))
        }
    }

    fn visit_map<V: Visitor<'de>>(
        self,
        entries: &'de [(Node<'a>, Node<'a>)],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut access = Entries {
            walk: Walk::new(entries, self.order),
            value: None,
            de: self,
        };
        let out = visitor.visit_map(&mut access)?;
        if access.walk.len() == 0 {
            Ok(out)
        } else {
            Err(Error::invalid_length(
                entries.len(),
                &"fewer elements in map",
            ))
        }
    }
}

/// What a node reads as in JSON terms.
enum Shape<'de, 'a> {
    Null,
    Bool(bool),
    PosInt(u64),
    NegInt(i64),
    Float(f64),
    Str(Cow<'de, str>),
    Seq(&'de [Node<'a>]),
    Map(&'de [(Node<'a>, Node<'a>)]),
}

impl Shape<'_, '_> {
    fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Shape::Null => Unexpected::Unit,
            Shape::Bool(b) => Unexpected::Bool(*b),
            Shape::PosInt(u) => Unexpected::Unsigned(*u),
            Shape::NegInt(i) => Unexpected::Signed(*i),
            Shape::Float(f) => Unexpected::Float(*f),
            Shape::Str(s) => Unexpected::Str(s),
            Shape::Seq(_) => Unexpected::Seq,
            Shape::Map(_) => Unexpected::Map,
        }
    }

    #[cold]
    fn invalid_type(&self, exp: &dyn de::Expected) -> Error {
        Error::invalid_type(self.unexpected(), exp)
    }
}

/// Text the node holds is lent (as `&Value` lends its strings); text resolution had to build
/// (an unknown tag's rendering) is handed over.
fn visit_text<'de, V: Visitor<'de>>(s: Cow<'de, str>, visitor: V) -> Result<V::Value, Error> {
    match s {
        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
        Cow::Owned(s) => visitor.visit_string(s),
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.deserialize_number(visitor)
            }
        )*
    };
}

impl<'de, 'a> de::Deserializer<'de> for NodeDeserializer<'de, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Null => visitor.visit_unit(),
            Shape::Bool(b) => visitor.visit_bool(b),
            Shape::PosInt(u) => visitor.visit_u64(u),
            Shape::NegInt(i) => visitor.visit_i64(i),
            Shape::Float(f) => visitor.visit_f64(f),
            Shape::Str(s) => visit_text(s, visitor),
            Shape::Seq(items) => self.visit_seq(items, visitor),
            Shape::Map(entries) => self.visit_map(entries, visitor),
        }
    }

    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Bool(b) => visitor.visit_bool(b),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Str(s) => visit_text(s, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Str(s) => visit_text(s, visitor),
            Shape::Seq(items) => self.visit_seq(items, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // Most fields are options: telling null apart must not resolve the scalar twice.
        let null = match &self.node.kind {
            Kind::Scalar(s) if s.tag.is_none() => scalar::is_null(s),
            _ => matches!(self.shape()?, Shape::Null),
        };
        if null {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Null => visitor.visit_unit(),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Seq(items) => self.visit_seq(items, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Map(entries) => self.visit_map(entries, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.shape()? {
            Shape::Seq(items) => self.visit_seq(items, visitor),
            Shape::Map(entries) => self.visit_map(entries, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.shape()? {
            // An enum in JSON is a one-key map, or a string for a unit variant.
            Shape::Map([(k, v)]) => visitor.visit_enum(Variant {
                name: Cow::Borrowed(key_text(k)?),
                value: Some(self.below(v)),
            }),
            Shape::Map(_) => Err(Error::invalid_value(
                Unexpected::Map,
                &"map with a single key",
            )),
            Shape::Str(name) => visitor.visit_enum(Variant { name, value: None }),
            other => Err(other.invalid_type(&"string or map")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

fn key_text<'de>(k: &'de Node<'_>) -> Result<&'de str, Error> {
    k.as_str().ok_or_else(|| Error::custom(NON_STRING_KEY))
}

struct Items<'de, 'a> {
    items: std::slice::Iter<'de, Node<'a>>,
    de: NodeDeserializer<'de, 'a>,
}

impl<'de, 'a> SeqAccess<'de> for Items<'de, 'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            Some(item) => seed.deserialize(self.de.below(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A mapping's entries in the order asked for.
enum Walk<'de, 'a> {
    Written(std::slice::Iter<'de, (Node<'a>, Node<'a>)>),
    Keys {
        entries: &'de [(Node<'a>, Node<'a>)],
        order: std::vec::IntoIter<usize>,
    },
}

impl<'de, 'a> Walk<'de, 'a> {
    fn new(entries: &'de [(Node<'a>, Node<'a>)], order: Order) -> Self {
        match order {
            Order::Written => Walk::Written(entries.iter()),
            Order::Keys => {
                let mut by_key: Vec<usize> = (0..entries.len()).collect();
                by_key.sort_by_key(|&i| entries[i].0.as_str());
                Walk::Keys {
                    entries,
                    order: by_key.into_iter(),
                }
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Walk::Written(iter) => iter.len(),
            Walk::Keys { order, .. } => order.len(),
        }
    }
}

impl<'de, 'a> Iterator for Walk<'de, 'a> {
    type Item = &'de (Node<'a>, Node<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Walk::Written(iter) => iter.next(),
            Walk::Keys { entries, order } => order.next().and_then(|i| entries.get(i)),
        }
    }
}

struct Entries<'de, 'a> {
    walk: Walk<'de, 'a>,
    value: Option<&'de Node<'a>>,
    de: NodeDeserializer<'de, 'a>,
}

impl<'de, 'a> MapAccess<'de> for Entries<'de, 'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.walk.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(KeyDeserializer(key_text(k)?)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(self.de.below(v)),
            None => Err(Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.walk.len())
    }
}

/// A mapping key: always a string in JSON, though a type may read a number from its text
/// (the way `serde_json` reads `{"1": ...}` into a map keyed by integers).
struct KeyDeserializer<'de>(&'de str);

const NUMERIC_KEY: &str = "invalid value: expected key to be a number in quotes";

macro_rules! numeric_keys {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                if !matches!(self.0.as_bytes().first(), Some(b'0'..=b'9' | b'-')) {
                    return Err(Error::custom(NUMERIC_KEY));
                }
                let mut text = serde_json::Deserializer::from_str(self.0);
                let out = de::Deserializer::$method(&mut text, visitor)?;
                // The whole key must be the number: not even whitespace may follow.
                let trailing_space = self.0.ends_with([' ', '\t', '\n', '\r']);
                if trailing_space || text.end().is_err() {
                    return Err(Error::custom(NUMERIC_KEY));
                }
                Ok(out)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    numeric_keys! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(Error::invalid_type(Unexpected::Str(other), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A key is never null.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        IntoDeserializer::<'de, Error>::into_deserializer(self.0)
            .deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// An enum read from a string (a unit variant) or a one-key map (the key names the variant).
struct Variant<'de, 'a> {
    name: Cow<'de, str>,
    value: Option<NodeDeserializer<'de, 'a>>,
}

impl<'de, 'a> EnumAccess<'de> for Variant<'de, 'a> {
    type Error = Error;
    type Variant = Content<'de, 'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Error> {
        let name = IntoDeserializer::<'de, Error>::into_deserializer(self.name);
        Ok((seed.deserialize(name)?, Content(self.value)))
    }
}

/// The value of an enum's variant: none for a unit variant written as a string.
struct Content<'de, 'a>(Option<NodeDeserializer<'de, 'a>>);

impl<'de, 'a> VariantAccess<'de> for Content<'de, 'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            Some(de) => de::Deserialize::deserialize(de),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.0 {
            Some(de) => seed.deserialize(de),
            None => Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        let Some(de) = self.0 else {
            return Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            ));
        };
        match de.shape()? {
            Shape::Seq([]) => visitor.visit_unit(),
            Shape::Seq(items) => de.visit_seq(items, visitor),
            other => Err(other.invalid_type(&"tuple variant")),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let Some(de) = self.0 else {
            return Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            ));
        };
        match de.shape()? {
            Shape::Map(entries) => de.visit_map(entries, visitor),
            other => Err(other.invalid_type(&"struct variant")),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The reading through the span tree against the one it replaced (the node converted to
    //! a `serde_json::Value`, then read from that), kept here as the reference.

    use std::collections::BTreeMap;
    use std::fmt::Debug;
    use std::path::{Path as FsPath, PathBuf};

    use k8s_openapi::api::core::v1::{Pod, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde::de::DeserializeOwned;
    use serde_json::{Map, Number, Value as Json};

    use super::*;
    use crate::path::{Path, Seg};
    use crate::policy::view::typed;
    use crate::yaml::Documents;

    /// The conversion `view` used before this module, verbatim.
    fn to_json(node: &Node<'_>) -> Result<Json, Refusal> {
        Ok(match &node.kind {
            Kind::Scalar(s) => match resolve(s) {
                Resolved::Null => Json::Null,
                Resolved::Bool(b) => Json::Bool(b),
                Resolved::Int(i) => {
                    let n = i64::try_from(i)
                        .map(Number::from)
                        .or_else(|_| u64::try_from(i).map(Number::from))
                        .map_err(|_| Refusal {
                            at: node.start,
                            message: "integer out of range".into(),
                        })?;
                    Json::Number(n)
                }
                Resolved::Float(f) => Json::Number(Number::from_f64(f).ok_or_else(|| Refusal {
                    at: node.start,
                    message: "a NaN or infinite number is not valid here".into(),
                })?),
                Resolved::Str(s) => Json::String(s.into_owned()),
            },
            Kind::Alias(_) => {
                return Err(Refusal {
                    at: node.start,
                    message:
                        "YAML aliases are not supported inside a pod template; expand them first"
                            .into(),
                })
            }
            Kind::Seq(seq) => Json::Array(seq.items.iter().map(to_json).collect::<Result<_, _>>()?),
            Kind::Map(m) => {
                let mut out = Map::with_capacity(m.entries.len());
                for (k, v) in &m.entries {
                    let key = k.as_str().ok_or_else(|| Refusal {
                        at: k.start,
                        message: "a mapping key must be a string here".into(),
                    })?;
                    if key == "<<"
                        && k.as_scalar()
                            .is_some_and(|s| s.style == crate::yaml::ScalarStyle::Plain)
                    {
                        return Err(Refusal {
                            at: k.start,
                            message: "merge keys (<<) are not supported inside a pod template"
                                .into(),
                        });
                    }
                    if out.insert(key.to_owned(), to_json(v)?).is_some() {
                        return Err(Refusal {
                            at: k.start,
                            message: format!("duplicate key {key:?}"),
                        });
                    }
                }
                Json::Object(out)
            }
        })
    }

    /// `view::typed` as it was: through `to_json`.
    fn typed_via_json<T: DeserializeOwned>(node: &Node<'_>, at: &Path) -> Result<T, Refusal> {
        let json = to_json(node)?;
        if let Ok(t) = T::deserialize(&json) {
            return Ok(t);
        }
        serde_path_to_error::deserialize(&json).map_err(|e| {
            let mut segs = Vec::new();
            for seg in e.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Map { key } => {
                        segs.push(Seg::Key(key.clone().into()))
                    }
                    serde_path_to_error::Segment::Seq { index } => segs.push(Seg::Index(*index)),
                    _ => {}
                }
            }
            let mut blame = node;
            for seg in &segs {
                match blame.child(seg) {
                    Some(n) => blame = n,
                    None => break,
                }
            }
            let full = at.extend(&segs);
            Refusal {
                at: blame.start,
                message: format!("{full}: {}", e.inner()),
            }
        })
    }

    fn same<T: DeserializeOwned + PartialEq + Debug>(node: &Node<'_>, at: &Path, label: &str) {
        let old = typed_via_json::<T>(node, at);
        let new = typed::<T>(node, at);
        assert_eq!(old, new, "{label}: {}", std::any::type_name::<T>());
    }

    /// Compares both readings on every document of `text`: each workload's pod spec and
    /// template metadata, the whole object as a Pod, and the whole object as untyped JSON.
    /// Returns the number of documents compared.
    fn compare(text: &str, label: &str) -> usize {
        let mut n = 0;
        for doc in Documents::new(text) {
            let Ok(doc) = doc else { break };
            n += 1;
            let root = &doc.root;
            let top = Path::default();
            same::<Pod>(root, &top, label);
            same::<Json>(root, &top, label);
            for w in crate::policy::workload::find(root, &[]) {
                if let Some(spec) = root.at(w.spec.segs()) {
                    same::<PodSpec>(spec, &w.spec, label);
                }
                if let Some(meta) = root.at(w.meta.segs()) {
                    same::<ObjectMeta>(meta, &w.meta, label);
                }
            }
        }
        n
    }

    fn refusal(text: &str) -> Refusal {
        let doc = Documents::new(text).next().unwrap().unwrap();
        let w = &crate::policy::workload::find(&doc.root, &[])[0];
        crate::policy::view::pod_view(&doc.root, w).err().unwrap()
    }

    /// Where scalars go: fields of every kind of type the pod view holds.
    const SLOTS: &[&str] = &[
        "spec: @\n",
        "spec:\n  hostNetwork: @\n",
        "spec:\n  securityContext: @\n",
        "spec:\n  securityContext:\n    runAsUser: @\n",
        "spec:\n  securityContext:\n    sysctls:\n    - name: a\n      value: @\n",
        "spec:\n  terminationGracePeriodSeconds: @\n",
        "spec:\n  priority: @\n",
        "spec:\n  containers: @\n",
        "spec:\n  containers:\n  - @\n",
        "spec:\n  containers:\n  - name: @\n",
        "spec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: @\n",
        "spec:\n  containers:\n  - name: c\n    resources:\n      limits:\n        cpu: @\n",
        "spec:\n  containers:\n  - name: c\n    livenessProbe:\n      httpGet:\n        port: @\n",
        "spec:\n  containers:\n  - name: c\n    securityContext:\n      capabilities:\n        add: [@]\n",
        "spec:\n  containers:\n  - name: c\n    args: [a, @]\n",
        "spec:\n  volumes:\n  - name: v\n    secret:\n      defaultMode: @\n",
        "spec:\n  overhead:\n    cpu: @\n",
        "spec:\n  nodeSelector:\n    @: x\n",
        "spec:\n  nodeSelector:\n    a: @\n",
        "spec:\n  unknownField: @\n",
        "spec:\n  unknownField:\n    deeper: [@]\n",
        "metadata: @\n",
        "metadata:\n  labels:\n    a: @\n",
        "metadata:\n  annotations:\n    @: a\n",
        "metadata:\n  creationTimestamp: @\n",
        "metadata:\n  generation: @\n",
        "metadata:\n  ownerReferences:\n  - controller: @\n",
        "apiVersion: @\n",
        "@: x\n",
    ];

    /// What goes in them: YAML 1.1 scalars, numbers at every edge, tags, collections, and
    /// what JSON cannot hold.
    const VALUES: &[&str] = &[
        "x",
        "yes",
        "No",
        "on",
        "OFF",
        "true",
        "y",
        "0",
        "7",
        "0x1F",
        "0o17",
        "0777",
        "0b101",
        "1_000",
        "+12",
        "-12",
        "2147483647",
        "2147483648",
        "-2147483649",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "1.5",
        "-0.0",
        "1e3",
        "1.0",
        ".5",
        "1e400",
        ".nan",
        ".inf",
        "-.Inf",
        "\"1\"",
        "'yes'",
        "\"\"",
        "~",
        "null",
        "NULL",
        "",
        "500m",
        "1Gi",
        "0.5",
        "2024-01-01T00:00:00Z",
        "\"2024-01-01T00:00:00Z\"",
        "not-a-time",
        "[]",
        "{}",
        "[1, 2]",
        "[a, b]",
        "{a: 1}",
        "{a: b}",
        "!!str 12",
        "!!int \"12\"",
        "!!int \"-9223372036854775809\"",
        "!!float 1",
        "!!float .nan",
        "!!bool yes",
        "!!null x",
        "!custom v",
        "&a x",
        "{<<: {}}",
        "{\"<<\": x}",
        "{a: 1, a: 2}",
        "\"x at line 0 column 5\"",
        "[\"yes\", no]",
        "|\n    block\n",
        "{name: c, image: i}",
        "[{name: c}]",
    ];

    #[test]
    fn every_slot_and_value_reads_the_same() {
        let mut n = 0;
        for slot in SLOTS {
            for value in VALUES {
                let text = format!("apiVersion: v1\nkind: Pod\n{}", slot.replace('@', value));
                let text = text.replacen(
                    "apiVersion: v1\n",
                    "",
                    usize::from(slot.starts_with("apiVersion")),
                );
                n += compare(&text, &text);
            }
        }
        assert!(
            n > SLOTS.len() * VALUES.len() * 9 / 10,
            "{n} documents parsed"
        );
    }

    /// Documents that reach the refusals, and errors that could be met in either order.
    const TRICKY: &[&str] = &[
        // Two type errors in one struct: JSON objects are read in key order.
        "apiVersion: v1\nkind: Pod\nspec:\n  securityContext:\n    runAsUser: x\n    fsGroup: y\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: [a]\n    image: {}\n  - name: 1\n",
        // A type error before a duplicate key, an alias, a huge integer, a NaN: the refusal wins.
        "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: maybe\n  hostNetwork: true\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: maybe\n  unknown: &a 1\n  other: *a\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: maybe\n  unknown: 99999999999999999999\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: maybe\n  unknown: -9223372036854775809\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: maybe\n  unknown: [.nan]\n",
        // The refusal met first in written order, depth first, a repeated key after its value.
        "apiVersion: v1\nkind: Pod\nspec:\n  a: &x 1\n  a: [*x]\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  a: 1\n  b: {c: 1, c: 2}\n  a: 2\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  b: &x 1\n  *x : 1\n  a: *x\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  <<: {a: 1}\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  \"<<\": {a: 1}\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  b: &a 1\n  *a : v\n",
        // Mappings past the scan limit, repeating late, early, twice.
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, k11: 11, k12: 12, k13: 13, k14: 14, k15: 15, k16: 16, k17: 17, k3: 0}\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {k1: 1, k1: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, k11: 11, k12: 12, k13: 13, k14: 14, k15: 15, k16: 16, k17: 17, k3: 0}\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, k11: 11, k12: 12, k13: 13, k14: 14, k15: 15, k16: 16, k17: 17, k18: 18}\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {k1: &z 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, k11: 11, k12: 12, k13: 13, k14: 14, k15: 15, k16: 16, *z : 17, k1: 0}\n",
        // Typed readings deep in templates.
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    metadata:\n      labels: {app: web, tier: 1}\n    spec:\n      containers:\n      - name: web\n        ports: [{containerPort: \"80\"}]\n",
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: c\n            resources: {limits: {cpu: 1, memory: 1.5}, requests: {cpu: 500m}}\n            livenessProbe: {tcpSocket: {port: http}, periodSeconds: 0x10}\n",
        "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  spec: {containers: [{name: a}]}\n- kind: Pod\n  spec: {containers: [{name: b, securityContext: {privileged: on}}]}\n",
        "{\"kind\": \"Pod\", \"spec\": {\"containers\": [{\"name\": \"c\", \"ports\": [{\"containerPort\": 80.0}]}]}}\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    env: [{name: A, value: 1}]\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n  - name: d\n    resources:\n      limits:\n        cpu: [1]\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  deletionTimestamp: 2024-13-01T00:00:00Z\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    1: one\n    true: yes\n    ~: null\n",
    ];

    #[test]
    fn tricky_documents_read_the_same() {
        for text in TRICKY {
            assert!(compare(text, text) > 0, "{text}");
        }
    }

    #[test]
    fn the_first_error_is_the_first_in_key_order() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  securityContext:\n    runAsUser: x\n    fsGroup: y\n";
        let err = refusal(text);
        assert!(
            err.message
                .starts_with("spec.securityContext.fsGroup: invalid type"),
            "{}",
            err.message
        );
        assert_eq!(&text[err.at..err.at + 1], "y");
    }

    #[test]
    fn a_refusal_anywhere_wins_over_a_type_error() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: maybe\n  unknown: [1, .nan]\n";
        let err = refusal(text);
        assert_eq!(err.message, "a NaN or infinite number is not valid here");
        assert_eq!(&text[err.at..err.at + 4], ".nan");
    }

    #[test]
    fn numbers_visit_as_json_numbers() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    resources: {limits: {cpu: 1, memory: 0x10}}\n    livenessProbe: {httpGet: {port: 8080}}\n";
        let doc = Documents::new(text).next().unwrap().unwrap();
        let w = &crate::policy::workload::find(&doc.root, &[])[0];
        let v = crate::policy::view::pod_view(&doc.root, w)
            .unwrap()
            .unwrap();
        let c = &v.spec.containers[0];
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["cpu"].0, "1");
        assert_eq!(limits["memory"].0, "16");
    }

    /// Shapes no Kubernetes type has, read the way `serde_json` reads them all the same.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    enum Variants {
        Unit,
        Newtype(i32),
        Tuple(i32, String),
        Struct { x: i32 },
    }

    fn same_at_root<T: DeserializeOwned + PartialEq + Debug>(texts: &[&str]) {
        for text in texts {
            let doc = Documents::new(text).next().unwrap().unwrap();
            same::<T>(&doc.root, &Path::default(), text);
        }
    }

    #[test]
    fn number_keys_and_enums_read_the_same() {
        let keys = [
            "{1: a, -2: b}",
            "{x: a}",
            "{'1 ': a}",
            "{' 1': a}",
            "{'3000000000': a}",
            "{'-': a}",
            "{'01': a}",
            "{'1.5': a}",
            "{'1e2': a}",
            "{true: a}",
            "{'': a}",
        ];
        same_at_root::<BTreeMap<i32, String>>(&keys);
        same_at_root::<BTreeMap<u8, String>>(&keys);
        same_at_root::<BTreeMap<i128, String>>(&keys);
        same_at_root::<BTreeMap<bool, String>>(&keys);
        same_at_root::<BTreeMap<Option<String>, String>>(&keys);
        same_at_root::<Vec<(f64, f32)>>(&["[[1, 2.5]]", "[[1e300, 1e300]]", "[[-1, 0x10]]"]);
        same_at_root::<(i32, String)>(&["[1, a]", "[1, a, b]", "[1]", "{a: 1}"]);
        same_at_root::<((), char, Vec<u8>)>(&["[~, x, [1, 2]]", "[1, xy, abc]", "[~, '', y]"]);
        same_at_root::<Variants>(&[
            "Unit",
            "Newtype",
            "Other",
            "1",
            "~",
            "[Unit]",
            "{}",
            "{Unit: ~}",
            "{Unit: 1}",
            "{Newtype: 5}",
            "{Newtype: x}",
            "{Tuple: [1, a]}",
            "{Tuple: []}",
            "{Tuple: 1}",
            "{Tuple: [1, a, b]}",
            "{Struct: {x: 1}}",
            "{Struct: [1]}",
            "{Struct: 1}",
            "{Struct: {x: 1, y: 2}}",
            "{Unit: ~, Newtype: 1}",
            "{Other: 1}",
        ]);
        same_at_root::<BTreeMap<String, Variants>>(&["{a: Tuple, b: {Struct: {}}}"]);
    }

    fn yaml_files(dir: &FsPath, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(path);
            }
        }
    }

    /// Every fixture of the project and of the shared conformance set and corpus.
    #[test]
    fn every_fixture_reads_the_same() {
        let root = FsPath::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        yaml_files(&root.join("fixtures"), &mut files);
        yaml_files(&root.join("../shared/conformance"), &mut files);
        yaml_files(&root.join("../shared/corpus"), &mut files);
        let mut docs = 0;
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            docs += compare(&text, &file.display().to_string());
        }
        assert!(docs > 0);
        eprintln!("{} files, {docs} documents compared", files.len());
    }
}
