//! Identifiers that are parsed once and are then known to be safe in topics, paths and SQL.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize};

use crate::ProtocolError;

/// The longest identifier accepted, so ids fit in topics and log lines.
const MAX_ID_LEN: usize = 64;

fn validate(what: &'static str, raw: &str) -> Result<(), ProtocolError> {
    let invalid = |reason: &str| ProtocolError::InvalidId {
        what,
        reason: reason.to_owned(),
    };
    if raw.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if raw.len() > MAX_ID_LEN {
        return Err(invalid("must be at most 64 characters"));
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(invalid("may contain only a-z, 0-9, '-' and '_'"));
    }
    if raw.starts_with(['-', '_']) {
        return Err(invalid("must start with a letter or digit"));
    }
    Ok(())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1–64 characters of `a-z`, `0-9`, `-`, `_`.
            pub fn parse(raw: impl Into<String>) -> Result<Self, ProtocolError> {
                let raw = raw.into();
                validate($what, &raw)?;
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ProtocolError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

identifier!(
    /// A device's identity, unique across the whole cloud.
    DeviceId,
    "device id"
);
identifier!(
    /// A site (building, campus, office) that groups devices.
    SiteId,
    "site id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids() {
        assert_eq!(DeviceId::parse("door-1").unwrap().as_str(), "door-1");
        assert!(SiteId::parse("hq_2").is_ok());
    }

    #[test]
    fn rejects_topic_and_path_metacharacters() {
        for bad in [
            "",
            "a/b",
            "+",
            "#",
            "../x",
            "Door",
            "-x",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(DeviceId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn deserialising_validates() {
        let err = serde_json::from_str::<DeviceId>("\"a/b\"").unwrap_err();
        assert!(err.to_string().contains("device id"), "{err}");
    }
}
