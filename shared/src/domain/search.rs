//! How lists are searched and sorted by text: whatever the case, on the text's lowercase
//! form (`str::to_lowercase`, Unicode's). ASCII text, most of what a list holds, is
//! compared without being copied into lowercase first.

use std::borrow::Cow;

/// `text` in lowercase, borrowed when it is lowercase ASCII already.
pub fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|byte| byte.is_ascii() && !byte.is_ascii_uppercase()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// Whether `text` in lowercase contains `needle`, which is lowercase already.
pub fn contains_lowercase(text: &str, needle: &str) -> bool {
    if !text.is_ascii() {
        return text.to_lowercase().contains(needle);
    }
    // ASCII lowercases to ASCII, byte by byte: a needle with anything else is not in it.
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    needle.is_empty() || text.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: [&str; 12] = [
        "",
        "ada",
        "Ada.Lovelace@Example.TEST",
        "Élodie",
        "ÅNGSTRÖM",
        "ΟΔΥΣΣΕΥΣ",
        "İnce",
        "\u{212A}elvin",
        "Straße",
        "ǅemal",
        "mixed ASCII and ÜMLAUT",
        "qx QX qX",
    ];

    #[test]
    fn lowercase_is_unicode_lowercase_and_borrows_lowercase_ascii() {
        for text in TEXTS {
            assert_eq!(lowercase(text), text.to_lowercase(), "{text}");
        }
        assert!(matches!(lowercase("ada.lovelace@example.test"), Cow::Borrowed(_)));
        assert!(matches!(lowercase("Ada"), Cow::Owned(_)));
    }

    #[test]
    fn containment_is_that_of_the_lowercase_text() {
        let needles = TEXTS.iter().flat_map(|text| {
            let lowered = text.to_lowercase();
            let chars: Vec<char> = lowered.chars().collect();
            // Every piece of every text's lowercase form, and pieces of none.
            let pieces: Vec<String> = (0..chars.len())
                .flat_map(|start| {
                    (start + 1..=chars.len()).map({
                        let chars = chars.clone();
                        move |end| chars[start..end].iter().collect::<String>()
                    })
                })
                .collect();
            pieces
                .into_iter()
                .chain(["zz".to_owned(), "é".to_owned(), "k".to_owned(), "x q".to_owned()])
        });
        for needle in needles {
            for text in TEXTS {
                assert_eq!(
                    contains_lowercase(text, &needle),
                    text.to_lowercase().contains(&needle),
                    "{needle:?} in {text:?}"
                );
            }
        }
    }
}
