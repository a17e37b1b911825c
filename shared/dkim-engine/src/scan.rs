//! Finds where relaxed canonicalization has work to do, at vector speed.
//!
//! A position `j` of a byte string is *flagged* when, with `p` the byte before it
//! and `c` the byte at it, `c` is a TAB, or `p` is a space and `c` is a space or a
//! control character (a run of white space, or white space before a line break),
//! or exactly one of `p` = CR and `c` = LF holds (a bare CR or a bare LF).
//! A span with no flagged position is already relaxed-canonical (given its ends are
//! handled by the caller), so it can be hashed as it is.
//!
//! Flagging a space before any control character, not only CR and LF, costs one
//! comparison less per vector; the canonicalizer copies such pairs unchanged.
//!
//! The vector code (SSE2 or AVX2 on x86_64, NEON on aarch64) compares each window of
//! 16 or 32 bytes with the same window shifted back by one byte (two overlapping
//! loads), so no carries cross block boundaries. The scalar [`flag`] is the
//! definition, the loop for inputs shorter than a window, the fallback on other
//! architectures and the reference the tests check the vector code against. The
//! only `unsafe` in the DKIM code is here: unaligned loads from in-bounds windows, and
//! calls into functions compiled for a CPU feature the CPU is known to have.

pub(super) const SP: u8 = b' ';
pub(super) const TAB: u8 = b'\t';
pub(super) const CR: u8 = b'\r';
pub(super) const LF: u8 = b'\n';

/// Whether the position holding `cur`, preceded by `prev`, is flagged.
#[inline(always)]
pub(super) fn flag(prev: u8, cur: u8) -> bool {
    cur == TAB || (prev == SP && cur <= SP) || ((prev == CR) != (cur == LF))
}

/// Whether no position in `1..bytes.len()` is flagged (`bytes[0]` only gives context).
#[inline]
pub(super) fn is_clean(bytes: &[u8]) -> bool {
    simd::clean_prefix(bytes).is_some_and(|checked| bytes[checked - 1..].windows(2).all(|w| !flag(w[0], w[1])))
}

