//! SCIM 2.0 (RFC 7643, RFC 7644) as pure rules: the filters Roster answers, PATCH operations
//! as identity providers send them brought to one form, a User's and a Group's attributes
//! read from a request, and the projection `attributes` / `excludedAttributes` ask for.
//!
//! Identity providers differ in small ways: Entra ID writes operations capitalised
//! (`"Replace"`) and booleans as strings (`"False"`), Okta deactivates with a `replace`
//! without `path` whose value is `{"active": false}`. Each is read here into one form, so
//! the handlers see one kind of change whoever sent it.

use super::values::Email;
use super::{Code, Problem};
use serde_json::{Map, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The most resources one list answer holds; a larger `count` is lowered to it.
pub const MAX_COUNT: i64 = 100;

/// RFC 7644 §3.12: what kind of error a 400 or 409 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
        }
    }

    /// The `scimType` of `problem`: the one it was given, or the closest to its code. A full
    /// organization is `tooMany` (more than the server will take), with the seats in the
    /// detail; a member or team that exists already is `uniqueness`.
    pub fn of(problem: &Problem) -> Option<ScimType> {
        problem.scim_type.or(match problem.code {
            Code::InvalidRequest | Code::RoleNotAvailable => Some(ScimType::InvalidValue),
            Code::AlreadyMember | Code::SlugTaken => Some(ScimType::Uniqueness),
            Code::SeatLimitReached => Some(ScimType::TooMany),
            _ => None,
        })
    }
}

fn invalid(scim_type: ScimType, detail: impl Into<String>) -> Problem {
    Problem::scim(Code::InvalidRequest, scim_type, detail.into())
}

pub fn invalid_value(detail: impl Into<String>) -> Problem {
    invalid(ScimType::InvalidValue, detail)
}

fn invalid_filter(detail: impl Into<String>) -> Problem {
    invalid(ScimType::InvalidFilter, detail)
}

fn invalid_path(detail: impl Into<String>) -> Problem {
    invalid(ScimType::InvalidPath, detail)
}

fn invalid_syntax(detail: impl Into<String>) -> Problem {
    invalid(ScimType::InvalidSyntax, detail)
}

/// A resource type of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

impl Resource {
    fn schema(self) -> &'static str {
        match self {
            Resource::User => USER_SCHEMA,
            Resource::Group => GROUP_SCHEMA,
        }
    }
}

/// An attribute name as a request writes it, lower-cased (attribute names are
/// case-insensitive) and without the resource's schema URN in front.
fn attribute_name(raw: &str, resource: Resource) -> String {
    let lower = raw.to_ascii_lowercase();
    let prefix = format!("{}:", resource.schema().to_ascii_lowercase());
    match lower.strip_prefix(&prefix) {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// Whether `name` is an attribute of another schema (an extension such as the enterprise
/// User's): Roster keeps none and ignores them.
fn of_other_schema(name: &str, resource: Resource) -> bool {
    attribute_name(name, resource).starts_with("urn:")
}

/// A boolean as identity providers send one: `true`, or Entra's `"True"`.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A filter Roster answers: `eq` on `userName` (also `emails.value`, the same address),
/// `externalId` and `displayName`, joined by `and`. Values are kept as compared:
/// `userName` lower-cased (it is case-insensitive), the others as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    /// Two comparisons of one attribute with different values: nothing matches.
    pub matches_nothing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compared {
    UserName,
    ExternalId,
    DisplayName,
}

/// Splits a filter into words and string literals (kept with their quotes).
fn filter_tokens(text: &str) -> Result<Vec<String>, Problem> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut escaped = false;
            let mut end = None;
            for (i, c) in chars.by_ref() {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or_else(|| invalid_filter("A string in the filter is not closed."))?;
            tokens.push(text[start..=end].to_owned());
        } else {
            let mut end = text.len();
            while let Some(&(i, c)) = chars.peek() {
                if c.is_whitespace() {
                    end = i;
                    break;
                }
                chars.next();
            }
            tokens.push(text[start..end].to_owned());
        }
    }
    Ok(tokens)
}

impl Filter {
    /// Reads `filter` for resources of type `resource`. Anything Roster does not answer is
    /// `invalidFilter`, saying what it does answer.
    pub fn parse(text: &str, resource: Resource) -> Result<Filter, Problem> {
        let supported = match resource {
            Resource::User => "`userName`, `emails.value`, `externalId` and `displayName`",
            Resource::Group => "`displayName` and `externalId`",
        };
        let unsupported = || {
            invalid_filter(format!(
                "Roster filters with `eq` on {supported}, joined by `and`."
            ))
        };
        let tokens = filter_tokens(text)?;
        if tokens.is_empty() {
            return Err(unsupported());
        }
        let mut filter = Filter::default();
        let mut rest = tokens.as_slice();
        loop {
            let [attribute, operator, value, tail @ ..] = rest else {
                return Err(unsupported());
            };
            if !operator.eq_ignore_ascii_case("eq") || !value.starts_with('"') {
                return Err(unsupported());
            }
            let value: String = serde_json::from_str(value)
                .map_err(|_| invalid_filter("A string in the filter is not valid JSON."))?;
            let compared = match (resource, attribute_name(attribute, resource).as_str()) {
                (Resource::User, "username" | "emails.value" | "emails") => Compared::UserName,
                (_, "externalid") => Compared::ExternalId,
                (_, "displayname") => Compared::DisplayName,
                _ => return Err(unsupported()),
            };
            filter.compare(compared, value);
            match tail {
                [] => return Ok(filter),
                [and, more @ ..] if and.eq_ignore_ascii_case("and") => rest = more,
                _ => return Err(unsupported()),
            }
        }
    }

