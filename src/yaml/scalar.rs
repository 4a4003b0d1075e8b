//! Scalars: what a plain scalar means to Kubernetes, and where a scalar's text really ends.
//!
//! Kubernetes reads manifests with go-yaml v2 rules (YAML 1.1 booleans such as `yes`/`on`,
//! `0x` and leading-zero octal integers), so resolution follows those rules, not YAML 1.2.
//! The parser's spans of quoted and block scalars overrun (a quoted scalar swallows a trailing
//! comment, a block scalar ends at the next token), so their ends are measured here.

use std::borrow::Cow;

use super::{Scalar, ScalarStyle};
use crate::yaml::source::{line_end, next_line};

/// The type a scalar resolves to.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved<'s> {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(Cow<'s, str>),
}

/// Plain-scalar spellings of null.
pub fn is_null(s: &Scalar<'_>) -> bool {
    s.style == ScalarStyle::Plain && matches!(s.value.as_ref(), "" | "~" | "null" | "Null" | "NULL")
}

/// Resolve a scalar as Kubernetes' YAML reader does.
pub fn resolve<'s>(s: &'s Scalar<'_>) -> Resolved<'s> {
    let v = s.value.as_ref();
    if let Some(tag) = s.tag.as_deref() {
        return match tag {
            "str" | "binary" => Resolved::Str(Cow::Borrowed(v)),
            "null" => Resolved::Null,
            "bool" => resolve_plain(v),
            "int" | "float" => match resolve_plain(v) {
                r @ (Resolved::Int(_) | Resolved::Float(_)) => r,
                _ => Resolved::Str(Cow::Borrowed(v)),
            },
            other => Resolved::Str(Cow::Owned(format!("!{other} {v}"))),
        };
    }
    if s.style != ScalarStyle::Plain {
        return Resolved::Str(Cow::Borrowed(v));
    }
    resolve_plain(v)
}

fn resolve_plain(v: &str) -> Resolved<'_> {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = v.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(i) = parse_int(v) {
            return Resolved::Int(i);
        }
        // go-yaml drops `_` before both number syntaxes (`685_230.15` is a float). Most
        // digit-led strings are dates and quantities without one: no copy for them.
        let cleaned: Cow<'_, str> = if v.contains('_') {
            Cow::Owned(v.replace('_', ""))
        } else {
            Cow::Borrowed(v)
        };
        if is_float_syntax(&cleaned) {
            if let Ok(f) = cleaned.parse::<f64>() {
                return Resolved::Float(f);
            }
        }
    }
    Resolved::Str(Cow::Borrowed(v))
}

