//! A message to sign: its header fields parsed once, its body hashed once, on first use.
//!
//! The input is borrowed, not copied. Its line ends may be CRLF, bare LF or bare CR;
//! signatures cover the CRLF form, and `with_signatures` returns that form.

use std::fmt;
use std::sync::OnceLock;

use memchr::{memchr, memchr2};

use crate::canon::{self, BodyHash};
use crate::header_set::{FROM, recommended_index};
use crate::scan::{CR, LF, SP, TAB};

/// The largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Why a message cannot be signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageError {
    #[error("the message is larger than {MAX_MESSAGE_BYTES} bytes (10 MiB), the most that can be signed")]
    TooLarge,
    #[error("the message is empty")]
    Empty,
    #[error(
        "header line {line} has no colon: every line before the blank line that ends the headers must be a \
         `Name: value` field or the indented continuation of one"
    )]
    MalformedHeader { line: usize },
    #[error("header line {line} is indented like a continuation, but there is no header field above it to continue")]
    OrphanContinuation { line: usize },
    #[error(
        "header line {line} has an invalid field name: a name is one or more printable ASCII characters, \
         without spaces or colons"
    )]
    InvalidFieldName { line: usize },
    #[error("the message has no From header field, which every DKIM signature must cover")]
    MissingFrom,
}

/// One header field: its name (without trailing white space) and its raw value
/// (after the colon, up to but excluding the line end that closes the field).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderField<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: &'a [u8],
    /// Whether the value spans several lines.
    pub(crate) folded: bool,
    /// The name's index in the recommended set (From is 0), found once here.
    pub(crate) recommended: Option<u8>,
}

/// A parsed message, ready to sign with any number of keys (`Message::sign`, in
/// [`crate::sign`]).
pub struct Message<'a> {
    raw: &'a [u8],
    fields: Vec<HeaderField<'a>>,
    body_start: usize,
    header_bare_line_ends: bool,
    body_hash: OnceLock<BodyHash>,
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The content is the customer's mail: sizes only.
        f.debug_struct("Message")
            .field("bytes", &self.raw.len())
            .field("header_fields", &self.fields.len())
            .field("body_bytes", &(self.raw.len() - self.body_start))
            .finish_non_exhaustive()
    }
}

impl<'a> Message<'a> {
    /// Parses the header fields of `raw` and finds its body.
    pub fn parse(raw: &'a [u8]) -> Result<Message<'a>, MessageError> {
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(MessageError::TooLarge);
        }
        if raw.is_empty() {
            return Err(MessageError::Empty);
        }
        let mut fields: Vec<HeaderField<'a>> = Vec::with_capacity(24);
        let mut header_bare_line_ends = false;
        let mut value_start = 0;
        let mut pos = 0;
        let mut line = 0;
        // Without a blank line, the message is all header fields and the body is empty.
        let body_start = loop {
            if pos == raw.len() {
                break pos;
            }
            line += 1;
            let (end, next) = match memchr2(CR, LF, &raw[pos..]) {
                Some(offset) => {
                    let end = pos + offset;
                    if raw[end] == CR && raw.get(end + 1) == Some(&LF) {
                        (end, end + 2)
                    } else {
                        header_bare_line_ends = true;
                        (end, end + 1)
                    }
                }
                None => (raw.len(), raw.len()),
            };
            if end == pos {
                break next;
            }
            if matches!(raw[pos], SP | TAB) {
                let field = fields.last_mut().ok_or(MessageError::OrphanContinuation { line })?;
                field.value = &raw[value_start..end];
                field.folded = true;
            } else {
                // A name is printable ASCII up to the colon, maybe with white space before it.
                let text = &raw[pos..end];
                let name_len = text
                    .iter()
                    .position(|&b| b == b':' || !(b'!'..=b'~').contains(&b))
                    .unwrap_or(text.len());
                let colon = name_len
                    + text[name_len..]
                        .iter()
                        .position(|&b| b != SP && b != TAB)
                        .unwrap_or(text.len() - name_len);
                if text.get(colon) != Some(&b':') || name_len == 0 {
                    return Err(if memchr(b':', text).is_some() {
                        MessageError::InvalidFieldName { line }
                    } else {
                        MessageError::MalformedHeader { line }
                    });
                }
                value_start = pos + colon + 1;
                let name = &text[..name_len];
                fields.push(HeaderField {
                    name,
                    value: &raw[value_start..end],
                    folded: false,
                    recommended: recommended_index(name),
                });
            }
            pos = next;
        };
        if !fields.iter().any(|field| field.recommended == Some(FROM)) {
            return Err(MessageError::MissingFrom);
        }
        Ok(Message {
            raw,
            fields,
            body_start,
            header_bare_line_ends,
            body_hash: OnceLock::new(),
        })
    }