    fn compare(&mut self, compared: Compared, value: String) {
        let (slot, value) = match compared {
            Compared::UserName => (&mut self.user_name, value.to_lowercase()),
            Compared::ExternalId => (&mut self.external_id, value),
            Compared::DisplayName => (&mut self.display_name, value),
        };
        match slot {
            Some(existing) if *existing != value => self.matches_nothing = true,
            _ => *slot = Some(value),
        }
    }
}

/// `startIndex` and `count` of a list: 1-based, `count` at most [`MAX_COUNT`]. Values that
/// are not numbers are `invalidValue`; numbers below the least are read as the least
/// (RFC 7644 §3.4.2.4).
pub fn paging(start_index: Option<&str>, count: Option<&str>) -> Result<(i64, i64), Problem> {
    let number = |name: &str, raw: Option<&str>, default: i64| match raw {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .map_err(|_| invalid_value(format!("`{name}` must be an integer."))),
    };
    let start = number("startIndex", start_index, 1)?.max(1);
    let count = number("count", count, MAX_COUNT)?.clamp(0, MAX_COUNT);
    Ok((start, count))
}

/// What a list asks for: the filter, the page and the attributes, from the query of a
/// `GET` or the body of a `POST …/.search` (RFC 7644 §3.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub filter: Filter,
    pub start: i64,
    pub count: i64,
    pub projection: Projection,
}

/// `SearchRequest`'s schema.
pub const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

impl Query {
    /// A list's query parameters, as sent.
    pub fn from_params(
        get: impl Fn(&str) -> Option<String>,
        resource: Resource,
    ) -> Result<Query, Problem> {
        let filter = match get("filter") {
            Some(text) => Filter::parse(&text, resource)?,
            None => Filter::default(),
        };
        let (start, count) = paging(get("startIndex").as_deref(), get("count").as_deref())?;
        Ok(Query {
            filter,
            start,
            count,
            projection: Projection::parse(
                get("attributes").as_deref(),
                get("excludedAttributes").as_deref(),
                resource,
            ),
        })
    }

    /// A `SearchRequest` body: the same, its lists of attributes as JSON arrays.
    pub fn from_search(body: &Value, resource: Resource) -> Result<Query, Problem> {
        let names_schema = body["schemas"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(SEARCH_SCHEMA)));
        if !names_schema {
            return Err(invalid_syntax(format!(
                "A search's `schemas` must be [\"{SEARCH_SCHEMA}\"]."
            )));
        }
        let field = |name: &str| -> Result<Option<String>, Problem> {
            match &body[name] {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                Value::Number(n) => Ok(Some(n.to_string())),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .map(|names| Some(names.join(",")))
                    .ok_or_else(|| invalid_value(format!("`{name}` must list attribute names."))),
                _ => Err(invalid_value(format!("`{name}` is not valid."))),
            }
        };
        let fields = [
            "filter",
            "startIndex",
            "count",
            "attributes",
            "excludedAttributes",
        ]
        .map(|name| field(name).map(|v| (name, v)));
        let mut values = Vec::new();
        for field in fields {
            values.push(field?);
        }
        Query::from_params(
            |name| {
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, v)| v.clone())
            },
            resource,
        )
    }
}

/// Which attributes an answer carries: `attributes` (only these, with `id` and `schemas`)
/// or `excludedAttributes` (all but these). Names are lower-case paths: `name.givenname`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    only: Vec<Vec<String>>,
    excluded: Vec<Vec<String>>,
}

/// Attributes every answer carries, whatever was asked.
const ALWAYS: [&str; 2] = ["id", "schemas"];

impl Projection {
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>, resource: Resource) -> Self {
        let paths = |list: Option<&str>| -> Vec<Vec<String>> {
            list.unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    attribute_name(s, resource)
                        .split('.')
                        .map(str::to_owned)
                        .collect()
                })
                .collect()
        };
        Projection {
            only: paths(attributes),
            excluded: paths(excluded),
        }
    }

    /// `resource` with only the attributes asked for.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(object) = resource else {
            return resource;
        };
        let mut out = Map::new();
        for (key, value) in object {
            let lower = key.to_ascii_lowercase();
            if ALWAYS.contains(&lower.as_str()) {
                out.insert(key, value);
                continue;
            }
            let value = if self.only.is_empty() {
                Some(value)
            } else {
                keep_only(&self.only, &lower, value)
            };
            if let Some(value) = value.and_then(|v| drop_excluded(&self.excluded, &lower, v)) {
                out.insert(key, value);
            }
        }
        Value::Object(out)
    }
}

