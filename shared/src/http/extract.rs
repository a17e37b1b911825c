//! Extractors that turn every malformed input into a 4xx in the error format,
//! naming the field: JSON bodies, query parameters, path parameters.

use std::str::FromStr;

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::domain::catalogue::Stage;
use crate::domain::ids::DkimId;
use crate::domain::status::is_application;
use crate::domain::validation::{FieldError, object};
use crate::error::AppError;

/// A JSON request body that is an object: 415 unless `Content-Type` is JSON, 400 naming
/// the field otherwise (an array of the fields in order is not an object: 400).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// A JSON request body that is an array, as [`JsonBody`] reads it.
#[derive(Debug, Clone)]
pub struct JsonArray<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The bytes of a JSON body.
async fn json_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, AppError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !is_json(&content_type) {
        return Err(AppError::UnsupportedMediaType(format!(
            "expected application/json, got {:?}",
            content_type
        )));
    }
    Bytes::from_request(request, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge("the body is larger than this operation accepts".into())
        } else {
            AppError::field(FieldError::body("", format!("unreadable body: {e}")))
        }
    })
}

/// A body read with [`object`]: from a JSON object only.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Object<T>(#[serde(deserialize_with = "object")] T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let bytes = json_bytes(request, state).await?;
        parse_json(&bytes).map(|Object(body)| JsonBody(body))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonArray<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let bytes = json_bytes(request, state).await?;
        parse_json(&bytes).map(JsonArray)
    }
}

/// Parses JSON, reporting the JSON pointer of the first bad value. A number with a zero
/// fraction (`7.0`, `7e0`) is an integer, as JSON Schema and so the contract count it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => {
            deserializer.end().map_err(|error| json_error(String::new(), error))?;
            Ok(value)
        }
        // The rare body that spells an integer as a float is read again, as a tree whose
        // integral floats are integers; every other body is read once, without a tree.
        Err(error) if error.inner().to_string().starts_with("invalid type: floating point") => {
            let mut tree: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| json_error(String::new(), error))?;
            integral_floats_as_integers(&mut tree);
            serde_path_to_error::deserialize(tree).map_err(path_error)
        }
        Err(error) => Err(path_error(error)),
    }
}

fn integral_floats_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|f| number.is_f64() && f.fract() == 0.0) {
                // Beyond ±2^63 the float stays a float, and an integer field refuses it.
                if float >= i64::MIN as f64 && float < i64::MAX as f64 {
                    *number = (float as i64).into();
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        serde_json::Value::Object(members) => members.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

fn path_error(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let pointer: String = error
        .path()
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
            Segment::Enum { variant } => Some(format!("/{variant}")),
            Segment::Unknown => None,
        })
        .collect();
    json_error(pointer, error.into_inner())
}

fn json_error(mut pointer: String, error: serde_json::Error) -> AppError {
    let text = error.to_string();
    // serde reports a missing field at its parent: name the field itself.
    if let Some(field) = text.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        pointer.push('/');
        pointer.push_str(field);
        return AppError::field(FieldError::body(pointer, "is required"));
    }
    let message = if error.is_syntax() || error.is_eof() {
        format!("malformed JSON: {text}")
    } else {
        // Drop serde's " at line L column C" suffix: the pointer says where.
        text.split(" at line ").next().unwrap_or(&text).to_owned()
    };
    AppError::field(FieldError::body(pointer, message))
}

/// The query string's parameters, with typed accessors that name the bad parameter.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(QueryParams::parse(parts.uri.query().unwrap_or_default()))
    }
}

impl QueryParams {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> Self {
        QueryParams(form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The single value of a parameter; repeating it is a 400.
    pub fn one(&self, name: &str) -> Result<Option<&str>, AppError> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [value] => Ok(Some(value)),
            _ => Err(AppError::field(FieldError::query(name, "must be given once"))),
        }
    }

    /// A parameter parsed as `T`.
    pub fn parsed<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, AppError> {
        self.one(name)?
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|_| AppError::field(FieldError::query(name, format!("must be {expected}"))))
            })
            .transpose()
    }

    /// A required parameter parsed as `T`.
    pub fn required<T: FromStr>(&self, name: &str, expected: &str) -> Result<T, AppError> {
        self.parsed(name, expected)?
            .ok_or_else(|| AppError::field(FieldError::query(name, "is required")))
    }

    /// An integer parameter within `min..=max`.
    pub fn int_in(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, AppError> {
        let expected = format!("an integer from {min} to {max}");
        match self.parsed::<i64>(name, &expected)? {
            Some(value) if !(min..=max).contains(&value) => Err(AppError::field(FieldError::query(name, format!("must be {expected}")))),
            other => Ok(other),
        }
    }
}

