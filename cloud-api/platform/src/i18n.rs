//! Messages in two languages: Indonesian by default (as the seeds are), English when the
//! request says `Accept-Language: en`. The language is carried in a task-local that the
//! HTTP layer sets per request, so errors deep in a service render in the caller's language.

use std::{borrow::Cow, fmt};

use axum::{extract::Request, http::header::ACCEPT_LANGUAGE, middleware::Next, response::Response};

/// The language of the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

tokio::task_local! {
    static LANG: Lang;
}

impl Lang {
    /// The language of the request being handled (Indonesian outside of a request).
    pub fn current() -> Lang {
        LANG.try_with(|lang| *lang).unwrap_or_default()
    }

    /// Picks the first supported language of an `Accept-Language` header.
    pub fn from_header(header: &str) -> Lang {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("en") {
                return Lang::En;
            }
            if tag.starts_with("id") || tag.starts_with("in") {
                return Lang::Id;
            }
        }
        Lang::Id
    }
}

/// Middleware: runs the rest of the request with its language set.
pub async fn language(request: Request, next: Next) -> Response {
    let lang = request
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_header)
        .unwrap_or_default();
    LANG.scope(lang, next.run(request)).await
}

/// A user-facing message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub id: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Msg {
    pub const fn new(id: &'static str, en: &'static str) -> Self {
        Self {
            id: Cow::Borrowed(id),
            en: Cow::Borrowed(en),
        }
    }

    pub fn owned(id: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            id: Cow::Owned(id.into()),
            en: Cow::Owned(en.into()),
        }
    }

    /// The text in the language of the current request.
    pub fn localized(&self) -> &str {
        match Lang::current() {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_accept_language() {
        assert_eq!(Lang::from_header("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_header("id-ID,en;q=0.5"), Lang::Id);
        assert_eq!(Lang::from_header("fr, en;q=0.1"), Lang::En);
        assert_eq!(Lang::from_header(""), Lang::Id);
    }
}
