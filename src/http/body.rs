//! Request bodies: JSON objects read field by field into validated values.
//!
//! Every accessor records what is wrong with its field instead of stopping, so one 400
//! answer names every invalid field at once; [`Fields::finish`] also refuses fields nobody
//! asked for (unknown fields are errors, not silently ignored).
//!
//! ```text
//! let mut body = Fields::parse(content_type, &bytes)?;
//! let name = body.required("name", string(Name::parse));
//! let slug = body.optional("slug", string(Slug::parse));
//! let (name, slug) = body.finish((name, slug))?;
//! ```

use crate::domain::{Code, FieldError, Problem};
use serde_json::{Map, Value};

/// A JSON object being read.
pub struct Fields {
    map: Map<String, Value>,
    asked: Vec<&'static str>,
    errors: Vec<FieldError>,
}

/// What an accessor produced: `None` when the field was invalid (the error is recorded).
pub type Slot<T> = Option<T>;

impl Fields {
    /// Checks the content type and parses the body as a JSON object.
    pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Fields, Problem> {
        let media_type = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        if media_type.as_deref() != Some("application/json") {
            return Err(Problem::new(
                Code::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            Problem::new(
                Code::InvalidRequest,
                format!(
                    "The body is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        match value {
            Value::Object(map) => Ok(Fields {
                map,
                asked: Vec::new(),
                errors: Vec::new(),
            }),
            _ => Err(Problem::new(
                Code::InvalidRequest,
                "The body must be a JSON object.",
            )),
        }
    }

    /// A body that may be absent: `{}` when there is none.
    pub fn parse_or_empty(content_type: Option<&str>, bytes: &[u8]) -> Result<Fields, Problem> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(Fields::from_map(Map::new()))
        } else {
            Fields::parse(content_type, bytes)
        }
    }

    /// Reads an already-parsed object (an element of an array field, say).
    pub fn from_map(map: Map<String, Value>) -> Fields {
        Fields {
            map,
            asked: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn take(&mut self, name: &'static str) -> Option<Value> {
        self.asked.push(name);
        self.map.get(name).cloned()
    }

    fn fail(&mut self, name: &str, message: String) {
        self.errors.push(FieldError::new(name, message));
    }

    /// A field that must be present and not null.
    pub fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Slot<T> {
        match self.take(name) {
            None | Some(Value::Null) => {
                self.fail(name, "is required".into());
                None
            }
            Some(value) => self.apply(name, &value, parse),
        }
    }

    /// A field that may be absent. An explicit null is refused: the contract types these
    /// fields without null, and only [`patch`](Self::patch) fields give null a meaning.
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Slot<Option<T>> {
        match self.take(name) {
            None => Some(None),
            Some(Value::Null) => {
                self.fail(name, "must not be null; leave the field out instead".into());
                None
            }
            Some(value) => self.apply(name, &value, parse).map(Some),
        }
    }

    /// A field of a partial update: absent leaves it alone (`None`), null clears it
    /// (`Some(None)`), a value sets it.
    pub fn patch<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Slot<Option<Option<T>>> {
        match self.take(name) {
            None => Some(None),
            Some(Value::Null) => Some(Some(None)),
            Some(value) => self.apply(name, &value, parse).map(|v| Some(Some(v))),
        }
    }

    fn apply<T>(
        &mut self,
        name: &'static str,
        value: &Value,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Slot<T> {
        match parse(value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.fail(name, message);
                None
            }
        }
    }

    /// Records an error found while judging fields together (or nested ones).
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// The errors so far, with unknown fields added (for nested objects whose errors join
    /// their parent's).
    pub fn into_errors(mut self) -> Vec<FieldError> {
        let mut unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !self.asked.contains(&k.as_str()))
            .collect();
        unknown.sort();
        let unknown: Vec<FieldError> = unknown
            .into_iter()
            .map(|k| FieldError::new(k.clone(), "is not a known field"))
            .collect();
        self.errors.extend(unknown);
        self.errors
    }

    /// Ends reading: `Err` naming every invalid or unknown field, or the values (all valid,
    /// so no `Option` is left to unwrap).
    pub fn finish<S: Slots>(self, slots: S) -> Result<S::Values, Problem> {
        let errors = self.into_errors();
        match slots.all() {
            Some(values) if errors.is_empty() => Ok(values),
            _ => Err(Problem::invalid(errors)),
        }
    }
}

/// A tuple of [`Slot`]s, all filled or not.
pub trait Slots {
    type Values;
    fn all(self) -> Option<Self::Values>;
}

macro_rules! slots {
    ($($t:ident),+) => {
        impl<$($t),+> Slots for ($(Slot<$t>,)+) {
            type Values = ($($t,)+);
            #[allow(non_snake_case)]
            fn all(self) -> Option<Self::Values> {
                let ($($t,)+) = self;
                Some(($($t?,)+))
            }
        }
    };
}

slots!(A);
slots!(A, B);
slots!(A, B, C);
slots!(A, B, C, D);
slots!(A, B, C, D, E);

impl Slots for () {
    type Values = ();
    fn all(self) -> Option<()> {
        Some(())
    }
}

/// Adapts a string parser to a JSON value: non-strings are refused.
pub fn string<T>(
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> impl FnOnce(&Value) -> Result<T, String> {
    move |value| match value {
        Value::String(s) => parse(s),
        _ => Err("must be a string".into()),
    }
}

/// A string taken as it is (length-limited, no control characters).
pub fn text(max_chars: usize) -> impl FnOnce(&Value) -> Result<String, String> {
    string(move |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            Err("must not be empty".into())
        } else if s.chars().count() > max_chars {
            Err(format!("must be at most {max_chars} characters"))
        } else if s.chars().any(char::is_control) {
            Err("must not contain control characters".into())
        } else {
            Ok(s.to_owned())
        }
    })
}

/// One of a fixed set of names.
pub fn one_of<T: Copy>(
    parse: impl FnOnce(&str) -> Option<T>,
    names: &'static [&'static str],
) -> impl FnOnce(&Value) -> Result<T, String> {
    string(move |s: &str| parse(s).ok_or_else(|| format!("must be one of {}", names.join(", "))))
}

/// A whole number in `range`; `5.0` is one, as JSON Schema's `integer` has it.
pub fn integer(range: std::ops::RangeInclusive<i64>) -> impl FnOnce(&Value) -> Result<i64, String> {
    let whole = |value: &Value| {
        value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0)
                .map(|f| f as i64)
        })
    };
    move |value| match whole(value) {
        Some(n) if range.contains(&n) => Ok(n),
        Some(_) => Err(format!("must be from {} to {}", range.start(), range.end())),
        None => Err("must be a whole number".into()),
    }
}

