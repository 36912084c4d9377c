//! Grants as the store keeps them inside a row: a JSON array `[{"resource_id", "level"}]`
//! with levels as numbers, in an invitation's `grants` column and in the members' read.

use crate::domain::values::Level;
use serde::Deserialize;
use serde_json::{json, Value};

/// One stored grant, as read inside a row.
#[derive(Debug, Clone, Deserialize)]
pub struct Stored {
    resource_id: String,
    level: i64,
}

/// Reads stored grants: `[{"resource_id": "…", "level": 1}]`. Elements that do not parse
/// are left out.
pub fn decode(json: &str) -> Vec<(String, Level)> {
    levels(serde_json::from_str::<Vec<Stored>>(json).unwrap_or_default())
}

/// Stored grants with their levels; those whose level is not one are left out.
pub fn levels(stored: Vec<Stored>) -> Vec<(String, Level)> {
    stored
        .into_iter()
        .filter_map(|g| Level::from_rank(g.level).map(|l| (g.resource_id, l)))
        .collect()
}

/// Writes grants the way [`decode`] reads them.
pub fn encode(grants: &[(String, Level)]) -> String {
    Value::from(
        grants
            .iter()
            .map(|(id, level)| json!({"resource_id": id, "level": level.rank()}))
            .collect::<Vec<_>>(),
    )
    .to_string()
}
