//! The option lists clients choose from (time zones, languages, formats,
//! countries, sites, application roles), per deployment environment.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The deployment environment: some lists (the applications) differ per environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Dev,
    Test,
    Prod,
}

impl Stage {
    /// Parses `dev`, `test` or `prod`.
    pub fn parse(name: &str) -> Option<Stage> {
        match name {
            "dev" => Some(Stage::Dev),
            "test" => Some(Stage::Test),
            "prod" => Some(Stage::Prod),
            _ => None,
        }
    }
}

/// A language the platform's interface speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Language {
    pub code: String,
    pub name: String,
}

/// The patterns allowed for one kind of format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatOptions {
    pub patterns: Vec<String>,
}

/// A web site: an application of the platform, or a network or social site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub url: String,
}

/// A country, ISO 3166-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Country {
    pub code: &'static str,
    pub alpha3: &'static str,
    pub name: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Configured {
    languages: Vec<Language>,
    week_begin: Vec<String>,
    number_format: FormatOptions,
    date_format: FormatOptions,
    hour_format: FormatOptions,
    app_roles: BTreeMap<String, Vec<String>>,
    network_sites: Vec<Site>,
    social_sites: Vec<Site>,
    applications: BTreeMap<String, Vec<Site>>,
}

/// Every option list, loaded once.
#[derive(Debug)]
pub struct Catalogue {
    pub timezones: Vec<String>,
    pub languages: Vec<Language>,
    pub week_begin: Vec<String>,
    pub number_format: FormatOptions,
    pub date_format: FormatOptions,
    pub hour_format: FormatOptions,
    pub countries: Vec<Country>,
    pub app_roles: BTreeMap<String, Vec<String>>,
    pub network_sites: Vec<Site>,
    pub social_sites: Vec<Site>,
    applications: BTreeMap<String, Vec<Site>>,
}

impl Catalogue {
    /// The catalogue, built on first use from the embedded configuration and the IANA database.
    pub fn get() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(Catalogue::load)
    }

    fn load() -> Catalogue {
        let configured: Configured = serde_json::from_str(include_str!("../../config/catalogue.json"))
            .expect("config/catalogue.json is valid (checked by a unit test)");
        Catalogue {
            timezones: timezones(),
            countries: isocountry::CountryCode::iter()
                .map(|c| Country {
                    code: c.alpha2(),
                    alpha3: c.alpha3(),
                    name: c.name(),
                })
                .collect(),
            languages: configured.languages,
            week_begin: configured.week_begin,
            number_format: configured.number_format,
            date_format: configured.date_format,
            hour_format: configured.hour_format,
            app_roles: configured.app_roles,
            network_sites: configured.network_sites,
            social_sites: configured.social_sites,
            applications: configured.applications,
        }
    }

    /// The platform's applications in `stage`.
    pub fn applications(&self, stage: Stage) -> &[Site] {
        let key = match stage {
            Stage::Dev => "dev",
            Stage::Test => "test",
            Stage::Prod => "prod",
        };
        self.applications.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether `application` is one of the platform's applications in `stage`.
    pub fn has_application(&self, stage: Stage, application: &str) -> bool {
        self.applications(stage).iter().any(|site| site.id == application)
    }

    /// Whether `application` offers `role` (getAppRoles).
    pub fn offers_role(&self, application: &str, role: &str) -> bool {
        self.app_roles.get(application).is_some_and(|roles| roles.iter().any(|r| r == role))
    }

    /// Whether `code` is an offered language.
    pub fn has_language(&self, code: &str) -> bool {
        self.languages.iter().any(|l| l.code == code)
    }

    /// Whether `name` is a canonical IANA time zone.
    pub fn has_timezone(&self, name: &str) -> bool {
        self.timezones.binary_search_by(|tz| tz.as_str().cmp(name)).is_ok()
    }
}

/// Canonical IANA zone names (`Area/Location`, plus `UTC`), sorted.
fn timezones() -> Vec<String> {
    const AREAS: [&str; 10] = [
        "Africa/",
        "America/",
        "Antarctica/",
        "Arctic/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
        "Pacific/",
    ];
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.to_string())
        .filter(|name| name == "UTC" || AREAS.iter().any(|area| name.starts_with(area)))
        .collect();
    zones.sort();
    zones.dedup();
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_loads_with_real_data() {
        let catalogue = Catalogue::get();
        assert!(catalogue.has_timezone("Europe/Rome"));
        assert!(catalogue.has_timezone("UTC"));
        assert!(!catalogue.has_timezone("Mars/Olympus"));
        assert!(catalogue.timezones.len() > 300);
        assert!(catalogue.countries.iter().any(|c| c.code == "IT" && c.alpha3 == "ITA"));
        assert!(catalogue.countries.len() >= 249);
        assert!(catalogue.has_language("it"));
        for stage in [Stage::Dev, Stage::Test, Stage::Prod] {
            assert!(!catalogue.applications(stage).is_empty());
        }
        assert!(catalogue.applications(Stage::Dev).len() > catalogue.applications(Stage::Prod).len());
    }
}
