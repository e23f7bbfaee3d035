//! Doc comments from lexicon descriptions.
//!
//! Descriptions are plain prose written for people reading JSON, not Markdown written for
//! rustdoc, so they are escaped: brackets would become intra-doc links, `<…>` HTML tags, an
//! indented line or a ```` ``` ```` fence a doctest that does not compile, and a leading `#` a
//! heading. Bare URLs become autolinks. Backticks stay: lexicon authors use them for code.

use std::fmt::Write as _;

/// Writes `text` as `///` lines (or `//!` with `inner`), each prefixed with `indent`.
pub(crate) fn write_doc(out: &mut String, indent: &str, text: &str) {
    write_lines(out, indent, "///", text);
}

/// Writes `text` as `//!` lines.
pub(crate) fn write_inner_doc(out: &mut String, text: &str) {
    write_lines(out, "", "//!", text);
}

fn write_lines(out: &mut String, indent: &str, marker: &str, text: &str) {
    for line in text.lines() {
        if line.is_empty() {
            let _ = writeln!(out, "{indent}{marker}");
        } else {
            let _ = writeln!(out, "{indent}{marker} {line}");
        }
    }
}

/// A lexicon description as Markdown that renders as written. Blank lines separate paragraphs;
/// other line breaks are kept.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.trim().lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        escape_line(line.trim(), &mut out);
    }
    out
}

fn escape_line(line: &str, out: &mut String) {
    if line.starts_with('#') || line.starts_with('>') || line.starts_with('=') {
        out.push('\\');
    }
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = url_len(rest) {
            let _ = write!(out, "<{}>", &rest[..len]);
            rest = &rest[len..];
            continue;
        }
        if rest.starts_with("```") {
            out.push_str("\\`\\`\\`");
            rest = &rest[3..];
            continue;
        }
        if matches!(c, '\\' | '[' | ']' | '<' | '>' | '*' | '|') {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
}

/// The length of the URL `text` starts with, without trailing punctuation.
fn url_len(text: &str) -> Option<usize> {
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return None;
    }
    let end = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | '\'' | ')'))
        .unwrap_or(text.len());
    let url = text[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
    (url.len() > "https://".len()).then_some(url.len())
}

/// The first sentence of a description (for short docs such as setters'), escaped.
pub(crate) fn first_sentence(text: &str) -> String {
    // Abbreviations whose period does not end a sentence.
    const ABBREVIATIONS: [&str; 5] = ["e.g", "i.e", "etc", "vs", "cf"];
    let text = text.trim();
    let mut end = None;
    for (i, _) in text.match_indices(". ") {
        let before = &text[..i];
        let abbreviated = ABBREVIATIONS.iter().any(|a| {
            before.len() >= a.len()
                && before[before.len() - a.len()..].eq_ignore_ascii_case(a)
                && before[..before.len() - a.len()]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
        });
        if !abbreviated {
            end = Some(i + 1);
            break;
        }
    }
    let end = end.or_else(|| text.find('\n')).unwrap_or(text.len());
    escape(&text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentence_skips_abbreviations() {
        assert_eq!(
            first_sentence("An SPDX expression, e.g. 'CC-BY-4.0'. More."),
            "An SPDX expression, e.g. 'CC-BY-4.0'."
        );
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(
            first_sentence("Lists (i.e. arrays). Then"),
            "Lists (i.e. arrays)."
        );
        assert_eq!(first_sentence("No period"), "No period");
    }

    #[test]
    fn markdown_is_neutralised() {
        assert_eq!(escape("See [docs] <here>"), "See \\[docs\\] \\<here\\>");
        assert_eq!(escape("    indented"), "indented");
        assert_eq!(escape("# not a heading"), "\\# not a heading");
        assert_eq!(escape("a `code` b"), "a `code` b");
        assert_eq!(escape("```rust"), "\\`\\`\\`rust");
        assert_eq!(
            escape("Go to https://bsky.app/x. Then"),
            "Go to <https://bsky.app/x>. Then"
        );
    }

    #[test]
    fn doc_lines() {
        let mut out = String::new();
        write_doc(&mut out, "    ", "one\n\ntwo");
        assert_eq!(out, "    /// one\n    ///\n    /// two\n");
    }

    #[test]
    fn sentences() {
        assert_eq!(first_sentence("Alt text. More here."), "Alt text.");
        assert_eq!(first_sentence("No stop"), "No stop");
    }
}
