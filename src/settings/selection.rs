//! Namespace and container matching with shell-style globs, with the syntax of
//! Go's `path.Match` that the webhook's configuration was written for:
//! `*` any run of characters, `?` one character, `[a-z]` / `[^0-9]` / `[!x]`
//! a class, `\` escapes the next character.

use std::fmt;

/// Why a pattern is not a glob.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GlobError {
    #[error("an empty pattern matches nothing")]
    EmptyPattern,
    #[error("a '\\' at the end escapes nothing")]
    TrailingEscape,
    #[error("'[' opens a character class that is never closed with ']'")]
    UnclosedClass,
    #[error("'{0}' cannot start a character class item")]
    ClassStart(char),
    #[error("the range '{0}-' has no end")]
    OpenRange(char),
    #[error("the range '{0}-{1}' is backwards")]
    BackwardsRange(char, char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches_one(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::AnyOne => true,
            Token::AnyRun => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
        }
    }
}

/// A parsed, valid glob. Parsing is where a bad pattern is refused, so that
/// matching can never fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    tokens: Vec<Token>,
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Glob {
    pub fn parse(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::EmptyPattern);
        }
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyOne,
                '\\' => Token::Literal(escaped(&mut chars)?),
                '[' => parse_class(&mut chars)?,
                other => Token::Literal(other),
            };
            // Consecutive stars mean the same as one.
            if !(token == Token::AnyRun && tokens.last() == Some(&Token::AnyRun)) {
                tokens.push(token);
            }
        }
        Ok(Glob {
            source: pattern.to_string(),
            tokens,
        })
    }

    /// Linear-time matching: on a mismatch, backtrack only to the last `*`.
    /// Steps through `name` by byte offsets, so that nothing is allocated.
    pub fn matches(&self, name: &str) -> bool {
        let char_at = |i: usize| name.get(i..).and_then(|rest| rest.chars().next());
        let (mut t, mut i) = (0usize, 0usize);
        let mut resume: Option<(usize, usize)> = None;
        while let Some(c) = char_at(i) {
            match self.tokens.get(t) {
                Some(Token::AnyRun) => {
                    t += 1;
                    resume = Some((t, i));
                    continue;
                }
                Some(token) if token.matches_one(c) => {
                    t += 1;
                    i += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            match resume {
                Some((after_star, from)) => {
                    t = after_star;
                    i = from + char_at(from).map_or(1, char::len_utf8);
                    resume = Some((after_star, i));
                }
                None => return false,
            }
        }
        self.tokens
            .get(t..)
            .is_some_and(|rest| rest.iter().all(|tok| *tok == Token::AnyRun))
    }
}

fn escaped(chars: &mut std::str::Chars<'_>) -> Result<char, GlobError> {
    chars.next().ok_or(GlobError::TrailingEscape)
}

fn parse_class(chars: &mut std::str::Chars<'_>) -> Result<Token, GlobError> {
    let negated = matches!(chars.clone().next(), Some('^' | '!'));
    if negated {
        chars.next();
    }
    let mut ranges = Vec::new();
    loop {
        let c = chars.next().ok_or(GlobError::UnclosedClass)?;
        let lo = match c {
            ']' if !ranges.is_empty() => return Ok(Token::Class { negated, ranges }),
            ']' | '-' => return Err(GlobError::ClassStart(c)),
            '\\' => escaped(chars)?,
            other => other,
        };
        let mut lookahead = chars.clone();
        if lookahead.next() == Some('-') {
            let hi = match lookahead.next() {
                Some(']') | None => return Err(GlobError::OpenRange(lo)),
                Some('\\') => escaped(&mut lookahead)?,
                Some(other) => other,
            };
            if hi < lo {
                return Err(GlobError::BackwardsRange(lo, hi));
            }
            *chars = lookahead;
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
}

/// A list of globs: `any_matches` is false for an empty list.
pub fn any_matches(globs: &[Glob], name: &str) -> bool {
    globs.iter().any(|g| g.matches(name))
}

/// Whether a namespace is in scope: exclusion always wins over inclusion, and
/// an empty inclusion list includes every namespace.
pub fn namespace_selected(include: &[Glob], exclude: &[Glob], namespace: &str) -> bool {
    !any_matches(exclude, namespace) && (include.is_empty() || any_matches(include, namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str) -> Glob {
        Glob::parse(p).unwrap()
    }

    #[test]
    fn globs_match_as_go_path_match_does() {
        let cases = [
            // A literal matches only itself.
            ("istio-proxy", "istio-proxy", true),
            ("istio-proxy", "istio-proxy2", false),
            ("istio-proxy", "istio", false),
            // `*` matches any run.
            ("kube-*", "kube-system", true),
            ("kube-*", "kube-", true),
            ("kube-*", "kube", false),
            ("*", "", true),
            ("*-system", "kube-system", true),
            ("a*b*c", "aXXbYYbc", true),
            ("a*b*c", "aXXbYYb", false),
            ("**x", "x", true),
            // Characters beyond ASCII count as one.
            ("?", "é", true),
            ("caf?-*", "café-ü", true),
            ("*é?x", "ééé€x", true),
            ("*é?x", "éx", false),
            // `?` matches one character.
            ("team-?", "team-a", true),
            ("team-?", "team-ab", false),
            ("team-?", "team-", false),
            // Classes, ranges and negation.
            ("ns-[0-9]", "ns-7", true),
            ("ns-[0-9]", "ns-x", false),
            ("ns-[^0-9]", "ns-x", true),
            ("ns-[!0-9]", "ns-x", true),
            ("ns-[!0-9]", "ns-1", false),
            ("[ab]c", "bc", true),
            // An escape makes a metacharacter literal.
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            // Backtracking over stars stays quick on a long name.
            ("*a*a*a*a*a*b", &"a".repeat(10_000), false),
        ];
        for (pattern, name, matches) in cases {
            assert_eq!(glob(pattern).matches(name), matches, "{pattern:?} {name:?}");
        }
        assert_eq!(Glob::parse("[]a]"), Err(GlobError::ClassStart(']')));
    }

    #[test]
    fn invalid_globs_are_refused_with_a_reason() {
        let refused = |p: &str| Glob::parse(p).unwrap_err().to_string();
        assert_eq!(
            refused("kube-["),
            "'[' opens a character class that is never closed with ']'"
        );
        assert_eq!(refused("a\\"), "a '\\' at the end escapes nothing");
        assert_eq!(refused("[z-a]"), "the range 'z-a' is backwards");
        assert_eq!(refused("[]"), "']' cannot start a character class item");
        assert_eq!(refused(""), "an empty pattern matches nothing");
        assert_eq!(refused("[a-]"), "the range 'a-' has no end");
    }

    #[test]
    fn exclude_namespace_wins_over_include_and_no_include_includes_all() {
        let include = [glob("team-*")];
        let exclude = [glob("team-secret")];
        assert!(namespace_selected(&include, &exclude, "team-a"));
        assert!(!namespace_selected(&include, &exclude, "team-secret"));
        assert!(!namespace_selected(&include, &exclude, "default"));
        assert!(namespace_selected(&[], &[], "anything"));
        assert!(!namespace_selected(&[], &[glob("kube-*")], "kube-system"));
    }
}
