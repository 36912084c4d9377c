//! Metadata: the product's own JSON objects on organizations, memberships and invitations.
//!
//! Changes arrive as JSON Merge Patch (RFC 7396): a key set to `null` goes, a nested object
//! merges into what is there, anything else replaces. The limits hold for the result: at
//! most [`MAX_BYTES`] serialised and [`MAX_KEYS`] top-level keys.

use serde_json::{Map, Value};

/// A metadata object.
pub type Object = Map<String, Value>;

/// The most bytes an object may take serialised.
pub const MAX_BYTES: usize = 8192;
/// The most top-level keys an object may have.
pub const MAX_KEYS: usize = 50;

/// Reads a patch (or an invitation's metadata): it must be a JSON object.
pub fn patch(value: &Value) -> Result<Object, String> {
    match value {
        Value::Object(map) => Ok(map.clone()),
        _ => Err("must be a JSON object".into()),
    }
}

/// Applies `patch` to `target` (RFC 7396).
pub fn merge(target: &Object, patch: &Object) -> Object {
    let mut result = target.clone();
    for (key, value) in patch {
        match value {
            Value::Null => {
                result.remove(key);
            }
            Value::Object(inner) => {
                let base = match result.get(key) {
                    Some(Value::Object(existing)) => existing.clone(),
                    _ => Object::new(),
                };
                result.insert(key.clone(), Value::Object(merge(&base, inner)));
            }
            other => {
                result.insert(key.clone(), other.clone());
            }
        }
    }
    result
}

/// Refuses an object past the limits.
pub fn check(object: &Object) -> Result<(), String> {
    if object.len() > MAX_KEYS {
        return Err(format!("must have at most {MAX_KEYS} top-level keys"));
    }
    if serialise(object).len() > MAX_BYTES {
        return Err(format!("must be at most {MAX_BYTES} bytes serialised"));
    }
    Ok(())
}

/// Applies `patch` to `target` and checks the result against the limits.
pub fn apply(target: &Object, patch: &Object) -> Result<Object, String> {
    let result = merge(target, patch);
    check(&result)?;
    Ok(result)
}

/// The top-level keys whose values differ from `before` to `after`: the new value, or null
/// for a key that went.
pub fn changes(before: &Object, after: &Object) -> Object {
    let mut changed = Object::new();
    for (key, value) in after {
        if before.get(key) != Some(value) {
            changed.insert(key.clone(), value.clone());
        }
    }
    for key in before.keys() {
        if !after.contains_key(key) {
            changed.insert(key.clone(), Value::Null);
        }
    }
    changed
}

/// A metadata object that changed from the one read.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The whole new object.
    pub to: Object,
    /// The top-level keys that changed, with their new values (null for those gone).
    pub changed: Object,
}

impl Change {
    /// The change from `from` to `to`; `None` when they are the same.
    pub fn between(from: &Object, to: Object) -> Option<Change> {
        let changed = changes(from, &to);
        (!changed.is_empty()).then_some(Change { to, changed })
    }

    /// The new object as stored.
    pub fn stored(&self) -> String {
        serialise(&self.to)
    }
}

/// The object as stored and measured.
pub fn serialise(object: &Object) -> String {
    Value::Object(object.clone()).to_string()
}

