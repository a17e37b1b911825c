//! Which key signs a customer's message: the key selection of getSigningDkim and
//! signMessage, as docs/dkim.md states it.

use dkim_engine::names::{Alignment, alignment};

use crate::domain::ids::DkimId;

/// What selection needs to know of a customer's key.
pub trait Candidate {
    fn id(&self) -> DkimId;
    fn domain(&self) -> &str;
    fn active(&self) -> bool;
}

/// The key chosen to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection<'a, K> {
    /// One of the customer's keys, and how its domain aligns with the sender domain.
    Customer { key: &'a K, alignment: Alignment },
    /// The customer has no usable key: the platform key signs.
    Platform,
}

/// The signing key for `sender_domain` among a customer's `keys`:
/// 1. an active key whose domain is the sender domain (the default first, if it is one);
/// 2. otherwise the default key (also when no sender domain is given);
/// 3. otherwise the platform key.
///
/// Inactive keys are never chosen. Without a sender domain a customer key aligns
/// EXACT: it signs its own domain.
pub fn select<'a, K: Candidate>(keys: &'a [K], default: Option<DkimId>, sender_domain: Option<&str>) -> Selection<'a, K> {
    let usable = || keys.iter().filter(|key| key.active());
    let default_key = usable().find(|key| Some(key.id()) == default);
    let exact = sender_domain.and_then(|domain| {
        default_key
            .filter(|key| key.domain() == domain)
            .or_else(|| usable().filter(|key| key.domain() == domain).min_by_key(|key| key.id()))
    });
    match exact.or(default_key) {
        Some(key) => Selection::Customer {
            key,
            alignment: sender_domain.map_or(Alignment::Exact, |domain| alignment(key.domain(), domain)),
        },
        None => Selection::Platform,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Key(DkimId, &'static str, bool);

    impl Candidate for Key {
        fn id(&self) -> DkimId {
            self.0
        }
        fn domain(&self) -> &str {
            self.1
        }
        fn active(&self) -> bool {
            self.2
        }
    }

    fn chosen(selection: Selection<'_, Key>) -> Option<(DkimId, Alignment)> {
        match selection {
            Selection::Customer { key, alignment } => Some((key.0, alignment)),
            Selection::Platform => None,
        }
    }

    const KEYS: [Key; 4] = [
        Key(DkimId(1), "acme.test", true),
        Key(DkimId(2), "news.acme.test", true),
        Key(DkimId(3), "other.test", false),
        Key(DkimId(4), "news.acme.test", true),
    ];

    #[test]
    fn the_key_of_the_sender_domain_signs() {
        assert_eq!(
            chosen(select(&KEYS, Some(DkimId(1)), Some("news.acme.test"))),
            Some((DkimId(2), Alignment::Exact))
        );
    }

    #[test]
    fn among_keys_of_one_domain_the_default_then_the_oldest_signs() {
        assert_eq!(
            chosen(select(&KEYS, Some(DkimId(4)), Some("news.acme.test"))),
            Some((DkimId(4), Alignment::Exact))
        );
        assert_eq!(
            chosen(select(&KEYS, Some(DkimId(1)), Some("news.acme.test"))),
            Some((DkimId(2), Alignment::Exact))
        );
    }

    #[test]
    fn otherwise_the_default_signs_with_its_alignment() {
        assert_eq!(
            chosen(select(&KEYS, Some(DkimId(2)), Some("shop.acme.test"))),
            Some((DkimId(2), Alignment::Relaxed))
        );
        assert_eq!(
            chosen(select(&KEYS, Some(DkimId(1)), Some("globex.test"))),
            Some((DkimId(1), Alignment::None))
        );
        assert_eq!(chosen(select(&KEYS, Some(DkimId(2)), None)), Some((DkimId(2), Alignment::Exact)));
    }

    #[test]
    fn inactive_keys_never_sign() {
        assert_eq!(
            chosen(select(&KEYS, Some(DkimId(1)), Some("other.test"))),
            Some((DkimId(1), Alignment::None))
        );
        assert_eq!(chosen(select(&KEYS, Some(DkimId(3)), Some("other.test"))), None);
    }

    #[test]
    fn without_keys_or_default_the_platform_key_signs() {
        assert_eq!(chosen(select::<Key>(&[], None, Some("acme.test"))), None);
        assert_eq!(chosen(select(&KEYS[..1], None, Some("globex.test"))), None);
    }
}