    /// Domain of the (first) From header's address (handles "Name <a@b>", comments, group-less plain a@b), lowercased.
    pub fn from_domain(&self) -> Option<String> {
        let from = self.fields.iter().find(|field| field.recommended == Some(FROM))?;
        address_domain(from.value)
    }

    /// The message to send: the signature fields prepended to the message as signed.
    ///
    /// Its line ends are all CRLF: if the input had bare LF or bare CR line ends, this
    /// is the normalized copy, and a last line without a line end gets one. White
    /// space after the body's last line end (or ending a last line that had none) is
    /// left out: canonicalization ignores it and verifiers disagree on it.
    pub fn with_signatures(&self, fields: &[String]) -> Vec<u8> {
        // A signature has hashed the body, learning on the way whether its line ends need
        // normalizing. Without one the body is not hashed just for that: it is copied line
        // end by line end, which leaves CRLF as it is.
        let (sent_len, bare_line_ends) = match self.body_hash.get() {
            Some(body) => (body.sent_len, body.bare_line_ends),
            None => (canon::sent_len(&self.raw[self.body_start..]), true),
        };
        let sent = &self.raw[..self.body_start + sent_len];
        let mut out = Vec::with_capacity(fields.iter().map(String::len).sum::<usize>() + sent.len() + 2);
        for field in fields {
            out.extend_from_slice(field.as_bytes());
        }
        if self.header_bare_line_ends || bare_line_ends {
            push_crlf_normalized(sent, &mut out);
        } else {
            out.extend_from_slice(sent);
        }
        if !matches!(sent.last(), Some(&(CR | LF))) {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// The header fields, top to bottom.
    pub(crate) fn fields(&self) -> &[HeaderField<'a>] {
        &self.fields
    }

    /// The relaxed body hash, computed on first use.
    pub(crate) fn body_hash(&self) -> &BodyHash {
        self.body_hash.get_or_init(|| canon::relaxed_body(&self.raw[self.body_start..]))
    }
}

/// Appends `raw` to `out` with every bare CR and bare LF made CRLF.
fn push_crlf_normalized(raw: &[u8], out: &mut Vec<u8>) {
    let mut pos = 0;
    while let Some(offset) = memchr2(CR, LF, &raw[pos..]) {
        let end = pos + offset;
        out.extend_from_slice(&raw[pos..end]);
        out.extend_from_slice(b"\r\n");
        pos = if raw[end] == CR && raw.get(end + 1) == Some(&LF) {
            end + 2
        } else {
            end + 1
        };
    }
    out.extend_from_slice(&raw[pos..]);
}

/// The lowercased domain of the first address in an address-list field value.
fn address_domain(value: &[u8]) -> Option<String> {
    // One pass: comments are dropped, quoted strings kept whole (they may hold '@',
    // '<' or ','), and the address is the first <...>, else the first mailbox's text.
    let mut address = Vec::with_capacity(value.len());
    let mut comment_depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = false;
    for &b in value {
        if escaped {
            if comment_depth == 0 {
                address.push(b);
            }
            escaped = false;
        } else if comment_depth > 0 {
            match b {
                b'\\' => escaped = true,
                b'(' => comment_depth += 1,
                b')' => comment_depth -= 1,
                _ => {}
            }
        } else if quoted {
            address.push(b);
            match b {
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else {
            match b {
                b'(' => comment_depth = 1,
                b'"' => {
                    quoted = true;
                    address.push(b);
                }
                b'<' => {
                    address.clear();
                    angle = true;
                }
                b'>' if angle => break,
                // A group's display name ends at the colon.
                b':' if !angle => address.clear(),
                b',' | b';' if !angle => {
                    if address.contains(&b'@') {
                        break;
                    }
                    address.clear();
                }
                _ => address.push(b),
            }
        }
    }
    // A quoted local part may hold '@'; the domain follows the last one.
    let at = address.iter().rposition(|&b| b == b'@')?;
    let domain = address[at + 1..].trim_ascii();
    let valid = !domain.is_empty() && domain.iter().all(|&b| b > b' ' && b != 0x7f && !b"()<>[]:;@\\,\"".contains(&b));
    let domain = std::str::from_utf8(domain).ok().filter(|_| valid)?;
    Some(domain.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Message<'_>, MessageError> {
        Message::parse(raw)
    }

    #[test]
    fn parses_fields_folds_and_the_body() {
        let raw = b"From: a@example.com\r\nSubject: one\r\n\ttwo\r\n  three\r\nX-Empty:\r\n\r\nBody\r\n";
        let message = parse(raw).unwrap();
        let fields: Vec<(&[u8], &[u8], bool)> = message.fields().iter().map(|f| (f.name, f.value, f.folded)).collect();
        assert_eq!(
            fields,
            [
                (&b"From"[..], &b" a@example.com"[..], false),
                (b"Subject", b" one\r\n\ttwo\r\n  three", true),
                (b"X-Empty", b"", false),
            ]
        );
        assert_eq!(&raw[message.body_start..], b"Body\r\n");
    }

    #[test]
    fn white_space_before_the_colon_is_not_part_of_the_name() {
        let message = parse(b"From : a@example.com\r\n\r\n").unwrap();
        assert_eq!(message.fields()[0].name, b"From");
    }

    #[test]
    fn finds_the_body_after_any_kind_of_blank_line() {
        for (raw, body) in [
            (&b"From: a@b.c\n\nBody\n"[..], &b"Body\n"[..]),
            (b"From: a@b.c\r\rBody\r", b"Body\r"),
            (b"From: a@b.c\r\n\nBody", b"Body"),
            (b"From: a@b.c\r\n", b""),
            (b"From: a@b.c", b""),
            (b"From: a@b.c\r\n\r\n", b""),
        ] {
            let message = parse(raw).unwrap();
            assert_eq!(&raw[message.body_start..], body, "{raw:?}");
        }
    }

    #[test]
    fn rejects_what_cannot_be_signed_and_says_why() {
        assert_eq!(parse(b"").unwrap_err(), MessageError::Empty);
        let huge = vec![b'a'; MAX_MESSAGE_BYTES + 1];
        assert_eq!(parse(&huge).unwrap_err(), MessageError::TooLarge);
        assert_eq!(
            parse(b"From: a@b.c\r\nSubject: x\r\nno colon here\r\n\r\n").unwrap_err(),
            MessageError::MalformedHeader { line: 3 }
        );
        assert_eq!(
            parse(b" From: a@b.c\r\n").unwrap_err(),
            MessageError::OrphanContinuation { line: 1 }
        );
        assert_eq!(
            parse(b"From: a@b.c\r\nBad Name: x\r\n").unwrap_err(),
            MessageError::InvalidFieldName { line: 2 }
        );
        assert_eq!(parse(b": no name\r\n").unwrap_err(), MessageError::InvalidFieldName { line: 1 });
        assert_eq!(
            parse(b"To: b@c.d\r\n\r\nFrom: in the body\r\n").unwrap_err(),
            MessageError::MissingFrom
        );
        assert_eq!(
            MessageError::MalformedHeader { line: 3 }.to_string(),
            "header line 3 has no colon: every line before the blank line that ends the headers must be a `Name: value` \
             field or the indented continuation of one"
        );
        assert_eq!(
            MessageError::MissingFrom.to_string(),
            "the message has no From header field, which every DKIM signature must cover"
        );
        assert_eq!(
            MessageError::TooLarge.to_string(),
            "the message is larger than 10485760 bytes (10 MiB), the most that can be signed"
        );
    }

    #[test]
    fn the_largest_message_is_accepted() {
        let mut raw = b"From: a@b.c\r\n\r\n".to_vec();
        raw.resize(MAX_MESSAGE_BYTES, b'x');
        assert!(parse(&raw).is_ok());
    }

    #[test]
    fn from_domain_reads_the_first_address() {
        let domain = |from: &str| {
            let raw = format!("From: {from}\r\nTo: x@to.example\r\n\r\n");
            parse(raw.as_bytes()).unwrap().from_domain()
        };
        assert_eq!(domain("alice@Example.COM").as_deref(), Some("example.com"));
        assert_eq!(domain("Alice Example <alice@example.com>").as_deref(), Some("example.com"));
        assert_eq!(
            domain("\"Example, Inc. <sales@wrong.example>\" <sales@example.com>").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            domain("alice@example.com (Alice <not@this.example>)").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            domain("(comment (nested @x.example)) bob@example.org").as_deref(),
            Some("example.org")
        );
        assert_eq!(domain("\"odd@local\"@example.net").as_deref(), Some("example.net"));
        assert_eq!(domain("first@one.example, second@two.example").as_deref(), Some("one.example"));
        assert_eq!(domain("Alice\r\n <alice@folded.example>").as_deref(), Some("folded.example"));
        assert_eq!(
            domain("Team: alice@team.example, bob@team.example;").as_deref(),
            Some("team.example")
        );
        assert_eq!(domain("Zoë <zoe@BÜCHER.example>").as_deref(), Some("bücher.example"));
        assert_eq!(domain("no address here"), None);
        assert_eq!(domain("Undisclosed recipients:;"), None);
        assert_eq!(domain("<alice@>"), None);
        assert_eq!(domain("alice@[192.0.2.1]"), None);
        let fields = parse(b"To: x@to.example\r\nfrom: a@lower.example\r\nFrom: b@second.example\r\n\r\n").unwrap();
        assert_eq!(fields.from_domain().as_deref(), Some("lower.example"));
    }

    #[test]
    fn with_signatures_prepends_and_normalizes_line_ends() {
        let crlf = b"From: a@b.c\r\nSubject: x\r\n\ty\r\n\r\nOne\r\nTwo\r\n";
        let field = "DKIM-Signature: v=1\r\n".to_owned();
        let expected = [field.as_bytes(), &crlf[..]].concat();
        for raw in [
            &crlf[..],
            b"From: a@b.c\nSubject: x\n\ty\n\nOne\nTwo\n",
            b"From: a@b.c\rSubject: x\r\ty\r\rOne\rTwo\r",
            b"From: a@b.c\nSubject: x\r\n\ty\r\rOne\r\nTwo\n",
        ] {
            let message = parse(raw).unwrap();
            assert_eq!(message.with_signatures(std::slice::from_ref(&field)), expected, "{raw:?}");
        }
        let message = parse(crlf).unwrap();
        assert_eq!(message.with_signatures(&[]), crlf);
        assert_eq!(
            message.with_signatures(&["A: 1\r\n".to_owned(), "B: 2\r\n".to_owned()]),
            [b"A: 1\r\nB: 2\r\n", &crlf[..]].concat()
        );
    }

    #[test]
    fn with_signatures_ends_every_line_and_drops_trailing_white_space() {
        let sent = |raw: &[u8]| parse(raw).unwrap().with_signatures(&[]);
        assert_eq!(sent(b"From: a@b.c\r\n\r\nNo line end"), b"From: a@b.c\r\n\r\nNo line end\r\n");
        assert_eq!(sent(b"From: a@b.c"), b"From: a@b.c\r\n");
        assert_eq!(sent(b"From: a@b.c\r\n\r\nText \t"), b"From: a@b.c\r\n\r\nText\r\n");
        assert_eq!(sent(b"From: a@b.c\r\n\r\nText\r\n \r\n\t\r\n"), b"From: a@b.c\r\n\r\nText\r\n");
        assert_eq!(sent(b"From: a@b.c\r\n\r\n \t \r\n"), b"From: a@b.c\r\n\r\n");
        assert_eq!(sent(b"From: a@b.c\r\n\r\nText\r\n\r\n\r\n"), b"From: a@b.c\r\n\r\nText\r\n\r\n\r\n");
        assert_eq!(sent(b"From: a@b.c\n\nText \n"), b"From: a@b.c\r\n\r\nText\r\n");
    }

    #[test]
    fn a_message_is_sent_alike_whether_or_not_its_body_was_hashed() {
        for raw in [
            &b"From: a@b.c\r\nSubject: x\r\n\ty\r\n\r\nOne\r\nTwo\r\n"[..],
            b"From: a@b.c\nSubject: x\n\ty\n\nOne\nTwo\n",
            b"From: a@b.c\rSubject: x\r\ty\r\rOne\rTwo\r",
            b"From: a@b.c\r\n\r\nOne\rTwo\r\n \r\n",
            b"From: a@b.c\r\n\r\nText\r\n\r\n\n",
            b"From: a@b.c\r\n\r\nText \t",
            b"From: a@b.c\r\n\r\nNo line end\r",
            b"From: a@b.c",
        ] {
            let unhashed = parse(raw).unwrap();
            let sent = unhashed.with_signatures(&[]);
            assert!(
                unhashed.body_hash.get().is_none(),
                "assembling without a signature hashed the body: {raw:?}"
            );
            let hashed = parse(raw).unwrap();
            hashed.body_hash();
            assert_eq!(sent, hashed.with_signatures(&[]), "{raw:?}");
        }
    }

    #[test]
    fn the_body_is_hashed_once() {
        let message = parse(b"From: a@b.c\r\n\r\nBody\r\n").unwrap();
        let first: *const BodyHash = message.body_hash();
        assert_eq!(first, message.body_hash() as *const BodyHash);
    }

    #[test]
    fn debug_shows_sizes_not_content() {
        let message = parse(b"From: secret@b.c\r\n\r\nsecret body\r\n").unwrap();
        assert_eq!(
            format!("{message:?}"),
            "Message { bytes: 33, header_fields: 1, body_bytes: 13, .. }"
        );
    }
}
