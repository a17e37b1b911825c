//! Field-level validation failures, collected so that every bad field is named at once.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// Where a bad value was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldPath {
    /// A JSON pointer into the request body, such as `/timezone`.
    Body(String),
    /// A query parameter, by name.
    Query(String),
    /// A path parameter, by name.
    Path(String),
    /// A request header, by name.
    Header(String),
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldPath::Body(pointer) => f.write_str(pointer),
            // Parameters go by bare name; body pointers always start with '/'.
            FieldPath::Query(name) | FieldPath::Path(name) | FieldPath::Header(name) => f.write_str(name),
        }
    }
}

/// One bad field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: FieldPath,
    pub message: String,
}

impl FieldError {
    /// A bad body field, by JSON pointer.
    pub fn body(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Body(pointer.into()),
            message: message.into(),
        }
    }

    /// A bad query parameter.
    pub fn query(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Query(name.into()),
            message: message.into(),
        }
    }

    /// A bad request header.
    pub fn header(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Header(name.into()),
            message: message.into(),
        }
    }

    /// A bad path parameter.
    pub fn path(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Path(name.into()),
            message: message.into(),
        }
    }
}

/// Most violations one answer reports: enough to fix a request, bounded so that no
/// input makes the work of collecting (or the error body) grow with it.
pub const MAX_REPORTED: usize = 100;

/// Field errors, collected so that every bad field is named at once; empty means valid.
/// The first [`MAX_REPORTED`] are kept and the rest only counted: a request with a
/// million bad values costs a counter, not a million errors.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations {
    kept: Vec<FieldError>,
    total: usize,
}

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation (kept while fewer than [`MAX_REPORTED`] are, else counted).
    pub fn push(&mut self, error: FieldError) {
        if self.kept.len() < MAX_REPORTED {
            self.kept.push(error);
        }
        self.total += 1;
    }

    /// Records a bad body field.
    pub fn body(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(FieldError::body(pointer, message));
    }

    /// Whether no more violations will be kept: a loop over unbounded input may stop here.
    pub fn is_full(&self) -> bool {
        self.kept.len() >= MAX_REPORTED
    }

    /// How many violations were recorded, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// `Ok(value)` when nothing was recorded, else the violations.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.total == 0 { Ok(value) } else { Err(self) }
    }
}

/// The violations kept, first recorded first.
impl std::ops::Deref for Violations {
    type Target = [FieldError];

    fn deref(&self) -> &[FieldError] {
        &self.kept
    }
}

impl From<FieldError> for Violations {
    fn from(error: FieldError) -> Self {
        Self::from_iter([error])
    }
}

impl FromIterator<FieldError> for Violations {
    fn from_iter<I: IntoIterator<Item = FieldError>>(errors: I) -> Self {
        let mut violations = Violations::new();
        errors.into_iter().for_each(|error| violations.push(error));
        violations
    }
}

impl IntoIterator for Violations {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.kept.into_iter()
    }
}

/// A list of at most `MAX` items, as a request carries it: reading stops at the first item
/// beyond `MAX`, refused (400 naming the list) before the rest of the list is read, so no
/// request builds a longer one. Every array a request takes is one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounded<T, const MAX: usize>(pub Vec<T>);

impl<T, const MAX: usize> Bounded<T, MAX> {
    /// The items.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> std::ops::Deref for Bounded<T, MAX> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'de, T: serde::Deserialize<'de>, const MAX: usize> serde::Deserialize<'de> for Bounded<T, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items<T, const MAX: usize>(std::marker::PhantomData<T>);

        impl<'de, T: serde::Deserialize<'de>, const MAX: usize> serde::de::Visitor<'de> for Items<T, MAX> {
            type Value = Bounded<T, MAX>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {MAX} items")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX));
                while let Some(item) = seq.next_element()? {
                    if items.len() == MAX {
                        return Err(serde::de::Error::custom(format_args!("must list at most {MAX} items")));
                    }
                    items.push(item);
                }
                Ok(Bounded(items))
            }
        }

        deserializer.deserialize_seq(Items(std::marker::PhantomData))
    }
}