/// The sub-attribute names the paths name under `key`: `None` when a path names `key` whole.
fn sub_names<'a>(paths: &'a [Vec<String>], key: &str) -> Option<Vec<&'a str>> {
    let mut subs = Vec::new();
    for path in paths.iter().filter(|p| p[0] == key) {
        match path.get(1) {
            None => return None,
            Some(sub) => subs.push(sub.as_str()),
        }
    }
    Some(subs)
}

/// Applies `filter_object` to an object, or to each object of an array.
fn each_object(
    value: Value,
    filter_object: &dyn Fn(Map<String, Value>) -> Map<String, Value>,
) -> Value {
    match value {
        Value::Object(o) => Value::Object(filter_object(o)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(o) => Value::Object(filter_object(o)),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

fn keep_only(only: &[Vec<String>], key: &str, value: Value) -> Option<Value> {
    if !only.iter().any(|p| p[0] == key) {
        return None;
    }
    match sub_names(only, key) {
        None => Some(value),
        Some(subs) => Some(each_object(value, &|o| {
            o.into_iter()
                .filter(|(k, _)| subs.contains(&k.to_ascii_lowercase().as_str()))
                .collect()
        })),
    }
}

fn drop_excluded(excluded: &[Vec<String>], key: &str, value: Value) -> Option<Value> {
    if !excluded.iter().any(|p| p[0] == key) {
        return Some(value);
    }
    sub_names(excluded, key).map(|subs| {
        each_object(value, &|o| {
            o.into_iter()
                .filter(|(k, _)| !subs.contains(&k.to_ascii_lowercase().as_str()))
                .collect()
        })
    })
}

/// A PATCH operation's kind; Entra ID capitalises them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

/// Where an operation applies: `attribute`, `attribute.sub`, `attribute[sub eq "v"]` or
/// `attribute[sub eq "v"].sub`, names lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub attribute: String,
    /// The value filter: a sub-attribute and the value it equals.
    pub filter: Option<(String, String)>,
    pub sub: Option<String>,
}

impl Path {
    pub fn parse(raw: &str, resource: Resource) -> Result<Path, Problem> {
        let bad = || invalid_path(format!("`{raw}` is not a path Roster understands."));
        let name = |s: &str| {
            (!s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| s.to_owned())
                .ok_or_else(bad)
        };
        let lowered = attribute_name(raw.trim(), resource);
        if of_other_schema(raw.trim(), resource) {
            return Ok(Path {
                attribute: lowered,
                filter: None,
                sub: None,
            });
        }
        let (head, filter, tail) = match lowered.split_once('[') {
            Some((head, rest)) => {
                let (inside, after) = rest.split_once(']').ok_or_else(bad)?;
                // The value keeps its case: find it in the original text.
                let original = raw.trim();
                let open = original.find('[').ok_or_else(bad)?;
                let close = original.rfind(']').ok_or_else(bad)?;
                let tokens = filter_tokens(&original[open + 1..close]).map_err(|_| bad())?;
                let [sub, op, value] = tokens.as_slice() else {
                    return Err(bad());
                };
                if !op.eq_ignore_ascii_case("eq") || inside.is_empty() {
                    return Err(bad());
                }
                let value = match serde_json::from_str::<Value>(value) {
                    Ok(Value::String(s)) => s,
                    Ok(Value::Bool(b)) => b.to_string(),
                    _ => return Err(bad()),
                };
                let filter = (name(&sub.to_ascii_lowercase())?, value);
                let tail = match after {
                    "" => None,
                    _ => Some(name(after.strip_prefix('.').ok_or_else(bad)?)?),
                };
                (head.to_owned(), Some(filter), tail)
            }
            None => match lowered.split_once('.') {
                Some((head, sub)) => (head.to_owned(), None, Some(name(sub)?)),
                None => (lowered.clone(), None, None),
            },
        };
        Ok(Path {
            attribute: name(&head)?,
            filter,
            sub: tail,
        })
    }
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: Op,
    pub path: Option<Path>,
    pub value: Option<Value>,
}

/// Reads a PATCH request's body (`urn:…:PatchOp`): `invalidSyntax` when it is not one,
/// `invalidPath` for a path Roster cannot read, `noTarget` for a `remove` without one.
pub fn patch_ops(body: &Value, resource: Resource) -> Result<Vec<PatchOp>, Problem> {
    let names_schema = body["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA)));
    if !names_schema {
        return Err(invalid_syntax(format!(
            "A PATCH request's `schemas` must be [\"{PATCH_SCHEMA}\"]."
        )));
    }
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| invalid_syntax("`Operations` must be a non-empty array."))?;
    operations
        .iter()
        .map(|operation| {
            let op = match operation["op"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("add") => Op::Add,
                Some("remove") => Op::Remove,
                Some("replace") => Op::Replace,
                _ => {
                    return Err(invalid_syntax(
                        "Each operation's `op` is `add`, `remove` or `replace`.",
                    ))
                }
            };
            let path = match &operation["path"] {
                Value::Null => None,
                Value::String(p) if p.trim().is_empty() => None,
                Value::String(p) => Some(Path::parse(p, resource)?),
                _ => return Err(invalid_path("`path` must be a string.")),
            };
            let value = operation.get("value").filter(|v| !v.is_null()).cloned();
            match (op, &path, &value) {
                (Op::Remove, None, _) => Err(invalid(
                    ScimType::NoTarget,
                    "A `remove` operation needs a `path`.",
                )),
                (Op::Add | Op::Replace, _, None) => Err(invalid_value(
                    "An `add` or `replace` operation needs a `value`.",
                )),
                (Op::Add | Op::Replace, None, Some(v)) if !v.is_object() => Err(invalid_value(
                    "Without a `path`, the `value` must be an object of attributes.",
                )),
                _ => Ok(PatchOp { op, path, value }),
            }
        })
        .collect()
}

/// A User's attributes as Roster keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAttributes {
    /// The email address (parsed, lower-cased): the member's identity.
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    /// The role key `roles` names; `member` when none is named.
    pub role: String,
}

/// The role of a member whose `roles` name none.
pub const DEFAULT_ROLE: &str = "member";

/// The longest a name, display name or external id may be.
const MAX_TEXT: usize = 256;

fn text(value: &Value, what: &str) -> Result<Option<String>, Problem> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() > MAX_TEXT => Err(invalid_value(format!(
            "`{what}` is at most {MAX_TEXT} characters."
        ))),
        Value::String(s) if s.chars().any(char::is_control) => Err(invalid_value(format!(
            "`{what}` must not contain control characters."
        ))),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        _ => Err(invalid_value(format!("`{what}` must be a string."))),
    }
}

