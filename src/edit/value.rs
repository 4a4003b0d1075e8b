//! The small values pss-fix inserts (`true`, `RuntimeDefault`, `{drop: [ALL]}`), as data.
//! They are rendered in the style of the place they go ([`crate::edit::render`]) and compared with
//! what the output re-parses to ([`crate::yaml::canon`]).

use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(Cow<'static, str>),
    Map(Vec<(Cow<'static, str>, Value)>),
    Seq(Vec<Value>),
}

impl Value {
    pub const fn str(s: &'static str) -> Value {
        Value::Str(Cow::Borrowed(s))
    }

    /// A one-key mapping `{key: value}`.
    pub fn entry(key: &'static str, value: Value) -> Value {
        Value::Map(vec![(Cow::Borrowed(key), value)])
    }
}