/// A JSON array, handed over whole for the caller to judge element by element.
pub fn array(max_len: usize) -> impl FnOnce(&Value) -> Result<Vec<Value>, String> {
    move |value| match value {
        Value::Array(items) if items.len() <= max_len => Ok(items.clone()),
        Value::Array(_) => Err(format!("must have at most {max_len} items")),
        _ => Err("must be an array".into()),
    }
}

/// An array of at most `max_len` strings (slugs, ids), judged by the caller against the
/// store.
pub fn strings(max_len: usize) -> impl FnOnce(&Value) -> Result<Vec<String>, String> {
    move |value| {
        array(max_len)(value)?
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err("must be an array of strings".to_string()),
            })
            .collect()
    }
}

/// An array of names from a fixed set (`allowed`), each turned into a value by `parse`, at
/// least `min` of them; a name given twice counts once and the order given is kept.
pub fn names<'a, T: PartialEq>(
    parse: impl Fn(&str) -> Option<T> + 'a,
    allowed: &'a [&'a str],
    min: usize,
) -> impl FnOnce(&Value) -> Result<Vec<T>, String> + 'a {
    move |value| {
        let Value::Array(items) = value else {
            return Err("must be an array of names".into());
        };
        let mut out = Vec::new();
        for item in items {
            let name = item.as_str().ok_or("must be an array of names")?;
            let parsed = parse(name)
                .ok_or_else(|| format!("`{name}` is not one of {}", allowed.join(", ")))?;
            if !out.contains(&parsed) {
                out.push(parsed);
            }
        }
        if out.len() < min {
            return Err(format!(
                "must name at least {min} of {}",
                allowed.join(", ")
            ));
        }
        Ok(out)
    }
}