fn user_name(value: &Value) -> Result<String, Problem> {
    let raw = value
        .as_str()
        .ok_or_else(|| invalid_value("`userName` is required: the member's email address."))?;
    Email::parse(raw)
        .map(|email| email.as_str().to_owned())
        .map_err(|why| {
            invalid_value(format!(
                "`userName` must be the member's email address; it {why}."
            ))
        })
}

/// The role key `roles` names: the primary one, else the first; `None` for an empty list.
fn role_of(value: &Value) -> Result<Option<String>, Problem> {
    let key = |item: &Value| -> Result<String, Problem> {
        let raw = match item {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("value").and_then(Value::as_str),
            _ => None,
        };
        raw.map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid_value("Each of `roles` has a `value`: a role key."))
    };
    match value {
        Value::Null => Ok(None),
        Value::String(_) => key(value).map(Some),
        Value::Array(items) => {
            let primary = items
                .iter()
                .find(|i| i.get("primary").and_then(boolean) == Some(true));
            match primary.or(items.first()) {
                Some(item) => key(item).map(Some),
                None => Ok(None),
            }
        }
        Value::Object(_) => key(value).map(Some),
        _ => Err(invalid_value("`roles` must be a list of roles.")),
    }
}

impl UserAttributes {
    /// A User from the body of a POST, or of a PUT replacing `current` (whose role stays
    /// when the body names none). Read-only attributes (`id`, `meta`, `emails`, `groups`)
    /// and attributes of other schemas are ignored.
    pub fn from_body(body: &Value, current: Option<&UserAttributes>) -> Result<Self, Problem> {
        if !body.is_object() {
            return Err(invalid_syntax("A User is a JSON object."));
        }
        let field = |name: &str| -> &Value {
            body.as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map_or(&Value::Null, |(_, v)| v)
        };
        let name = field("name");
        let active = match field("active") {
            Value::Null => true,
            v => boolean(v).ok_or_else(|| invalid_value("`active` must be a boolean."))?,
        };
        let role = match role_of(field("roles"))? {
            Some(role) => role,
            None => current.map_or(DEFAULT_ROLE.to_owned(), |c| c.role.clone()),
        };
        Ok(UserAttributes {
            user_name: user_name(field("userName"))?,
            external_id: text(field("externalId"), "externalId")?,
            given_name: text(&name["givenName"], "name.givenName")?,
            family_name: text(&name["familyName"], "name.familyName")?,
            display_name: text(field("displayName"), "displayName")?,
            active,
            role,
        })
    }

    /// The attributes after `ops`, applied in order.
    pub fn patched(&self, ops: &[PatchOp]) -> Result<UserAttributes, Problem> {
        let mut user = self.clone();
        for op in ops {
            match (&op.path, &op.value) {
                (None, Some(Value::Object(attributes))) => {
                    let ours = attributes
                        .iter()
                        .filter(|(name, _)| !of_other_schema(name, Resource::User));
                    for (name, value) in ours {
                        let path = Path::parse(name, Resource::User)?;
                        user.set(op.op, &path, Some(value))?;
                    }
                }
                (Some(path), value) => user.set(op.op, path, value.as_ref())?,
                _ => return Err(invalid_value("The operation has nothing to apply.")),
            }
        }
        Ok(user)
    }

