//! A user's preferences, validated against the catalogue of options.

use serde::{Deserialize, Serialize};

use super::catalogue::{Catalogue, FormatOptions};
use super::validation::{Violations, nullable_object};

/// A display format, by pattern (such as `dd/MM/yyyy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub pattern: String,
}

/// Preferences as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    pub timezone: String,
    pub language: String,
    pub week_begin: String,
    pub number_format: Format,
    pub date_format: Format,
    pub hour_format: Format,
}

impl Preferences {
    /// What a user has before choosing anything.
    pub fn defaults() -> Preferences {
        Preferences {
            timezone: "Europe/Rome".into(),
            language: "en".into(),
            week_begin: "MONDAY".into(),
            number_format: Format {
                pattern: "#,##0.00".into(),
            },
            date_format: Format {
                pattern: "dd/MM/yyyy".into(),
            },
            hour_format: Format { pattern: "HH:mm".into() },
        }
    }
}

/// Preferences as they arrive: every field optional so that each missing one is named.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPreferences {
    pub timezone: Option<String>,
    pub language: Option<String>,
    pub week_begin: Option<String>,
    #[serde(default, deserialize_with = "nullable_object")]
    pub number_format: Option<RawFormat>,
    #[serde(default, deserialize_with = "nullable_object")]
    pub date_format: Option<RawFormat>,
    #[serde(default, deserialize_with = "nullable_object")]
    pub hour_format: Option<RawFormat>,
}

/// A format as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawFormat {
    pub pattern: Option<String>,
}

impl RawPreferences {
    /// Checks every value against the catalogue, naming each bad field.
    pub fn validate(self, catalogue: &Catalogue) -> Result<Preferences, Violations> {
        let mut violations = Violations::new();
        let timezone = pick(
            self.timezone,
            "/timezone",
            |tz| catalogue.has_timezone(tz),
            "an IANA time zone from the options",
            &mut violations,
        );
        let language = pick(
            self.language,
            "/language",
            |l| catalogue.has_language(l),
            "a language code from the options",
            &mut violations,
        );
        let week_begin = pick(
            self.week_begin,
            "/weekBegin",
            |w| catalogue.week_begin.iter().any(|o| o == w),
            "one of the weekBegin options",
            &mut violations,
        );
        let number_format = format(self.number_format, "/numberFormat", &catalogue.number_format, &mut violations);
        let date_format = format(self.date_format, "/dateFormat", &catalogue.date_format, &mut violations);
        let hour_format = format(self.hour_format, "/hourFormat", &catalogue.hour_format, &mut violations);
        match (timezone, language, week_begin, number_format, date_format, hour_format) {
            (Some(timezone), Some(language), Some(week_begin), Some(number_format), Some(date_format), Some(hour_format)) => violations
                .into_result(Preferences {
                    timezone,
                    language,
                    week_begin,
                    number_format,
                    date_format,
                    hour_format,
                }),
            _ => Err(violations.into_result(()).expect_err("a missing value was recorded as a violation")),
        }
    }
}

fn pick(value: Option<String>, pointer: &str, allowed: impl Fn(&str) -> bool, what: &str, violations: &mut Violations) -> Option<String> {
    match value {
        Some(value) if allowed(&value) => Some(value),
        Some(_) => {
            violations.body(pointer, format!("must be {what}"));
            None
        }
        None => {
            violations.body(pointer, "is required");
            None
        }
    }
}

fn format(value: Option<RawFormat>, pointer: &str, options: &FormatOptions, violations: &mut Violations) -> Option<Format> {
    let Some(raw) = value else {
        violations.body(pointer, "is required");
        return None;
    };
    pick(
        raw.pattern,
        &format!("{pointer}/pattern"),
        |p| options.patterns.iter().any(|o| o == p),
        "one of the pattern options",
        violations,
    )
    .map(|pattern| Format { pattern })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(defaults: &Preferences) -> RawPreferences {
        let format = |f: &Format| {
            Some(RawFormat {
                pattern: Some(f.pattern.clone()),
            })
        };
        RawPreferences {
            timezone: Some(defaults.timezone.clone()),
            language: Some(defaults.language.clone()),
            week_begin: Some(defaults.week_begin.clone()),
            number_format: format(&defaults.number_format),
            date_format: format(&defaults.date_format),
            hour_format: format(&defaults.hour_format),
        }
    }

    #[test]
    fn the_defaults_are_valid_options() {
        let defaults = Preferences::defaults();
        assert_eq!(raw(&defaults).validate(Catalogue::get()).unwrap(), defaults);
    }

    #[test]
    fn each_bad_or_missing_value_is_named() {
        let mut input = raw(&Preferences::defaults());
        input.timezone = Some("Europe/Atlantis".into());
        input.language = None;
        input.hour_format = Some(RawFormat {
            pattern: Some("HH".into()),
        });
        let errors = input.validate(Catalogue::get()).unwrap_err();
        let paths: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["/timezone", "/language", "/hourFormat/pattern"]);
    }
}