/// A path parameter parsed as `T`; a malformed one is a 400 naming it.
pub fn path_param<T: FromStr>(params: &RawPathParams, name: &str, expected: &str) -> Result<T, AppError> {
    params
        .iter()
        .find(|(key, _)| *key == name)
        .and_then(|(_, raw)| raw.parse().ok())
        .ok_or_else(|| AppError::field(FieldError::path(name, format!("must be {expected}"))))
}

/// The `{application}` path parameter: 404 unless the deployment's catalogue has it.
pub fn application_path(stage: Stage, params: &RawPathParams) -> Result<String, AppError> {
    let application: String = path_param(params, "application", "an application id")?;
    if !is_application(stage, &application) {
        return Err(AppError::NotFound(format!("application {application}")));
    }
    Ok(application)
}

/// The `{groupPk}` path parameter.
#[derive(Debug, Clone, Copy)]
pub struct GroupPkPath(pub crate::domain::ids::GroupPk);

/// The `{userPk}` path parameter.
#[derive(Debug, Clone, Copy)]
pub struct UserPkPath(pub crate::domain::ids::UserPk);

/// The `{dkimId}` path parameter.
#[derive(Debug, Clone, Copy)]
pub struct DkimIdPath(pub DkimId);

/// The `{uuid}` path parameter of an FBL.
#[derive(Debug, Clone, Copy)]
pub struct UuidPath(pub uuid::Uuid);

/// The `{jobId}` path parameter of a provisioning job, as given: the handler decides
/// (after its rule) that text which is no job id names no job.
#[derive(Debug, Clone)]
pub struct JobIdPath(pub String);

/// A key in the path: an integer from 1, as the contract declares every key.
pub fn key_path_param(params: &RawPathParams, name: &str) -> Result<i64, AppError> {
    match path_param::<i64>(params, name, "a positive integer")? {
        key if key >= 1 => Ok(key),
        _ => Err(AppError::field(FieldError::path(name, "must be a positive integer"))),
    }
}

async fn integer_path_param<S: Send + Sync>(parts: &mut Parts, state: &S, name: &str) -> Result<i64, AppError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::NotFound("resource".into()))?;
    key_path_param(&params, name)
}

impl<S: Send + Sync> FromRequestParts<S> for GroupPkPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Ok(GroupPkPath(crate::domain::ids::GroupPk(
            integer_path_param(parts, state, "groupPk").await?,
        )))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UserPkPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Ok(UserPkPath(crate::domain::ids::UserPk(
            integer_path_param(parts, state, "userPk").await?,
        )))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for DkimIdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Ok(DkimIdPath(DkimId(integer_path_param(parts, state, "dkimId").await?)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UuidPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound("resource".into()))?;
        path_param(&params, "uuid", "a UUID").map(UuidPath)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for JobIdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound("resource".into()))?;
        path_param(&params, "jobId", "a job id").map(JobIdPath)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        nested: Nested,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Nested {
        items: Vec<u8>,
    }

    fn pointer(json: &str) -> String {
        match parse_json::<Body>(json.as_bytes()) {
            Err(AppError::Invalid(errors)) => errors[0].path.to_string(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn body_errors_name_the_json_pointer() {
        assert_eq!(pointer(r#"{"name": 1, "nested": {"items": []}}"#), "/name");
        assert_eq!(pointer(r#"{"name": "a", "nested": {"items": [1, "x"]}}"#), "/nested/items/1");
        assert_eq!(pointer(r#"{"name": "a", "nested": {}}"#), "/nested/items");
        assert_eq!(pointer(r#"{"name": "a""#), "");
        assert_eq!(pointer(r#"{"name": "a", "nested": {"items": []}} trailing"#), "");
    }

    #[test]
    fn query_parameters_are_typed_and_bounded() {
        let query = QueryParams::parse("size=500&page=x&tag=a&tag=b&groupPk=101");
        assert!(matches!(query.int_in("size", 1, 100), Err(AppError::Invalid(e)) if e[0].path.to_string() == "size"));
        assert!(matches!(query.parsed::<i64>("page", "an integer"), Err(AppError::Invalid(_))));
        assert_eq!(query.all("tag"), ["a", "b"]);
        assert!(query.one("tag").is_err());
        assert_eq!(query.required::<i64>("groupPk", "an integer").unwrap(), 101);
        assert!(query.required::<i64>("missing", "an integer").is_err());
    }

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