    fn set(&mut self, op: Op, path: &Path, value: Option<&Value>) -> Result<(), Problem> {
        let value = match op {
            Op::Remove => &Value::Null,
            Op::Add | Op::Replace => value.unwrap_or(&Value::Null),
        };
        match (path.attribute.as_str(), path.sub.as_deref()) {
            ("username", None) => self.user_name = user_name(value)?,
            ("externalid", None) => self.external_id = text(value, "externalId")?,
            ("displayname", None) => self.display_name = text(value, "displayName")?,
            ("active", None) => {
                self.active = match (op, value) {
                    (Op::Remove, _) => true,
                    (_, v) => {
                        boolean(v).ok_or_else(|| invalid_value("`active` must be a boolean."))?
                    }
                }
            }
            ("name", None) => {
                if !value.is_null() && !value.is_object() {
                    return Err(invalid_value("`name` must be an object."));
                }
                let given = value.get("givenName");
                let family = value.get("familyName");
                if op != Op::Add || given.is_some() {
                    self.given_name = text(given.unwrap_or(&Value::Null), "name.givenName")?;
                }
                if op != Op::Add || family.is_some() {
                    self.family_name = text(family.unwrap_or(&Value::Null), "name.familyName")?;
                }
            }
            ("name", Some("givenname")) => self.given_name = text(value, "name.givenName")?,
            ("name", Some("familyname")) => self.family_name = text(value, "name.familyName")?,
            ("roles", None | Some("value")) => {
                self.role = role_of(value)?.unwrap_or_else(|| DEFAULT_ROLE.to_owned())
            }
            // Read-only: derived from `userName` and the formatted name, or kept by Roster.
            ("emails" | "name" | "id" | "meta" | "groups" | "schemas", _) => {}
            // Attributes of other schemas (extensions): Roster keeps none.
            (attribute, _) if attribute.starts_with("urn:") => {}
            _ => {
                return Err(invalid_path(format!(
                    "Roster keeps no User attribute `{}`.",
                    path.attribute
                )))
            }
        }
        Ok(())
    }

    /// The given and family names together: the name of a provisioned user who has no
    /// `displayName`.
    pub fn formatted_name(&self) -> Option<String> {
        match (&self.given_name, &self.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        }
    }
}

/// A Group's attributes from a POST or PUT: its display name, external id and members'
/// ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAttributes {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

/// A change of a Group's members, from PATCH operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupChange {
    pub display_name: Option<String>,
    /// `Some(None)` removes the external id.
    pub external_id: Option<Option<String>>,
    /// The members it has afterwards, when an operation replaced them all.
    pub replace: Option<Vec<String>>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// The ids a `members` value names: `[{"value": id}, …]` (a single object too).
fn member_ids(value: &Value) -> Result<Vec<String>, Problem> {
    let one = |item: &Value| {
        item.get("value")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid_value("Each of `members` has a `value`: a User's id."))
    };
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(one).collect(),
        Value::Object(_) => one(value).map(|id| vec![id]),
        _ => Err(invalid_value(
            "`members` must be a list of `{\"value\": id}`.",
        )),
    }
}

fn display_name(value: &Value) -> Result<String, Problem> {
    text(value, "displayName")?.ok_or_else(|| invalid_value("`displayName` is required."))
}

impl GroupAttributes {
    pub fn from_body(body: &Value) -> Result<Self, Problem> {
        if !body.is_object() {
            return Err(invalid_syntax("A Group is a JSON object."));
        }
        Ok(GroupAttributes {
            display_name: display_name(&body["displayName"])?,
            external_id: text(&body["externalId"], "externalId")?,
            members: member_ids(&body["members"])?,
        })
    }
}

impl GroupChange {
    pub fn from_ops(ops: &[PatchOp]) -> Result<GroupChange, Problem> {
        let mut change = GroupChange::default();
        for op in ops {
            match (&op.path, &op.value) {
                (None, Some(Value::Object(attributes))) => {
                    let ours = attributes
                        .iter()
                        .filter(|(name, _)| !of_other_schema(name, Resource::Group));
                    for (name, value) in ours {
                        let path = Path::parse(name, Resource::Group)?;
                        change.apply(op.op, &path, Some(value))?;
                    }
                }
                (Some(path), value) => change.apply(op.op, path, value.as_ref())?,
                _ => return Err(invalid_value("The operation has nothing to apply.")),
            }
        }
        Ok(change)
    }