/// The first flagged position in `1..bytes.len()`, if any.
#[inline]
pub(super) fn first_flag(bytes: &[u8]) -> Option<usize> {
    let (checked, found) = simd::first_flag(bytes);
    if found.is_some() {
        return found;
    }
    let start = checked - 1;
    bytes[start..].windows(2).position(|w| flag(w[0], w[1])).map(|i| start + i + 1)
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_xor_si128, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_xor_si256,
    };

    use super::{CR, LF, SP, TAB};

    /// Checks whole windows: `Some(n)` if no position in `1..n` is flagged (`n` >= 1),
    /// `None` if one is. AVX2 where the CPU has it (twice the bytes per instruction:
    /// this check runs over every body byte), SSE2 otherwise.
    #[inline(always)]
    pub(super) fn clean_prefix(bytes: &[u8]) -> Option<usize> {
        if bytes.len() >= 65 && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, just checked (the answer is cached).
            unsafe { clean_prefix_avx2(bytes) }
        } else {
            // SAFETY: SSE2 is part of the x86_64 baseline, so the CPU has it.
            unsafe { clean_prefix_sse2(bytes) }
        }
    }

    /// The first flagged position among whole 16-byte windows, and how far it looked.
    #[inline(always)]
    pub(super) fn first_flag(bytes: &[u8]) -> (usize, Option<usize>) {
        // SAFETY: SSE2 is part of the x86_64 baseline, so the CPU has it.
        unsafe { first_flag_sse2(bytes) }
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn load(bytes: &[u8]) -> __m128i {
        let bytes: &[u8; 16] = bytes.try_into().expect("a 16-byte window");
        // SAFETY: reads exactly the 16 bytes of `bytes`; unaligned loads are allowed.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn load256(bytes: &[u8]) -> __m256i {
        let bytes: &[u8; 32] = bytes.try_into().expect("a 32-byte window");
        // SAFETY: reads exactly the 32 bytes of `bytes`; unaligned loads are allowed.
        unsafe { _mm256_loadu_si256(bytes.as_ptr().cast()) }
    }

    /// 0xFF in each lane whose position `w[1..17]` is flagged, `w` being 17 bytes.
    #[target_feature(enable = "sse2")]
    #[inline]
    fn flags(w: &[u8]) -> __m128i {
        let prev = load(&w[..16]);
        let cur = load(&w[1..17]);
        let sp = _mm_set1_epi8(SP as i8);
        let tab = _mm_cmpeq_epi8(cur, _mm_set1_epi8(TAB as i8));
        // Unsigned cur <= SP, as min(cur, SP) == cur.
        let ctl = _mm_cmpeq_epi8(_mm_min_epu8(cur, sp), cur);
        let wsp_run = _mm_and_si128(_mm_cmpeq_epi8(prev, sp), ctl);
        let bare = _mm_xor_si128(
            _mm_cmpeq_epi8(prev, _mm_set1_epi8(CR as i8)),
            _mm_cmpeq_epi8(cur, _mm_set1_epi8(LF as i8)),
        );
        _mm_or_si128(tab, _mm_or_si128(wsp_run, bare))
    }

    /// [`flags`] for 32 positions, `w` being 33 bytes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn flags256(w: &[u8]) -> __m256i {
        let prev = load256(&w[..32]);
        let cur = load256(&w[1..33]);
        let sp = _mm256_set1_epi8(SP as i8);
        let tab = _mm256_cmpeq_epi8(cur, _mm256_set1_epi8(TAB as i8));
        let ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(cur, sp), cur);
        let wsp_run = _mm256_and_si256(_mm256_cmpeq_epi8(prev, sp), ctl);
        let bare = _mm256_xor_si256(
            _mm256_cmpeq_epi8(prev, _mm256_set1_epi8(CR as i8)),
            _mm256_cmpeq_epi8(cur, _mm256_set1_epi8(LF as i8)),
        );
        _mm256_or_si256(tab, _mm256_or_si256(wsp_run, bare))
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn clean_prefix_sse2(bytes: &[u8]) -> Option<usize> {
        let mut done = 0;
        // 64 bytes a step with one test: the branch is what costs, not the compares.
        for w in bytes.windows(65).step_by(64) {
            let any = _mm_or_si128(
                _mm_or_si128(flags(&w[..17]), flags(&w[16..33])),
                _mm_or_si128(flags(&w[32..49]), flags(&w[48..65])),
            );
            if _mm_movemask_epi8(any) != 0 {
                return None;
            }
            done += 64;
        }
        for w in bytes[done..].windows(17).step_by(16) {
            if _mm_movemask_epi8(flags(w)) != 0 {
                return None;
            }
            done += 16;
        }
        // The rest in one window that overlaps checked positions, rather than byte by byte.
        match bytes.len().checked_sub(17) {
            Some(last) if done + 1 < bytes.len() => (_mm_movemask_epi8(flags(&bytes[last..])) == 0).then_some(bytes.len()),
            _ => Some(done + 1),
        }
    }

    /// [`clean_prefix_sse2`] with 32-byte windows, for at least 65 bytes.
    #[target_feature(enable = "avx2")]
    fn clean_prefix_avx2(bytes: &[u8]) -> Option<usize> {
        let mut done = 0;
        for w in bytes.windows(65).step_by(64) {
            if _mm256_movemask_epi8(_mm256_or_si256(flags256(&w[..33]), flags256(&w[32..65]))) != 0 {
                return None;
            }
            done += 64;
        }
        // Fewer than 64 positions left: a window from here, then one ending at the end.
        if bytes.len() >= done + 33 {
            if _mm256_movemask_epi8(flags256(&bytes[done..done + 33])) != 0 {
                return None;
            }
            done += 32;
        }
        let last = bytes.len() - 33;
        (done >= bytes.len() - 1 || _mm256_movemask_epi8(flags256(&bytes[last..])) == 0).then_some(bytes.len())
    }

    #[target_feature(enable = "sse2")]
    fn first_flag_sse2(bytes: &[u8]) -> (usize, Option<usize>) {
        let mut done = 0;
        for w in bytes.windows(17).step_by(16) {
            let mask = _mm_movemask_epi8(flags(w));
            if mask != 0 {
                return (done + 1, Some(done + 1 + mask.trailing_zeros() as usize));
            }
            done += 16;
        }
        // The overlapped positions are known clean, so a flag found is past them.
        match bytes.len().checked_sub(17) {
            Some(last) if done + 1 < bytes.len() => {
                let mask = _mm_movemask_epi8(flags(&bytes[last..]));
                (bytes.len(), (mask != 0).then(|| last + 1 + mask.trailing_zeros() as usize))
            }
            _ => (done + 1, None),
        }
    }

    #[cfg(test)]
    pub(super) mod tests {
        /// The SSE2 check, whatever the CPU has, so that both paths are tested.
        pub(in super::super) fn clean_prefix_sse2(bytes: &[u8]) -> Option<usize> {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            unsafe { super::clean_prefix_sse2(bytes) }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod simd {
    use std::arch::aarch64::{
        uint8x16_t, vandq_u8, vceqq_u8, vcleq_u8, vdupq_n_u8, veorq_u8, vget_lane_u64, vld1q_u8, vmaxvq_u8, vorrq_u8, vreinterpret_u64_u8,
        vreinterpretq_u16_u8, vshrn_n_u16,
    };

    use super::{CR, LF, SP, TAB};

    /// Checks whole 16-byte windows: `Some(n)` if no position in `1..n` is flagged
    /// (`n` >= 1), `None` if one is.
    #[inline(always)]
    pub(super) fn clean_prefix(bytes: &[u8]) -> Option<usize> {
        // SAFETY: NEON is part of the aarch64 baseline, so the CPU has it.
        unsafe { clean_prefix_neon(bytes) }
    }

    /// The first flagged position among whole 16-byte windows, and how far it looked.
    #[inline(always)]
    pub(super) fn first_flag(bytes: &[u8]) -> (usize, Option<usize>) {
        // SAFETY: NEON is part of the aarch64 baseline, so the CPU has it.
        unsafe { first_flag_neon(bytes) }
    }

    #[target_feature(enable = "neon")]
    #[inline]
    fn load(bytes: &[u8]) -> uint8x16_t {
        let bytes: &[u8; 16] = bytes.try_into().expect("a 16-byte window");
        // SAFETY: reads exactly the 16 bytes of `bytes`; unaligned loads are allowed.
        unsafe { vld1q_u8(bytes.as_ptr()) }
    }

    /// 0xFF in each lane whose position `w[1..17]` is flagged, `w` being 17 bytes.
    #[target_feature(enable = "neon")]
    #[inline]
    fn flags(w: &[u8]) -> uint8x16_t {
        let prev = load(&w[..16]);
        let cur = load(&w[1..17]);
        let sp = vdupq_n_u8(SP);
        let tab = vceqq_u8(cur, vdupq_n_u8(TAB));
        let wsp_run = vandq_u8(vceqq_u8(prev, sp), vcleq_u8(cur, sp));
        let bare = veorq_u8(vceqq_u8(prev, vdupq_n_u8(CR)), vceqq_u8(cur, vdupq_n_u8(LF)));
        vorrq_u8(tab, vorrq_u8(wsp_run, bare))
    }

    #[target_feature(enable = "neon")]
    fn clean_prefix_neon(bytes: &[u8]) -> Option<usize> {
        let mut done = 0;
        // 64 bytes a step with one test: the branch is what costs, not the compares.
        for w in bytes.windows(65).step_by(64) {
            let any = vorrq_u8(
                vorrq_u8(flags(&w[..17]), flags(&w[16..33])),
                vorrq_u8(flags(&w[32..49]), flags(&w[48..65])),
            );
            if vmaxvq_u8(any) != 0 {
                return None;
            }
            done += 64;
        }
        for w in bytes[done..].windows(17).step_by(16) {
            if vmaxvq_u8(flags(w)) != 0 {
                return None;
            }
            done += 16;
        }
        // The rest in one window that overlaps checked positions, rather than byte by byte.
        match bytes.len().checked_sub(17) {
            Some(last) if done + 1 < bytes.len() => (vmaxvq_u8(flags(&bytes[last..])) == 0).then_some(bytes.len()),
            _ => Some(done + 1),
        }
    }

    #[target_feature(enable = "neon")]
    fn first_flag_neon(bytes: &[u8]) -> (usize, Option<usize>) {
        let mut done = 0;
        for w in bytes.windows(17).step_by(16) {
            let nibbles = nibbles(flags(w));
            if nibbles != 0 {
                return (done + 1, Some(done + 1 + nibbles.trailing_zeros() as usize / 4));
            }
            done += 16;
        }
        // The overlapped positions are known clean, so a flag found is past them.
        match bytes.len().checked_sub(17) {
            Some(last) if done + 1 < bytes.len() => {
                let nibbles = nibbles(flags(&bytes[last..]));
                (
                    bytes.len(),
                    (nibbles != 0).then(|| last + 1 + nibbles.trailing_zeros() as usize / 4),
                )
            }
            _ => (done + 1, None),
        }
    }

    /// Four bits per lane (a narrowing shift), so the first set lane is trailing_zeros / 4.
    #[target_feature(enable = "neon")]
    #[inline]
    fn nibbles(lanes: uint8x16_t) -> u64 {
        vget_lane_u64::<0>(vreinterpret_u64_u8(vshrn_n_u16::<4>(vreinterpretq_u16_u8(lanes))))
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod simd {
    /// No vector code here: nothing is checked, the scalar loop does it all.
    #[inline(always)]
    pub(super) fn clean_prefix(_: &[u8]) -> Option<usize> {
        Some(1)
    }

    #[inline(always)]
    pub(super) fn first_flag(_: &[u8]) -> (usize, Option<usize>) {
        (1, None)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A deterministic xorshift generator: reproducible random inputs without a crate.
    pub(in super::super) struct Rng(pub(in super::super) u64);

    impl Rng {
        pub(in super::super) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        pub(in super::super) fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        /// Bytes in short runs, mostly white space and line ends, some controls and 8-bit.
        pub(in super::super) fn messy_bytes(&mut self, len: usize) -> Vec<u8> {
            const ALPHABET: &[u8] = b"  \t\r\n\r\n\r\naaZ.\x00\x0c\x1f\x7f\x80\xff";
            let mut bytes = Vec::with_capacity(len + 4);
            while bytes.len() < len {
                let byte = ALPHABET[self.below(ALPHABET.len())];
                let run = 1 + self.below(3);
                bytes.extend(std::iter::repeat_n(byte, run));
            }
            bytes.truncate(len);
            bytes
        }
    }

    fn reference(bytes: &[u8]) -> Option<usize> {
        (1..bytes.len()).find(|&j| flag(bytes[j - 1], bytes[j]))
    }

    /// [`is_clean`] and, on x86_64, its SSE2 path too (the CPU may take AVX2).
    fn check_is_clean(bytes: &[u8], expected: bool) {
        assert_eq!(is_clean(bytes), expected, "{bytes:?}");
        #[cfg(target_arch = "x86_64")]
        {
            let sse2 =
                simd::tests::clean_prefix_sse2(bytes).is_some_and(|checked| bytes[checked - 1..].windows(2).all(|w| !flag(w[0], w[1])));
            assert_eq!(sse2, expected, "SSE2: {bytes:?}");
        }
    }

    #[test]
    fn the_definition() {
        assert!(flag(b'a', TAB));
        assert!(flag(SP, SP) && flag(SP, CR) && flag(SP, LF) && flag(SP, 0x0c));
        assert!(flag(CR, b'a') && flag(b'a', LF) && flag(LF, LF));
        assert!(!flag(CR, LF) && !flag(SP, b'a') && !flag(b'a', SP) && !flag(LF, SP) && !flag(b'a', CR));
    }

    #[test]
    fn vector_code_agrees_with_the_definition_on_random_input() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let len = rng.below(300);
            let bytes = rng.messy_bytes(len);
            let expected = reference(&bytes);
            assert_eq!(first_flag(&bytes), expected, "{bytes:?}");
            check_is_clean(&bytes, expected.is_none());
        }
    }

    #[test]
    fn each_kind_of_flag_is_found_at_each_position_around_block_edges() {
        const PAIRS: [(u8, u8); 7] = [(b'x', TAB), (SP, SP), (SP, CR), (SP, LF), (SP, 0x0c), (CR, b'x'), (b'x', LF)];
        for len in [
            2, 15, 16, 17, 18, 31, 32, 33, 34, 63, 64, 65, 66, 67, 80, 81, 127, 128, 129, 130, 131, 200,
        ] {
            let clean: Vec<u8> = b"Clean text, a line.\r\n".iter().copied().cycle().take(len).collect();
            assert!(first_flag(&clean) == reference(&clean));
            check_is_clean(&clean, reference(&clean).is_none());
            for at in 1..len {
                for (prev, cur) in PAIRS {
                    let mut bytes = clean.clone();
                    bytes[at - 1] = prev;
                    bytes[at] = cur;
                    let expected = reference(&bytes);
                    assert!(expected.is_some_and(|found| found <= at));
                    assert_eq!(first_flag(&bytes), expected, "len {len}, at {at}, {prev} {cur}");
                    check_is_clean(&bytes, false);
                }
            }
        }
    }

    #[test]
    fn canonical_text_is_clean() {
        let text = b"Dear customer,\r\n\r\n this is  fine? No: the double space is not.\r\n";
        assert_eq!(first_flag(text), Some(27));
        assert!(is_clean(&text[..27]));
        assert!(is_clean(b"") && is_clean(b"\t"), "the first byte is context only");
    }
}
