//! Names in DKIM: signing domains, selectors, and how a key's domain aligns with a sender's
//! domain (DMARC, RFC 7489 §3.1), so the signer can prefer a key whose signature passes DMARC.

use serde::{Deserialize, Serialize};

const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;
const MAX_SELECTOR_LEN: usize = 63;

/// A DKIM signing domain or sender/recipient domain: lowercased, one trailing dot removed; ASCII (A-labels `xn--` allowed);
/// at least two labels; labels 1–63 of [a-z0-9-] not starting or ending with '-'; total <= 253; TLD not all digits.
pub fn domain_name(input: &str) -> Result<String, &'static str> {
    if input.is_empty() {
        return Err("is empty");
    }
    if !input.is_ascii() {
        return Err("is not a valid host name: give international names as A-labels (xn--...)");
    }
    let lower = input.to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if name.len() > MAX_DOMAIN_LEN {
        return Err("is not a valid host name: it is longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err("is not a valid host name: it needs at least two labels");
    }
    for label in &labels {
        if label.is_empty() {
            return Err("is not a valid host name: a label is empty");
        }
        if label.len() > MAX_LABEL_LEN {
            return Err("is not a valid host name: a label is longer than 63 characters");
        }
        if !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err("is not a valid host name: labels hold only letters, digits and '-'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("is not a valid host name: a label starts or ends with '-'");
        }
    }
    // An all-digit top-level label is an IP address, never a domain.
    if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err("is not a valid host name: the top-level label is all digits");
    }
    Ok(name.to_owned())
}

/// A selector: dot-separated labels of letters, digits, '_' and '-', each starting and ending with a letter
/// or digit (the API's published pattern), at most 63 characters; lowercased.
pub fn selector(input: &str) -> Result<String, &'static str> {
    if input.is_empty() {
        return Err("is empty");
    }
    if input.len() > MAX_SELECTOR_LEN {
        return Err("is longer than 63 characters");
    }
    for label in input.split('.') {
        if label.is_empty() {
            return Err("is not a valid selector: a label is empty");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err("is not a valid selector: labels hold only letters, digits, '_' and '-'");
        }
        if !label.starts_with(|c: char| c.is_ascii_alphanumeric()) || !label.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("is not a valid selector: a label starts or ends with '-' or '_'");
        }
    }
    Ok(input.to_ascii_lowercase())
}

/// The domain of an address ("Bounce <bounce@Acme.Test>", "bounce@acme.test") or a bare domain ("acme.test"),
/// validated by [`domain_name`].
pub fn domain_of(address_or_domain: &str) -> Result<String, &'static str> {
    let text = address_or_domain.trim();
    let address = match text.rfind('<') {
        Some(open) => {
            let (inside, _) = text[open + 1..].split_once('>').ok_or("is not a valid address: '<' without '>'")?;
            inside.trim()
        }
        None => text,
    };
    // The last '@', since a quoted local part may hold one too.
    let domain = match address.rsplit_once('@') {
        Some((_, "")) => return Err("is not a valid address: nothing follows '@'"),
        Some((_, domain)) => domain,
        None => address,
    };
    domain_name(domain)
}

/// The organizational (registrable) domain, from the public suffix list; unknown TLDs such as `.test` count
/// as public suffixes of one label ("news.acme.test" -> "acme.test").
pub fn organizational_domain(domain: &str) -> String {
    let name = normalized(domain);
    // A name that is itself a public suffix is its own organizational domain (RFC 7489 §3.2).
    match psl::domain_str(&name) {
        Some(organizational) => organizational.to_owned(),
        None => name,
    }
}

/// How a key's domain relates to the domain asked for (DMARC identifier alignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Alignment {
    Exact,
    Relaxed,
    None,
}

/// EXACT when the key's domain is the asked domain, RELAXED when both share the organizational domain,
/// NONE otherwise.
pub fn alignment(key_domain: &str, asked_domain: &str) -> Alignment {
    let (key, asked) = (normalized(key_domain), normalized(asked_domain));
    if key == asked {
        Alignment::Exact
    } else if organizational_domain(&key) == organizational_domain(&asked) {
        Alignment::Relaxed
    } else {
        Alignment::None
    }
}