    fn apply(&mut self, op: Op, path: &Path, value: Option<&Value>) -> Result<(), Problem> {
        let value = value.unwrap_or(&Value::Null);
        match (path.attribute.as_str(), &path.filter, op) {
            ("displayname", None, Op::Remove) => {
                return Err(invalid(
                    ScimType::Mutability,
                    "`displayName` is required; replace it instead.",
                ))
            }
            ("displayname", None, _) => self.display_name = Some(display_name(value)?),
            ("externalid", None, Op::Remove) => self.external_id = Some(None),
            ("externalid", None, _) => self.external_id = Some(text(value, "externalId")?),
            ("members", None, Op::Add) => {
                for id in member_ids(value)? {
                    self.remove.retain(|r| *r != id);
                    self.add.push(id);
                }
            }
            ("members", None, Op::Replace) => {
                self.replace = Some(member_ids(value)?);
                self.add.clear();
                self.remove.clear();
            }
            ("members", None, Op::Remove) if value.is_null() => {
                self.replace = Some(Vec::new());
                self.add.clear();
                self.remove.clear();
            }
            ("members", None, Op::Remove) => {
                for id in member_ids(value)? {
                    self.add.retain(|a| *a != id);
                    self.remove.push(id);
                }
            }
            ("members", Some((sub, id)), Op::Remove) if sub == "value" => {
                self.add.retain(|a| a != id);
                self.remove.push(id.clone());
            }
            ("id" | "meta" | "schemas", _, _) => {}
            (attribute, _, _) if attribute.starts_with("urn:") => {}
            _ => {
                return Err(invalid_path(format!(
                    "Roster cannot apply `{}` to a Group's `{}`.",
                    match op {
                        Op::Add => "add",
                        Op::Remove => "remove",
                        Op::Replace => "replace",
                    },
                    path.attribute
                )))
            }
        }
        Ok(())
    }

