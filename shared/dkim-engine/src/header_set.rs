//! The header set: which header fields a signature covers, and the recommended names.
//! It is a module of its own so that the parser, which marks each field's recommended
//! name once, does not depend on the signer, which builds on the parsed message.

/// Which header fields a signature covers: every instance present of each name, and
/// From always, once more than present, so that no From can be added.
#[derive(Debug, Clone, Copy)]
pub enum HeaderSet<'a> {
    /// From, To, Cc, Subject, Date, Message-ID, MIME-Version, Content-Type,
    /// Content-Transfer-Encoding, Reply-To, In-Reply-To, References, List-Unsubscribe,
    /// List-Unsubscribe-Post, Feedback-ID.
    Recommended,
    /// The given names (case-insensitive), e.g. a feedback loop's signable headers.
    Listed(&'a [String]),
}

impl HeaderSet<'_> {
    /// Whether the set covers a field named `name`, whose index in the recommended
    /// set is `recommended`.
    pub(crate) fn covers(&self, name: &[u8], recommended: Option<u8>) -> bool {
        match self {
            HeaderSet::Recommended => recommended.is_some(),
            HeaderSet::Listed(listed) => {
                recommended == Some(FROM) || listed.iter().any(|listed| name.eq_ignore_ascii_case(listed.as_bytes()))
            }
        }
    }
}

/// The recommended set, lowercase, From first.
pub(crate) const RECOMMENDED: [&str; 15] = [
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "reply-to",
    "in-reply-to",
    "references",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
];

/// From's index in `RECOMMENDED`.
pub(crate) const FROM: u8 = 0;

/// For each name length, the indices in `RECOMMENDED` of the names that long, so
/// that a field name is compared with two names at most.
const BY_LENGTH: [[u8; 2]; 26] = {
    let mut table = [[u8::MAX; 2]; 26];
    let mut i = 0;
    while i < RECOMMENDED.len() {
        let slot = &mut table[RECOMMENDED[i].len()];
        let free = if slot[0] == u8::MAX { 0 } else { 1 };
        assert!(slot[free] == u8::MAX, "at most two recommended names of one length");
        slot[free] = i as u8;
        i += 1;
    }
    table
};

/// The index in the recommended set of a field name, in any case. `name` is printable
/// ASCII (the parser checks), where setting bit 5 lowercases a letter and turns no
/// other byte into a lowercase letter or a hyphen: one OR per byte compares it with
/// the lowercase names.
pub(crate) fn recommended_index(name: &[u8]) -> Option<u8> {
    let candidates = BY_LENGTH.get(name.len())?;
    candidates.iter().copied().filter(|&i| i != u8::MAX).find(|&i| {
        let recommended = RECOMMENDED[usize::from(i)].as_bytes();
        name.iter().zip(recommended).fold(0, |diff, (&b, &r)| diff | ((b | 0x20) ^ r)) == 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_names_are_found_in_any_case() {
        for (index, name) in RECOMMENDED.iter().enumerate() {
            assert_eq!(recommended_index(name.as_bytes()), Some(index as u8));
            assert_eq!(recommended_index(name.to_ascii_uppercase().as_bytes()), Some(index as u8));
        }
        for name in [
            "",
            "X-Mailer",
            "Received",
            "froM2",
            "Fr0m",
            "Reply_To",
            "content-transfer-encodings",
        ] {
            assert_eq!(recommended_index(name.as_bytes()), None, "{name}");
        }
    }
}