/// A JSON boolean.
pub fn boolean(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Fields {
        Fields::parse(Some("application/json; charset=utf-8"), body.as_bytes()).unwrap()
    }

    #[test]
    fn content_type_and_shape() {
        let e = Fields::parse(Some("text/plain"), b"{}").err().unwrap();
        assert_eq!(e.code, Code::UnsupportedMediaType);
        assert_eq!(
            Fields::parse(None, b"{}").err().unwrap().code,
            Code::UnsupportedMediaType
        );
        assert_eq!(
            Fields::parse(Some("application/json"), b"{nope")
                .err()
                .unwrap()
                .code,
            Code::InvalidRequest
        );
        assert_eq!(
            Fields::parse(Some("application/json"), b"[1]")
                .err()
                .unwrap()
                .code,
            Code::InvalidRequest
        );
        assert!(Fields::parse(Some("Application/JSON"), b"{}").is_ok());
        assert!(Fields::parse_or_empty(None, b"  ").is_ok());
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let mut b = fields(r#"{"name": 5, "role": "boss", "extra": true, "other": null}"#);
        let name = b.required("name", text(10));
        let role = b.required("role", one_of(|s| (s == "admin").then_some(1), &["admin"]));
        let missing = b.required("email", text(10));
        let err = b.finish((name, role, missing)).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "role", "email", "extra", "other"]);
        assert_eq!(err.errors[0].message, "must be a string");
        assert_eq!(err.errors[1].message, "must be one of admin");
        assert_eq!(err.errors[2].message, "is required");
        assert_eq!(err.errors[3].message, "is not a known field");
    }

    #[test]
    fn optional_and_patch_fields() {
        let mut b = fields(r#"{"a": null, "c": "x"}"#);
        let oa = b.optional("b", text(5));
        let oc = b.optional("c", text(5));
        let pa = b.patch("a", text(5));
        let pb = b.patch("b", text(5));
        let pc = b.patch("c", text(5));
        let (oa, oc, pa, pb, pc) = b.finish((oa, oc, pa, pb, pc)).unwrap();
        assert_eq!(oa, None);
        assert_eq!(oc, Some("x".to_string()));
        assert_eq!(pa, Some(None));
        assert_eq!(pb, None);
        assert_eq!(pc, Some(Some("x".to_string())));
    }

    #[test]
    fn optional_fields_refuse_null() {
        let mut b = fields(r#"{"slug": null, "plan": null, "name": "x"}"#);
        let slug = b.optional("slug", text(5));
        let plan = b.optional("plan", text(5));
        let name = b.optional("name", text(5));
        assert_eq!(name, Some(Some("x".to_string())));
        let err = b.finish((slug, plan, name)).unwrap_err();
        assert_eq!(err.code, Code::InvalidRequest);
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["slug", "plan"]);
        assert!(err.errors[0].message.contains("null"));
    }

    #[test]
    fn numbers_and_arrays() {
        let mut b = fields(r#"{"n": 1.5, "m": 200, "k": 7, "l": [1, 2, 3]}"#);
        let n = b.required("n", integer(1..=100));
        let m = b.required("m", integer(1..=100));
        let k = b.required("k", integer(1..=100));
        let l = b.required("l", array(2));
        let err = b.finish((n, m, k, l)).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["n", "m", "l"]);
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let mut b = fields(r#"{"a": 5.0, "b": 5.5, "c": 1e2, "d": -0.0}"#);
        let a = b.required("a", integer(0..=100));
        let c = b.required("c", integer(0..=100));
        let d = b.required("d", integer(0..=100));
        assert_eq!(
            b.required("b", integer(0..=100)),
            None,
            "5.5 is not a whole number"
        );
        assert_eq!((a, c, d), (Some(5), Some(100), Some(0)));
    }

    #[test]
    fn arrays_of_names() {
        let colour = |s: &str| ["red", "blue"].contains(&s).then(|| s.to_string());
        let allowed = ["red", "blue"];
        let mut b = fields(
            r#"{"a": ["blue", "red", "blue"], "b": [], "c": ["green"], "d": [1], "e": "red", "f": []}"#,
        );
        let a = b.required("a", names(colour, &allowed, 1));
        let f = b.required("f", names(colour, &allowed, 0));
        assert_eq!(a, Some(vec!["blue".to_string(), "red".to_string()]));
        assert_eq!(f, Some(vec![]));
        let bad: Vec<_> = ["b", "c", "d", "e"]
            .into_iter()
            .map(|field| b.required(field, names(colour, &allowed, 1)))
            .collect();
        assert!(bad.iter().all(Option::is_none));
        let err = b.finish((a, f)).unwrap_err();
        let messages: Vec<_> = err
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                ("b", "must name at least 1 of red, blue"),
                ("c", "`green` is not one of red, blue"),
                ("d", "must be an array of names"),
                ("e", "must be an array of names"),
            ]
        );
    }
}
