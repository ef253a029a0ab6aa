//! Keeping passwords out of everything the command prints.
//!
//! Two nets, so that neither alone has to be perfect:
//!
//! - every URL the command was given registers its password (as written and percent-decoded),
//!   and any text the command prints has each of them replaced by `***`, wherever it appears
//!   (SeaORM's and sqlx's error text quote a URL, or a part of one, as they parsed it);
//! - any `scheme://user:password@host` in the text has its password replaced, also for URLs
//!   the command never saw (a replica's status, say).

/// What replaces a password.
pub(crate) const MASK: &str = "***";

/// The passwords of the URLs the command was given.
#[derive(Clone, Debug, Default)]
pub(crate) struct Secrets {
    words: Vec<String>,
}

impl Secrets {
    /// Registers the password of `url`, if it has one.
    pub(crate) fn add_url(&mut self, url: &str) {
        let Some(password) = password_of(url) else {
            return;
        };
        let decoded = percent_decode(password);
        for word in [password.to_owned(), decoded] {
            if !word.is_empty() && !self.words.contains(&word) {
                self.words.push(word);
            }
        }
        // Longest first, so that a password containing another is masked whole.
        self.words.sort_by_key(|word| std::cmp::Reverse(word.len()));
    }

    /// `text` with every registered password and every URL's password masked.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = mask_urls(text);
        for word in &self.words {
            text = text.replace(word.as_str(), MASK);
        }
        text
    }
}

/// The password in `url`'s user information: between the first `:` after `scheme://` and the
/// last `@` of the URL's first word. Taken this loosely on purpose: a password with an
/// unencoded `/`, `#`, `?` or `@` is still found, where a URL parser would stop early (and
/// then quote the rest in its error).
pub(crate) fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let word = rest.split(char::is_whitespace).next().unwrap_or(rest);
    let at = word.rfind('@')?;
    let user_info = &word[..at];
    let colon = user_info.find(':')?;
    Some(&user_info[colon + 1..])
}

/// `text` with the password of every `scheme://user:password@…` masked.
pub(crate) fn mask_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let (before, after) = rest.split_at(found + 3);
        out.push_str(before);
        // The URL runs to the first character that cannot be in one as printed.
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(after.len());
        let word = &after[..end];
        match (word.rfind('@'), word.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&word[..=colon]);
                out.push_str(MASK);
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `%XX` sequences decoded; anything else kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` with a `mariadb://` scheme written as `mysql://`, the scheme SeaORM and sqlx accept for
/// both servers.
pub(crate) fn normalise_scheme(url: &str) -> String {
    match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_password_is_found_even_with_characters_a_parser_stops_at() {
        assert_eq!(password_of("postgres://app:secret@db/shop"), Some("secret"));
        assert_eq!(
            password_of("postgres://app:se/cr#e?t@db/shop"),
            Some("se/cr#e?t")
        );
        assert_eq!(password_of("mysql://app:p@ss@db/shop"), Some("p@ss"));
        assert_eq!(password_of("postgres://app@db/shop"), None);
        assert_eq!(password_of("sqlite://file.db?mode=rwc"), None);
        assert_eq!(password_of("not a url"), None);
    }

    #[test]
    fn every_url_in_a_text_has_its_password_masked() {
        assert_eq!(
            mask_urls("error connecting to postgres://app:secret@db:5432/shop: refused"),
            "error connecting to postgres://app:***@db:5432/shop: refused"
        );
        assert_eq!(
            mask_urls("'mysql://a:b@h/x' and \"postgres://c:d/e@h/y\" but not sqlite://f.db"),
            "'mysql://a:***@h/x' and \"postgres://c:***@h/y\" but not sqlite://f.db"
        );
        assert_eq!(mask_urls("no url here"), "no url here");
        assert_eq!(mask_urls("https://host/path"), "https://host/path");
    }

    #[test]
    fn a_registered_password_is_masked_wherever_it_appears() {
        let mut secrets = Secrets::default();
        secrets.add_url("postgres://app:s3cr%23t/x@db/shop");
        // As written, decoded, and inside an error that quotes only part of the URL.
        let text = "invalid port number in `app:s3cr%23t/x`; password s3cr#t/x rejected";
        let redacted = secrets.redact(text);
        assert!(!redacted.contains("s3cr"), "{redacted}");
        assert_eq!(
            redacted,
            "invalid port number in `app:***`; password *** rejected"
        );
    }

    #[test]
    fn mariadb_urls_are_read_as_mysql_ones() {
        assert_eq!(
            normalise_scheme("mariadb://app:pw@db/shop"),
            "mysql://app:pw@db/shop"
        );
        assert_eq!(normalise_scheme("postgres://db/shop"), "postgres://db/shop");
    }
}