/// go-yaml v2 integers: optional sign, `_` separators, `0x`, `0o`, `0b` and leading-`0` octal.
fn parse_int(v: &str) -> Option<i128> {
    let cleaned: Cow<'_, str> = if v.contains('_') {
        Cow::Owned(v.replace('_', ""))
    } else {
        Cow::Borrowed(v)
    };
    let (neg, digits) = match cleaned.as_bytes().first()? {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, &cleaned[..]),
    };
    if digits.is_empty() {
        return None;
    }
    // Go's base prefixes take either case.
    let prefix = |p: &str| {
        digits
            .get(..2)
            .filter(|d| d.eq_ignore_ascii_case(p))
            .map(|_| &digits[2..])
    };
    let (radix, body) = if let Some(h) = prefix("0x") {
        (16, h)
    } else if let Some(o) = prefix("0o") {
        (8, o)
    } else if let Some(b) = prefix("0b") {
        (2, b)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from_str_radix(body, radix).ok()?;
    // Outside 64 bits go-yaml keeps the text as a string.
    if n > u64::MAX as i128 || neg && n > -(i64::MIN as i128) {
        return None;
    }
    Some(if neg { -n } else { n })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float_syntax(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    let int_digits = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac = digits(&mut i);
        if int_digits == 0 && frac == 0 {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Written plain, `s` reads back as the same string (go-yaml v2's resolution): only
/// characters that mean nothing to YAML, and no spelling of a bool, number or null.
pub(crate) fn plain_safe(s: &str) -> bool {
    let scalar = Scalar {
        value: s.into(),
        style: ScalarStyle::Plain,
        tag: None,
    };
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'~'))
        && !s.starts_with(['-', '~'])
        && matches!(resolve(&scalar), Resolved::Str(_))
}

/// `s` as a double-quoted YAML scalar. Control characters, C1 controls (NEL would read as a
/// line break) and a BOM are escaped; everything else is written as it is.
pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string as a YAML scalar of its own: plain where that reads back as the same string,
/// else double-quoted. The one rule for every piece of YAML pss-fix writes from data
/// (values overlays, probe values, patches).
pub(crate) fn string(s: &str) -> String {
    if plain_safe(s) {
        s.to_owned()
    } else {
        double_quoted(s)
    }
}

/// End of a quoted scalar that starts (at its quote) at `start`.
pub fn quoted_end(text: &str, start: usize) -> usize {
    let b = text.as_bytes();
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if quote == b'"' => i += 2,
            c if c == quote => {
                if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    text.len()
}

/// End of a block scalar (`|`, `>`, with chomping and indentation indicators) whose header is
/// the first `|` or `>` at or after `from`.
pub fn block_end(text: &str, from: usize) -> usize {
    let b = text.as_bytes();
    let Some(header) = b[from..]
        .iter()
        .position(|&c| c == b'|' || c == b'>')
        .map(|i| from + i)
    else {
        return from;
    };
    let mut i = header + 1;
    let mut keep = false;
    let mut explicit = None;
    while i < b.len() {
        match b[i] {
            b'+' => keep = true,
            b'-' => {}
            c @ b'1'..=b'9' => explicit = Some(usize::from(c - b'0')),
            _ => break,
        }
        i += 1;
    }
    let header_end = i;
    let header_line = crate::yaml::source::line_start(text, header);
    let parent_indent = indent_of(b, header_line);
    let mut block_indent = explicit.map(|n| parent_indent + n);
    let mut last_content = None;
    let mut last_blank = None;
    let mut pos = next_line(text, header);
    while pos < b.len() {
        let end = line_end(text, pos);
        let indent = indent_of(b, pos);
        let blank = pos + indent == end;
        if blank {
            last_blank = Some(end);
        } else {
            let min = *block_indent.get_or_insert(indent);
            let marker =
                indent == 0 && (text[pos..].starts_with("---") || text[pos..].starts_with("..."));
            if indent < min || indent <= parent_indent || marker {
                break;
            }
            last_content = Some(end);
            last_blank = None;
        }
        pos = next_line(text, pos);
    }
    match (last_content, keep, last_blank) {
        (Some(_), true, Some(blank)) => blank,
        (Some(content), _, _) => content,
        (None, true, Some(blank)) => blank,
        (None, _, _) => header_end,
    }
}

fn indent_of(b: &[u8], line: usize) -> usize {
    b[line..].iter().take_while(|&&c| c == b' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(v: &str) -> Scalar<'_> {
        Scalar {
            value: Cow::Borrowed(v),
            style: ScalarStyle::Plain,
            tag: None,
        }
    }

    #[test]
    fn yaml_1_1_resolution() {
        assert_eq!(resolve(&plain("yes")), Resolved::Bool(true));
        assert_eq!(resolve(&plain("Off")), Resolved::Bool(false));
        assert_eq!(resolve(&plain("~")), Resolved::Null);
        assert_eq!(resolve(&plain("0x1F")), Resolved::Int(31));
        assert_eq!(resolve(&plain("010")), Resolved::Int(8));
        assert_eq!(resolve(&plain("1_000")), Resolved::Int(1000));
        assert_eq!(resolve(&plain("1.5e3")), Resolved::Float(1500.0));
        assert_eq!(
            resolve(&plain("1.2.3")),
            Resolved::Str(Cow::Borrowed("1.2.3"))
        );
        assert_eq!(
            resolve(&plain("RuntimeDefault")),
            Resolved::Str(Cow::Borrowed("RuntimeDefault"))
        );
        let quoted = Scalar {
            value: Cow::Borrowed("true"),
            style: ScalarStyle::DoubleQuoted,
            tag: None,
        };
        assert_eq!(resolve(&quoted), Resolved::Str(Cow::Borrowed("true")));
    }

    #[test]
    fn quoted_ends() {
        assert_eq!(quoted_end(r#""a\"b" # c"#, 0), 6);
        assert_eq!(quoted_end("'it''s' #c", 0), 7);
    }

    #[test]
    fn block_scalar_ends() {
        let t = "s: |\n  x\n\n  y\n\nn: 1\n";
        assert_eq!(&t[..block_end(t, 2)], "s: |\n  x\n\n  y");
        let t = "s: |+\n  x\n\n# c\nn: 1\n";
        assert_eq!(&t[..block_end(t, 2)], "s: |+\n  x\n");
        let t = "a:\n  s: >-\n    x\n  # shallow\n";
        assert_eq!(&t[..block_end(t, 5)], "a:\n  s: >-\n    x");
        let t = "s: |\nn: 1\n";
        assert_eq!(&t[..block_end(t, 2)], "s: |");
    }
}