/// A field of a full replacement (PUT) that is present, null or not: `None` when omitted,
/// `Some(None)` when null. Serde's plain `Option` cannot tell null from absent. Use with
/// `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::deserialize(deserializer).map(Some)
}

/// A value read only from a JSON object. Serde reads a struct from an array of its
/// fields in order too, which no request schema allows: `{"data": [null, null]}` would
/// pass for `{"data": {}}`. Use with `#[serde(deserialize_with = "object")]`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    struct FromObject<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for FromObject<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a JSON object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }

    deserializer.deserialize_map(FromObject(std::marker::PhantomData))
}

/// [`object`] for a nullable value: null (or, with `#[serde(default)]`, absent) is `None`.
pub fn nullable_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(bound = "T: Deserialize<'de>")]
    struct Wrapped<T>(#[serde(deserialize_with = "object")] T);

    Option::<Wrapped<T>>::deserialize(deserializer).map(|wrapped| wrapped.map(|Wrapped(value)| value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: Option<i64>,
        b: Option<i64>,
    }

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "object")]
        pair: Pair,
        #[serde(default, deserialize_with = "nullable_object")]
        maybe: Option<Pair>,
    }

    #[test]
    fn an_object_field_is_read_from_an_object_only() {
        let holder: Holder = serde_json::from_str(r#"{"pair": {"a": 1}, "maybe": {"b": 2}}"#).unwrap();
        assert_eq!(holder.pair, Pair { a: Some(1), b: None });
        assert_eq!(holder.maybe, Some(Pair { a: None, b: Some(2) }));
        for absent_or_null in [r#"{"pair": {}}"#, r#"{"pair": {}, "maybe": null}"#] {
            assert_eq!(serde_json::from_str::<Holder>(absent_or_null).unwrap().maybe, None);
        }
        // Plain serde takes the array of fields; `object` does not.
        assert!(serde_json::from_str::<Pair>("[null, null]").is_ok());
        for array in [r#"{"pair": [null, null]}"#, r#"{"pair": {}, "maybe": [1, 2]}"#] {
            let error = serde_json::from_str::<Holder>(array).unwrap_err();
            assert!(error.to_string().contains("expected a JSON object"), "{error}");
        }
    }

    #[test]
    fn a_bounded_list_takes_up_to_its_maximum_and_refuses_the_item_beyond() {
        let three: Bounded<i64, 3> = serde_json::from_str("[1, 2, 3]").unwrap();
        assert_eq!(three.into_inner(), [1, 2, 3]);
        let error = serde_json::from_str::<Bounded<i64, 3>>("[1, 2, 3, 4]").unwrap_err();
        assert!(error.to_string().starts_with("must list at most 3 items"), "{error}");
        // Refused at the fourth item: what follows, even malformed, is never read.
        let error = serde_json::from_str::<Bounded<i64, 3>>("[1, 2, 3, 4, not json").unwrap_err();
        assert!(error.to_string().starts_with("must list at most 3 items"), "{error}");
    }

    #[test]
    fn the_first_violations_are_kept_and_every_one_is_counted() {
        let violations: Violations = (0..1_000).map(|i| FieldError::body(format!("/{i}"), "bad")).collect();
        assert_eq!(violations.len(), MAX_REPORTED);
        assert_eq!(violations.total(), 1_000);
        assert!(violations.is_full());
        assert_eq!(violations[0].path.to_string(), "/0");
        assert_eq!(violations[MAX_REPORTED - 1].path.to_string(), format!("/{}", MAX_REPORTED - 1));
        assert!(violations.into_result(()).is_err());
    }

    #[test]
    fn no_violation_is_valid() {
        let violations = Violations::new();
        assert!(!violations.is_full());
        assert_eq!(violations.into_result(7), Ok(7));
    }
}
