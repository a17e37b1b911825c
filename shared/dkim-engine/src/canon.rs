//! Relaxed canonicalization (RFC 6376 3.4.2 and 3.4.4) of header fields and of the body.
//!
//! Line ends are CRLF, bare CR or bare LF; all come out as CRLF, which is what
//! `Message::with_signatures` sends.

use memchr::memchr2;
use sha2::{Digest, Sha256};

use crate::scan::{self, CR, LF, SP, TAB};

/// Body bytes checked, and hashed as they are when clean, per step: small enough that
/// the CPU can run the check of one step alongside the hashing of the previous one,
/// and that a step with something to canonicalize costs little.
const STEP: usize = 256;

/// Canonical bytes gathered from dirty regions before they are hashed.
const FLUSH: usize = 16 * 1024;

/// The relaxed hash of a body, and how to send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BodyHash {
    pub(super) digest: [u8; 32],
    /// How many bytes of the body to send. All of them, unless the body ends in white
    /// space after its last line end, or in white space without a line end: verifiers
    /// canonicalize those differently (mail-auth keeps white-space-only last lines,
    /// dkimpy keeps a last line's white space when no line end follows), and relaxed
    /// canonicalization ignores them, so they are left out.
    pub(super) sent_len: usize,
    /// Whether the sent body has a bare CR or LF line end.
    pub(super) bare_line_ends: bool,
}

/// Where `body`'s content ends: trailing white space and empty lines all go in relaxed
/// canonicalization, so it ends at the last other byte.
fn content_end(body: &[u8]) -> usize {
    body.iter().rposition(|&b| !is_special(b)).map_or(0, |last| last + 1)
}

/// How many bytes of `body` to send ([`BodyHash::sent_len`]), without hashing it.
pub(super) fn sent_len(body: &[u8]) -> usize {
    sent_len_after(body, content_end(body))
}

/// [`sent_len`] of `body`, whose content ends at `end`.
fn sent_len_after(body: &[u8], end: usize) -> usize {
    if body[end..].iter().any(|&b| b == SP || b == TAB) {
        end
    } else {
        body.len()
    }
}

/// Hashes the relaxed canonical form of `body` (which starts a line).
pub(super) fn relaxed_body(body: &[u8]) -> BodyHash {
    let end = content_end(body);
    let (content, tail) = body.split_at(end);
    let mut canon = BodyCanon {
        hasher: Sha256::new(),
        out: Vec::new(),
        bare_line_ends: false,
    };
    canon.content(content);
    if !content.is_empty() {
        canon.hasher.update(b"\r\n");
    }
    let sent_len = sent_len_after(body, end);
    if sent_len == body.len() {
        let mut prev = content.last().copied().unwrap_or(LF);
        for &b in tail {
            canon.bare_line_ends |= (prev == CR) != (b == LF);
            prev = b;
        }
        canon.bare_line_ends |= prev == CR;
    }
    BodyHash {
        digest: canon.hasher.finalize().into(),
        sent_len,
        bare_line_ends: canon.bare_line_ends,
    }
}

fn is_special(b: u8) -> bool {
    matches!(b, SP | TAB | CR | LF)
}

struct BodyCanon {
    hasher: Sha256,
    /// Canonical bytes of dirty regions, not yet hashed.
    out: Vec<u8>,
    bare_line_ends: bool,
}

impl BodyCanon {
    /// Canonicalizes `b`, which ends in a byte that is neither white space nor a line end.
    ///
    /// At every step start `i`, all before `i` is hashed or in `out`, and the pair
    /// `b[i - 1], b[i]` needs no work, so checking positions after `i` is enough.
    fn content(&mut self, b: &[u8]) {
        let mut i = 0;
        if b.first().is_some_and(|&first| is_special(first)) {
            i = self.structure(b, 0);
        }
        while i < b.len() {
            let end = (i + STEP).min(b.len());
            // One byte past the step, so that the pair across its end is checked too.
            if scan::is_clean(&b[i..(end + 1).min(b.len())]) {
                self.flush();
                self.hasher.update(&b[i..end]);
                i = end;
            } else {
                i = self.dirty(b, i, end);
            }
        }
        self.flush();
    }