    /// The members after the change, from those before.
    pub fn members_after(&self, before: &[String]) -> Vec<String> {
        let mut members: Vec<String> = self.replace.clone().unwrap_or_else(|| before.to_vec());
        members.retain(|m| !self.remove.contains(m));
        for id in &self.add {
            if !members.contains(id) {
                members.push(id.clone());
            }
        }
        members
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn user(filter: &str) -> Result<Filter, Problem> {
        Filter::parse(filter, Resource::User)
    }

    #[test]
    fn filters_roster_answers() {
        assert_eq!(
            user(r#"userName eq "Ana@Example.com""#).unwrap(),
            Filter {
                user_name: Some("ana@example.com".into()),
                ..Filter::default()
            }
        );
        let both = user(r#"externalId eq "00u1" and emails.value eq "a@b.co""#).unwrap();
        assert_eq!(both.external_id.as_deref(), Some("00u1"));
        assert_eq!(both.user_name.as_deref(), Some("a@b.co"));
        assert!(!both.matches_nothing);
        let prefixed = user(&format!("{USER_SCHEMA}:userName EQ \"a@b.co\"")).unwrap();
        assert_eq!(prefixed.user_name.as_deref(), Some("a@b.co"));
        assert!(
            user(r#"userName eq "a@b.co" and userName eq "c@d.co""#)
                .unwrap()
                .matches_nothing
        );
        let quoted = user(r#"displayName eq "Ana \"the\" admin""#).unwrap();
        assert_eq!(quoted.display_name.as_deref(), Some("Ana \"the\" admin"));
        let group = Filter::parse(r#"displayName eq "Sales and Ops""#, Resource::Group).unwrap();
        assert_eq!(group.display_name.as_deref(), Some("Sales and Ops"));
    }

    #[test]
    fn other_filters_are_invalid() {
        for bad in [
            "",
            "userName",
            r#"userName sw "a""#,
            r#"userName eq "a" or userName eq "b""#,
            r#"(userName eq "a")"#,
            r#"userName eq "a" and"#,
            r#"title eq "x""#,
            "userName eq 12",
            r#"userName eq "unclosed"#,
            r#"userName pr"#,
            r#"not userName eq "a""#,
        ] {
            let problem = user(bad).unwrap_err();
            assert_eq!(problem.scim_type, Some(ScimType::InvalidFilter), "{bad}");
            assert_eq!(problem.status(), 400);
        }
        assert!(Filter::parse(r#"userName eq "a@b.co""#, Resource::Group).is_err());
    }

    #[test]
    fn searches_read_like_queries() {
        let body = json!({"schemas": [SEARCH_SCHEMA], "filter": "userName eq \"A@b.co\"",
                          "startIndex": 2, "count": 5, "attributes": ["userName", "name.givenName"]});
        let query = Query::from_search(&body, Resource::User).unwrap();
        assert_eq!(query.filter.user_name.as_deref(), Some("a@b.co"));
        assert_eq!((query.start, query.count), (2, 5));
        assert_eq!(
            query.projection,
            Projection::parse(Some("userName,name.givenName"), None, Resource::User)
        );
        assert_eq!(
            Query::from_search(&json!({"filter": "x"}), Resource::User)
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidSyntax)
        );
        let bad = json!({"schemas": [SEARCH_SCHEMA], "attributes": [1]});
        assert!(Query::from_search(&bad, Resource::User).is_err());
    }

    #[test]
    fn paging_is_bounded() {
        assert_eq!(paging(None, None).unwrap(), (1, 100));
        assert_eq!(paging(Some("0"), Some("1000")).unwrap(), (1, 100));
        assert_eq!(paging(Some("3"), Some("-2")).unwrap(), (3, 0));
        assert!(paging(Some("x"), None).is_err());
    }

    fn resource() -> Value {
        json!({
            "schemas": [USER_SCHEMA],
            "id": "u1",
            "userName": "a@b.co",
            "name": {"givenName": "Ana", "familyName": "Lima", "formatted": "Ana Lima"},
            "emails": [{"value": "a@b.co", "primary": true}],
            "active": true,
            "meta": {"resourceType": "User"}
        })
    }

    #[test]
    fn projection_keeps_what_is_asked() {
        let only = Projection::parse(Some("userName,name.givenName"), None, Resource::User);
        assert_eq!(
            only.apply(resource()),
            json!({"schemas": [USER_SCHEMA], "id": "u1", "userName": "a@b.co",
                   "name": {"givenName": "Ana"}})
        );
        let without = Projection::parse(None, Some("emails, name.formatted,meta"), Resource::User);
        assert_eq!(
            without.apply(resource()),
            json!({"schemas": [USER_SCHEMA], "id": "u1", "userName": "a@b.co",
                   "name": {"givenName": "Ana", "familyName": "Lima"}, "active": true})
        );
        let id_stays = Projection::parse(None, Some("id"), Resource::User);
        assert_eq!(id_stays.apply(resource())["id"], "u1");
        let urn = Projection::parse(
            Some(&format!("{USER_SCHEMA}:emails.value")),
            None,
            Resource::User,
        );
        assert_eq!(
            urn.apply(resource())["emails"],
            json!([{"value": "a@b.co"}])
        );
        assert_eq!(Projection::default().apply(resource()), resource());
    }

    fn patch(ops: Value) -> Value {
        json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
    }

    fn ana() -> UserAttributes {
        UserAttributes::from_body(
            &json!({"userName": "ana@example.com", "name": {"givenName": "Ana"}}),
            None,
        )
        .unwrap()
    }

    #[test]
    fn okta_and_entra_deactivations_mean_the_same() {
        let okta = patch(json!([{"op": "replace", "value": {"active": false}}]));
        let entra = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        for body in [okta, entra] {
            let ops = patch_ops(&body, Resource::User).unwrap();
            let after = ana().patched(&ops).unwrap();
            assert!(!after.active);
            assert_eq!(after.user_name, ana().user_name);
            let back = patch(json!([{"op": "Replace", "path": "active", "value": "True"}]));
            assert!(
                after
                    .patched(&patch_ops(&back, Resource::User).unwrap())
                    .unwrap()
                    .active
            );
        }
    }

    #[test]
    fn user_attributes_change_by_path_and_without() {
        let ops = patch_ops(
            &patch(json!([
                {"op": "Add", "path": "name.familyName", "value": "Lima"},
                {"op": "replace", "value": {"externalId": "00u9", "displayName": "Ana L"}},
                {"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "admin"},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x@y.co"},
                {"op": "add", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}}},
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"}
            ])),
            Resource::User,
        )
        .unwrap();
        let after = ana().patched(&ops).unwrap();
        assert_eq!(after.family_name.as_deref(), Some("Lima"));
        assert_eq!(after.given_name.as_deref(), Some("Ana"));
        assert_eq!(after.external_id.as_deref(), Some("00u9"));
        assert_eq!(after.display_name.as_deref(), Some("Ana L"));
        assert_eq!(after.role, "admin");
        assert_eq!(after.formatted_name().as_deref(), Some("Ana Lima"));
        let removed = patch_ops(
            &patch(
                json!([{"op": "remove", "path": "externalId"}, {"op": "remove", "path": "roles"}]),
            ),
            Resource::User,
        )
        .unwrap();
        let after = after.patched(&removed).unwrap();
        assert_eq!(
            (after.external_id, after.role.as_str()),
            (None, DEFAULT_ROLE)
        );
    }

    #[test]
    fn bad_patches_say_why() {
        let cases = [
            (
                json!({"Operations": [{"op": "add", "value": {}}]}),
                ScimType::InvalidSyntax,
            ),
            (patch(json!([])), ScimType::InvalidSyntax),
            (
                patch(json!([{"op": "move", "path": "active"}])),
                ScimType::InvalidSyntax,
            ),
            (patch(json!([{"op": "remove"}])), ScimType::NoTarget),
            (
                patch(json!([{"op": "replace", "path": "active"}])),
                ScimType::InvalidValue,
            ),
            (
                patch(json!([{"op": "replace", "value": false}])),
                ScimType::InvalidValue,
            ),
            (
                patch(json!([{"op": "replace", "path": "members[value", "value": 1}])),
                ScimType::InvalidPath,
            ),
        ];
        for (body, scim_type) in cases {
            let problem = patch_ops(&body, Resource::User).unwrap_err();
            assert_eq!(problem.scim_type, Some(scim_type), "{body}");
        }
        let ops = |v: Value| patch_ops(&patch(v), Resource::User).unwrap();
        for (ops, scim_type) in [
            (
                ops(json!([{"op": "replace", "path": "active", "value": "maybe"}])),
                ScimType::InvalidValue,
            ),
            (
                ops(json!([{"op": "replace", "path": "userName", "value": "not-an-email"}])),
                ScimType::InvalidValue,
            ),
            (
                ops(json!([{"op": "replace", "path": "title", "value": "CTO"}])),
                ScimType::InvalidPath,
            ),
        ] {
            assert_eq!(ana().patched(&ops).unwrap_err().scim_type, Some(scim_type));
        }
    }

    #[test]
    fn user_bodies() {
        let body = json!({
            "schemas": [USER_SCHEMA], "userName": " Ana@Example.com", "externalId": "00u1",
            "active": "False", "roles": [{"value": "viewer"}, {"value": "admin", "primary": true}],
            "emails": [{"value": "other@example.com", "primary": true}]
        });
        let ana = UserAttributes::from_body(&body, None).unwrap();
        assert_eq!(ana.user_name, "ana@example.com");
        assert_eq!((ana.active, ana.role.as_str()), (false, "admin"));
        let replaced =
            UserAttributes::from_body(&json!({"userName": "ana@example.com"}), Some(&ana)).unwrap();
        assert_eq!((replaced.role.as_str(), replaced.active), ("admin", true));
        for bad in [
            json!({"userName": "ana"}),
            json!({}),
            json!([]),
            json!({"userName": "a@b.co", "active": 3}),
        ] {
            assert!(UserAttributes::from_body(&bad, None).is_err(), "{bad}");
        }
        assert_eq!(
            UserAttributes::from_body(&json!({"userName": "ana"}), None)
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn group_member_changes() {
        let ops = patch_ops(
            &patch(json!([
                {"op": "Add", "path": "members", "value": [{"value": "u2"}, {"value": "u3"}]},
                {"op": "Remove", "path": "members[value eq \"u1\"]"},
                {"op": "remove", "path": "members", "value": [{"value": "u3"}]},
                {"op": "replace", "value": {"displayName": "Sales"}}
            ])),
            Resource::Group,
        )
        .unwrap();
        let change = GroupChange::from_ops(&ops).unwrap();
        assert_eq!(change.display_name.as_deref(), Some("Sales"));
        assert_eq!(
            change.members_after(&["u1".into(), "u4".into()]),
            ["u4", "u2"]
        );
        let all = patch_ops(
            &patch(json!([{"op": "remove", "path": "members"}])),
            Resource::Group,
        )
        .unwrap();
        assert!(GroupChange::from_ops(&all)
            .unwrap()
            .members_after(&["u1".into()])
            .is_empty());
        let group = GroupAttributes::from_body(
            &json!({"displayName": "Ops", "members": [{"value": "u1"}]}),
        )
        .unwrap();
        assert_eq!(group.members, ["u1"]);
        assert!(GroupAttributes::from_body(&json!({"members": []})).is_err());
    }

    proptest! {
        #[test]
        fn filter_parsing_never_panics(text in "\\PC{0,80}") {
            let _ = Filter::parse(&text, Resource::User);
            let _ = Path::parse(&text, Resource::Group);
        }

        #[test]
        fn equality_filters_round_trip(value in "[^\"\\\\\\p{Cc}]{0,30}", external in "[A-Za-z0-9]{1,20}") {
            let text = format!(
                "externalId eq {} and displayName eq {}",
                serde_json::to_string(&external).unwrap(),
                serde_json::to_string(&value).unwrap()
            );
            let filter = Filter::parse(&text, Resource::User).unwrap();
            prop_assert_eq!(filter.external_id, Some(external));
            prop_assert_eq!(filter.display_name, Some(value));
        }

        #[test]
        fn op_names_and_booleans_ignore_case(upper in proptest::collection::vec(any::<bool>(), 7), active in any::<bool>()) {
            let cased = |word: &str| -> String {
                word.chars().zip(upper.iter().cycle()).map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c }).collect()
            };
            let body = patch(json!([{"op": cased("replace"), "path": cased("active"),
                                     "value": cased(&active.to_string())}]));
            let ops = patch_ops(&body, Resource::User).unwrap();
            prop_assert_eq!(ops[0].op, Op::Replace);
            prop_assert_eq!(ana().patched(&ops).unwrap().active, active);
        }

        #[test]
        fn projection_keeps_id_and_only_what_exists(names in proptest::collection::vec("[a-zA-Z.]{1,12}", 0..4)) {
            let list = names.join(",");
            for projection in [
                Projection::parse(Some(&list), None, Resource::User),
                Projection::parse(None, Some(&list), Resource::User),
            ] {
                let out = projection.apply(resource());
                prop_assert_eq!(&out["id"], "u1");
                let keys = out.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
                let all = resource();
                prop_assert!(keys.iter().all(|k| all.get(k).is_some()));
            }
        }

        #[test]
        fn member_changes_never_duplicate(before in proptest::collection::vec("u[0-9]", 0..6),
                                          add in proptest::collection::vec("u[0-9]", 0..6),
                                          remove in proptest::collection::vec("u[0-9]", 0..6)) {
            let change = GroupChange { add: add.clone(), remove: remove.clone(), ..GroupChange::default() };
            let mut unique = before.clone();
            unique.sort();
            unique.dedup();
            let after = change.members_after(&unique);
            let mut sorted = after.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), after.len());
            prop_assert!(add.iter().all(|a| after.contains(a)));
            prop_assert!(remove.iter().filter(|r| !add.contains(r)).all(|r| !after.contains(r)));
        }
    }
}