/// Lowercase without the trailing dot, so names compare as DNS compares them.
fn normalized(domain: &str) -> String {
    let lower = domain.to_ascii_lowercase();
    match lower.strip_suffix('.') {
        Some(name) => name.to_owned(),
        None => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_lowercased_without_the_trailing_dot() {
        assert_eq!(domain_name("Acme.Test"), Ok("acme.test".into()));
        assert_eq!(domain_name("mail.acme.test."), Ok("mail.acme.test".into()));
        assert_eq!(domain_name("xn--mnchen-3ya.example"), Ok("xn--mnchen-3ya.example".into()));
        assert_eq!(domain_name("a-1.b2.co.uk"), Ok("a-1.b2.co.uk".into()));
        let longest = format!(
            "{}.test",
            ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(56)].join(".")
        );
        assert_eq!(longest.len(), 253);
        assert_eq!(domain_name(&longest), Ok(longest.clone()));
    }

    #[test]
    fn bad_domains_are_refused_with_the_reason() {
        let cases = [
            ("", "is empty"),
            (
                "münchen.example",
                "is not a valid host name: give international names as A-labels (xn--...)",
            ),
            ("localhost", "is not a valid host name: it needs at least two labels"),
            ("test.", "is not a valid host name: it needs at least two labels"),
            (".", "is not a valid host name: it needs at least two labels"),
            ("acme..test", "is not a valid host name: a label is empty"),
            ("acme.test..", "is not a valid host name: a label is empty"),
            (
                "_dmarc.acme.test",
                "is not a valid host name: labels hold only letters, digits and '-'",
            ),
            (
                "acme test.example",
                "is not a valid host name: labels hold only letters, digits and '-'",
            ),
            ("-acme.test", "is not a valid host name: a label starts or ends with '-'"),
            ("acme-.test", "is not a valid host name: a label starts or ends with '-'"),
            ("192.168.0.1", "is not a valid host name: the top-level label is all digits"),
        ];
        for (input, reason) in cases {
            assert_eq!(domain_name(input), Err(reason), "{input}");
        }
        let long_label = format!("{}.test", "a".repeat(64));
        assert_eq!(
            domain_name(&long_label),
            Err("is not a valid host name: a label is longer than 63 characters")
        );
        let too_long = format!(
            "{}.test",
            ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(57)].join(".")
        );
        assert_eq!(
            domain_name(&too_long),
            Err("is not a valid host name: it is longer than 253 characters")
        );
    }

    #[test]
    fn selectors_are_dns_labels_lowercased() {
        for (input, expected) in [
            ("s2048", "s2048"),
            ("PF1", "pf1"),
            ("2024_q1.Mail-Out", "2024_q1.mail-out"),
            ("a", "a"),
        ] {
            assert_eq!(selector(input), Ok(expected.into()), "{input}");
        }
        assert_eq!(selector(&"s".repeat(63)), Ok("s".repeat(63)));
    }

    #[test]
    fn bad_selectors_are_refused_with_the_reason() {
        let cases = [
            ("", "is empty"),
            ("s1..s2", "is not a valid selector: a label is empty"),
            (".s1", "is not a valid selector: a label is empty"),
            ("s 1", "is not a valid selector: labels hold only letters, digits, '_' and '-'"),
            ("s1/2", "is not a valid selector: labels hold only letters, digits, '_' and '-'"),
            ("-s1", "is not a valid selector: a label starts or ends with '-' or '_'"),
            ("s1.x-", "is not a valid selector: a label starts or ends with '-' or '_'"),
            ("_s1", "is not a valid selector: a label starts or ends with '-' or '_'"),
        ];
        for (input, reason) in cases {
            assert_eq!(selector(input), Err(reason), "{input}");
        }
        assert_eq!(selector(&"s".repeat(64)), Err("is longer than 63 characters"));
    }

    #[test]
    fn the_domain_of_an_address_or_a_domain() {
        for input in [
            "Bounce <bounce@Acme.Test>",
            "\"Acme, Inc.\" <bounce@acme.test>",
            "<bounce@acme.test>",
            "bounce@acme.test",
            " bounce@ACME.test. ",
            "\"a@b\"@acme.test",
            "acme.test",
        ] {
            assert_eq!(domain_of(input), Ok("acme.test".into()), "{input}");
        }
        assert_eq!(domain_of("bounce@"), Err("is not a valid address: nothing follows '@'"));
        assert_eq!(
            domain_of("Bounce <bounce@acme.test"),
            Err("is not a valid address: '<' without '>'")
        );
        assert_eq!(
            domain_of("bounce@localhost"),
            Err("is not a valid host name: it needs at least two labels")
        );
        assert_eq!(domain_of(""), Err("is empty"));
    }

    #[test]
    fn organizational_domains_come_from_the_public_suffix_list() {
        let cases = [
            ("news.acme.test", "acme.test"),
            ("acme.test", "acme.test"),
            ("a.b.example.co.uk", "example.co.uk"),
            ("Mail.Example.COM.", "example.com"),
            ("co.uk", "co.uk"),
        ];
        for (domain, organizational) in cases {
            assert_eq!(organizational_domain(domain), organizational, "{domain}");
        }
    }

    #[test]
    fn alignment_is_exact_relaxed_or_none() {
        assert_eq!(alignment("acme.test", "acme.test"), Alignment::Exact);
        assert_eq!(alignment("Acme.Test.", "acme.test"), Alignment::Exact);
        assert_eq!(alignment("acme.test", "news.acme.test"), Alignment::Relaxed);
        assert_eq!(alignment("mail.example.co.uk", "example.co.uk"), Alignment::Relaxed);
        assert_eq!(alignment("acme.test", "other.test"), Alignment::None);
        assert_eq!(alignment("example.co.uk", "other.co.uk"), Alignment::None);
        assert_eq!(alignment("mail.platform.test", "acme.test"), Alignment::None);
    }

    #[test]
    fn alignment_serializes_in_upper_case() {
        assert_eq!(serde_json::to_string(&Alignment::Relaxed).unwrap(), "\"RELAXED\"");
        assert_eq!(serde_json::from_str::<Alignment>("\"NONE\"").unwrap(), Alignment::None);
    }
}