    /// Canonicalizes from `i` to at least `end` through `out`; returns where it stopped.
    fn dirty(&mut self, b: &[u8], mut i: usize, end: usize) -> usize {
        if self.out.capacity() == 0 {
            self.out.reserve(FLUSH + 2 * STEP);
        }
        loop {
            let Some(found) = scan::first_flag(&b[i..(end + 1).min(b.len())]) else {
                self.out.extend_from_slice(&b[i..end]);
                return end;
            };
            // The flagged pair starts at found - 1 when that byte is white space or CR,
            // and a white-space run may begin earlier still.
            let flagged = i + found;
            let mut start = if matches!(b[flagged - 1], SP | TAB | CR) {
                flagged - 1
            } else {
                flagged
            };
            while start > i && matches!(b[start - 1], SP | TAB) {
                start -= 1;
            }
            self.out.extend_from_slice(&b[i..start]);
            i = self.structure(b, start);
            if self.out.len() >= FLUSH {
                self.flush();
            }
            if i >= end {
                return i;
            }
        }
    }

    /// Canonicalizes the white space and line ends from `start` up to the next other
    /// byte, whose position it returns.
    fn structure(&mut self, b: &[u8], start: usize) -> usize {
        let mut k = start;
        while let Some(&byte) = b.get(k) {
            match byte {
                SP | TAB => {
                    let run_end = b[k..].iter().position(|&c| c != SP && c != TAB).map_or(b.len(), |n| k + n);
                    // A run before a line end is trailing white space: dropped.
                    if b.get(run_end).is_some_and(|&c| c != CR && c != LF) {
                        self.out.push(SP);
                    }
                    k = run_end;
                }
                CR => {
                    self.out.extend_from_slice(b"\r\n");
                    if b.get(k + 1) == Some(&LF) {
                        k += 2;
                    } else {
                        self.bare_line_ends = true;
                        k += 1;
                    }
                }
                LF => {
                    self.out.extend_from_slice(b"\r\n");
                    self.bare_line_ends = true;
                    k += 1;
                }
                _ => break,
            }
        }
        k
    }

    fn flush(&mut self) {
        if !self.out.is_empty() {
            self.hasher.update(&self.out);
            self.out.clear();
        }
    }
}