/// An object as stored; `None` when the text is not a JSON object.
pub fn decode(stored: &str) -> Option<Object> {
    match serde_json::from_str(stored) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn obj(value: Value) -> Object {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn merges_as_rfc_7396_says() {
        // The example of RFC 7396, section 3.
        let target = obj(json!({
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "This will be unchanged"
        }));
        let patch = obj(json!({
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": null},
            "tags": ["example"]
        }));
        assert_eq!(
            Value::Object(merge(&target, &patch)),
            json!({
                "title": "Hello!",
                "author": {"givenName": "John"},
                "tags": ["example"],
                "content": "This will be unchanged",
                "phoneNumber": "+01-123-456-7890"
            })
        );
    }

    #[test]
    fn nulls_inside_new_objects_are_dropped_and_inside_arrays_kept() {
        let merged = merge(&Object::new(), &obj(json!({"a": {"b": null, "c": [null]}})));
        assert_eq!(Value::Object(merged), json!({"a": {"c": [null]}}));
    }

    #[test]
    fn only_objects_are_patches() {
        assert!(patch(&json!({"a": 1})).is_ok());
        for value in [json!(null), json!([]), json!("a"), json!(1)] {
            assert!(patch(&value).is_err());
        }
    }

    #[test]
    fn limits_are_keys_and_bytes() {
        let mut fifty = Object::new();
        for i in 0..50 {
            fifty.insert(format!("k{i}"), json!(i));
        }
        assert!(check(&fifty).is_ok());
        let mut more = fifty.clone();
        more.insert("k50".into(), json!(50));
        assert!(check(&more).is_err());
        // {"a":"…"} is 8 bytes around the string.
        let exact = obj(json!({"a": "x".repeat(MAX_BYTES - 8)}));
        assert_eq!(serialise(&exact).len(), MAX_BYTES);
        assert!(check(&exact).is_ok());
        let over = obj(json!({"a": "x".repeat(MAX_BYTES - 7)}));
        assert!(check(&over).is_err());
        assert!(apply(&exact, &obj(json!({"b": 1}))).is_err());
        assert!(apply(&over, &obj(json!({"a": null}))).is_ok());
    }

    #[test]
    fn changes_name_set_and_removed_keys() {
        let before = obj(json!({"a": 1, "b": 2, "c": {"d": 1}}));
        let after = merge(
            &before,
            &obj(json!({"a": null, "b": 2, "c": {"e": 2}, "f": 3})),
        );
        assert_eq!(
            Value::Object(changes(&before, &after)),
            json!({"a": null, "c": {"d": 1, "e": 2}, "f": 3})
        );
        assert!(changes(&after, &after).is_empty());
        assert_eq!(Change::between(&after, after.clone()), None);
        let change = Change::between(&before, after.clone());
        assert_eq!(change.map(|c| c.to), Some(after));
    }

    #[test]
    fn stored_text_round_trips() {
        let object = obj(json!({"a": [1, {"b": "c"}]}));
        assert_eq!(decode(&serialise(&object)), Some(object));
        assert_eq!(decode("[]"), None);
        assert_eq!(decode("{"), None);
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[a-d]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn any_object() -> impl Strategy<Value = Object> {
        prop::collection::btree_map("[a-f]", any_value(), 0..6)
            .prop_map(|m| m.into_iter().collect())
    }

    /// Whether `value` holds a null in an object anywhere (arrays excepted).
    fn has_object_null(value: &Value) -> bool {
        match value {
            Value::Object(map) => map.values().any(|v| v.is_null() || has_object_null(v)),
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn applying_a_patch_twice_changes_nothing_more(target in any_object(), patch in any_object()) {
            let once = merge(&target, &patch);
            prop_assert_eq!(merge(&once, &patch), once);
        }

        #[test]
        fn a_null_deletes_and_untouched_keys_stay(target in any_object(), patch in any_object()) {
            let merged = merge(&target, &patch);
            for (key, value) in &patch {
                if value.is_null() {
                    prop_assert!(!merged.contains_key(key));
                } else {
                    prop_assert!(merged.contains_key(key));
                }
            }
            for (key, value) in &target {
                if !patch.contains_key(key) {
                    prop_assert_eq!(merged.get(key), Some(value));
                }
            }
        }

        #[test]
        fn a_merged_object_never_holds_a_null_from_the_patch(patch in any_object()) {
            let merged = merge(&Object::new(), &patch);
            prop_assert!(!has_object_null(&Value::Object(merged)));
        }

        #[test]
        fn changes_patched_onto_before_give_after(target in any_object(), patch in any_object()) {
            let merged = merge(&target, &patch);
            let changed = changes(&target, &merged);
            // Top-level replacement: objects in `changed` are whole values, so merging would
            // keep stale nested keys; replace key by key instead.
            let mut rebuilt = target.clone();
            for (key, value) in changed {
                if value.is_null() { rebuilt.remove(&key); } else { rebuilt.insert(key, value); }
            }
            prop_assert_eq!(rebuilt, merged);
        }

        #[test]
        fn limits_hold_for_every_result(target in any_object(), patch in any_object(), pad in 0usize..9000) {
            let mut patch = patch;
            patch.insert("pad".into(), Value::String("x".repeat(pad)));
            let merged = merge(&target, &patch);
            let fits = merged.len() <= MAX_KEYS && serialise(&merged).len() <= MAX_BYTES;
            prop_assert_eq!(apply(&target, &patch).is_ok(), fits);
        }
    }
}