/// Appends the relaxed form of a header field, `name:value` and CRLF, to `out`.
/// `folded` says whether the value spans several lines (has line ends).
pub(super) fn relaxed_header(name: &[u8], value: &[u8], folded: bool, out: &mut Vec<u8>) {
    out.reserve(name.len() + value.len() + 3);
    out.extend(name.iter().map(u8::to_ascii_lowercase));
    out.push(b':');
    let start = value.iter().position(|&b| !is_special(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|&b| !is_special(b)).map_or(start, |last| last + 1);
    let mut rest = &value[start..end];
    if !folded {
        if !rest.is_empty() {
            relaxed_line(rest, out);
        }
        out.extend_from_slice(b"\r\n");
        return;
    }
    // Line by line: white space at either side of a folding line end, or both,
    // becomes one space.
    let mut space = false;
    loop {
        let line_end = memchr2(CR, LF, rest).unwrap_or(rest.len());
        let line = &rest[..line_end];
        let text_start = line.iter().position(|&b| b != SP && b != TAB).unwrap_or(line.len());
        let text_end = line.iter().rposition(|&b| b != SP && b != TAB).map_or(text_start, |last| last + 1);
        space |= text_start > 0;
        if text_start < text_end {
            if space {
                out.push(SP);
            }
            relaxed_line(&line[text_start..text_end], out);
            space = text_end < line.len();
        }
        rest = &rest[line_end..];
        let breaks = rest.iter().position(|&b| b != CR && b != LF).unwrap_or(rest.len());
        if breaks == 0 {
            break;
        }
        rest = &rest[breaks..];
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends one line of a header value that starts and ends with a word, each run of
/// white space in it made one space.
fn relaxed_line(line: &[u8], out: &mut Vec<u8>) {
    if scan::is_clean(line) {
        out.extend_from_slice(line);
        return;
    }
    let mut rest = line;
    while !rest.is_empty() {
        let word = rest.iter().position(|&b| b == SP || b == TAB).unwrap_or(rest.len());
        out.extend_from_slice(&rest[..word]);
        rest = &rest[word..];
        let gap = rest.iter().position(|&b| b != SP && b != TAB).unwrap_or(rest.len());
        if gap > 0 {
            out.push(SP);
        }
        rest = &rest[gap..];
    }
}

#[cfg(test)]
mod tests {
    use super::super::scan::tests::Rng;
    use super::*;

    /// RFC 6376 3.4.4 done the plain way: split into lines, fix each, drop empty last lines.
    fn reference_body(body: &[u8]) -> Vec<u8> {
        let mut lines = Vec::new();
        let mut line = Vec::new();
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                CR => {
                    lines.push(std::mem::take(&mut line));
                    i += if body.get(i + 1) == Some(&LF) { 2 } else { 1 };
                }
                LF => {
                    lines.push(std::mem::take(&mut line));
                    i += 1;
                }
                byte => {
                    line.push(byte);
                    i += 1;
                }
            }
        }
        // A last line without a line end gets one.
        if !line.is_empty() {
            lines.push(line);
        }
        let mut lines: Vec<Vec<u8>> = lines.iter().map(|line| reference_line(line)).collect();
        while lines.last().is_some_and(Vec::is_empty) {
            lines.pop();
        }
        lines.iter().flat_map(|line| line.iter().copied().chain(*b"\r\n")).collect()
    }

    /// Each white-space run one space, none at the end.
    fn reference_line(line: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in line {
            let wsp = b == SP || b == TAB;
            if !(wsp && out.last() == Some(&SP)) {
                out.push(if wsp { SP } else { b });
            }
        }
        while out.last() == Some(&SP) {
            out.pop();
        }
        out
    }

    fn reference_header(name: &[u8], value: &[u8]) -> Vec<u8> {
        let unfolded: Vec<u8> = value.iter().copied().filter(|&b| b != CR && b != LF).collect();
        let mut out = name.to_ascii_lowercase();
        out.push(b':');
        out.extend(reference_line(&unfolded).iter().skip_while(|&&b| b == SP));
        out.extend_from_slice(b"\r\n");
        out
    }

    fn digest(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    #[test]
    fn rfc_6376_example() {
        assert_eq!(relaxed_body(b" C \r\nD \t E\r\n\r\n\r\n").digest, digest(b" C\r\nD E\r\n"));
        let mut headers = Vec::new();
        relaxed_header(b"A", b" X", false, &mut headers);
        relaxed_header(b"B", b" Y\t\r\n\tZ  ", true, &mut headers);
        assert_eq!(headers, b"a:X\r\nb:Y Z\r\n");
    }

    #[test]
    fn empty_and_blank_bodies_hash_as_nothing() {
        for body in [&b""[..], b"\r\n", b"\r\n\r\n\r\n", b" \t \r\n  \r\n", b"\n\n", b"   "] {
            assert_eq!(relaxed_body(body).digest, digest(b""), "{body:?}");
        }
    }

    #[test]
    fn a_last_line_without_line_end_gets_one() {
        assert_eq!(relaxed_body(b"Hello\r\nworld").digest, digest(b"Hello\r\nworld\r\n"));
        assert_eq!(relaxed_body(b"Hello\r\nworld \t").digest, digest(b"Hello\r\nworld\r\n"));
    }

    #[test]
    fn fast_hash_agrees_with_the_reference_on_random_bodies() {
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        for round in 0..3_000 {
            let len = if round % 10 == 0 { rng.below(3_000) } else { rng.below(400) };
            let body = rng.messy_bytes(len);
            assert_eq!(relaxed_body(&body).digest, digest(&reference_body(&body)), "{body:?}");
        }
    }

    #[test]
    fn fast_hash_agrees_with_the_reference_on_random_text_with_sparse_dirt() {
        let mut rng = Rng(0xFEED_F00D);
        for _ in 0..400 {
            let len = rng.below(6 * STEP);
            let mut body = Vec::with_capacity(len + 16);
            while body.len() < len {
                match rng.below(60) {
                    0 => {
                        let dirt = 1 + rng.below(6);
                        body.extend(rng.messy_bytes(dirt));
                    }
                    1..=6 => body.extend_from_slice(b"\r\n"),
                    _ => body.extend_from_slice(b"word "),
                }
            }
            assert_eq!(relaxed_body(&body).digest, digest(&reference_body(&body)), "{body:?}");
        }
    }

    #[test]
    fn fast_hash_agrees_with_the_reference_on_clean_text_with_dirt_at_step_edges() {
        let clean = b"Plain words on a line of mail.\r\n".repeat(5 * STEP / 32);
        let mut rng = Rng(42);
        for edge in [STEP, 2 * STEP, 3 * STEP, 4 * STEP] {
            for offset in 0..6 {
                for dirt in [&b"  "[..], b"\t", b" \r\n", b"\n", b"\r", b"\r\n\r\n \r\n", b" \t "] {
                    let at = edge + offset - 3;
                    let mut body = clean.clone();
                    body.splice(at..at, dirt.iter().copied());
                    assert_eq!(
                        relaxed_body(&body).digest,
                        digest(&reference_body(&body)),
                        "edge {edge}, offset {offset}, {dirt:?}"
                    );
                }
            }
            let mut body = clean.clone();
            let noise = rng.messy_bytes(9);
            body.splice(edge - 4..edge + 5, noise);
            assert_eq!(relaxed_body(&body).digest, digest(&reference_body(&body)));
        }
        assert_eq!(relaxed_body(&clean).digest, digest(&clean));
    }

    #[test]
    fn long_dirty_regions_are_hashed_in_pieces() {
        // More than FLUSH bytes of lines with bare LF and runs of white space.
        let body = b"a  line\twith  dirt\n".repeat(2 * FLUSH / 19);
        let hash = relaxed_body(&body);
        assert_eq!(hash.digest, digest(&reference_body(&body)));
        assert!(hash.bare_line_ends);
        assert_eq!(hash.sent_len, body.len());
    }

    #[test]
    fn reports_bare_line_ends_and_what_to_send() {
        let hash = |body: &[u8]| {
            let hash = relaxed_body(body);
            (hash.bare_line_ends, hash.sent_len)
        };
        assert_eq!(hash(b"a\r\nb\r\n"), (false, 6));
        assert_eq!(hash(b"a\nb\r\n"), (true, 5));
        assert_eq!(hash(b"a\r\nb\r"), (true, 5));
        assert_eq!(hash(b"a\r\nb\r\n\n"), (true, 7));
        assert_eq!(hash(b"a\r\nb"), (false, 4));
        assert_eq!(hash(b"a\r\n\r\n\r\n"), (false, 7));
        // White space after the last line end, or ending an unterminated last line, is not sent.
        assert_eq!(hash(b"a\r\nb\r\n  \r\n"), (false, 4));
        assert_eq!(hash(b"a\r\nb \t"), (false, 4));
        assert_eq!(hash(b"a\nb \n"), (true, 3));
        assert_eq!(hash(b"  \t"), (false, 0));
    }

    #[test]
    fn headers_agree_with_the_reference_both_ways() {
        let mut rng = Rng(7);
        for _ in 0..5_000 {
            let len = rng.below(120);
            let value: Vec<u8> = rng.messy_bytes(len).into_iter().filter(|&b| b != CR && b != LF).collect();
            let mut out = Vec::new();
            relaxed_header(b"Sub-Ject", &value, false, &mut out);
            assert_eq!(out, reference_header(b"Sub-Ject", &value), "{value:?}");
            // Folded: a line end before every white-space run start.
            let mut folded = Vec::new();
            for (i, &b) in value.iter().enumerate() {
                if (b == SP || b == TAB) && i > 0 && value[i - 1] != SP && value[i - 1] != TAB {
                    folded.extend_from_slice(b"\r\n");
                }
                folded.push(b);
            }
            let mut out = Vec::new();
            relaxed_header(b"Sub-Ject", &folded, true, &mut out);
            assert_eq!(out, reference_header(b"Sub-Ject", &value), "{folded:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_and_emptied() {
        let canonical = |value: &[u8]| {
            let mut out = Vec::new();
            relaxed_header(b"X-Empty", value, value.contains(&CR) || value.contains(&LF), &mut out);
            out
        };
        assert_eq!(canonical(b""), b"x-empty:\r\n");
        assert_eq!(canonical(b" \t "), b"x-empty:\r\n");
        assert_eq!(canonical(b"\r\n \r\n\t"), b"x-empty:\r\n");
        assert_eq!(canonical(b"a\r\nb"), b"x-empty:ab\r\n");
        assert_eq!(canonical(" Grüße  aus\tKöln ".as_bytes()), "x-empty:Grüße aus Köln\r\n".as_bytes());
    }
}
