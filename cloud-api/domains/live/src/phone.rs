//! ChatMe phone numbers: judged against the numbering plan (`phonenumber`, region ID by
//! default) and mapped to the platform's canonical `62…` identifier, so `0812…`, `62812…`
//! and `+62 812-…` name the same account. Numbers of other countries are refused (the
//! platform stores Indonesian numbers only).

use platform::{i18n::Msg, identity::Phone};

/// The refusal for anything that is not a plausible Indonesian number.
pub fn invalid() -> Msg {
    Msg::new(
        "Nomor HP tidak valid (contoh: 081234567890)",
        "Invalid phone number (e.g. 081234567890)",
    )
}

/// `raw` as the platform's phone identifier, when it is a valid Indonesian number.
pub fn normalize(raw: &str) -> Result<Phone, Msg> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 32 {
        return Err(invalid());
    }
    // A bare `62…` is the country code written without its plus.
    let candidate = if trimmed.starts_with("62") {
        format!("+{trimmed}")
    } else {
        trimmed.to_owned()
    };
    let number = phonenumber::parse(Some(phonenumber::country::Id::ID), &candidate)
        .map_err(|_| invalid())?;
    if number.code().value() != 62 || !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    let digits = e164.trim_start_matches('+');
    Phone::parse(digits).map_err(|_| invalid())
}

/// The E.164 form of a stored phone identifier: `+62812…`.
pub fn e164(phone: &str) -> String {
    format!("+{phone}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_three_forms_are_one_number() {
        let a = normalize("081234567890").unwrap();
        let b = normalize("6281234567890").unwrap();
        let c = normalize("+62 812-3456-7890").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.as_str(), "6281234567890");
    }

    #[test]
    fn implausible_numbers_are_refused() {
        for raw in [
            "",
            "abc",
            "0812",
            "+1 650 253 0000",
            "0812345678901234567",
            "08123456789x",
            "+62",
            "00000000000",
        ] {
            assert!(normalize(raw).is_err(), "{raw:?} accepted");
        }
    }

    proptest! {
        /// Any Telkomsel-style mobile number written in the local, international or
        /// punctuated form normalises to the same identifier (or is refused in every form).
        #[test]
        fn forms_agree(prefix in 11u32..=13, rest in "[0-9]{7,9}") {
            let national = format!("8{prefix}{rest}");
            let forms = [
                format!("0{national}"),
                format!("62{national}"),
                format!("+62{national}"),
                format!("+62 {}-{}", &national[..3], &national[3..]),
                format!(" 0{}-{} ", &national[..3], &national[3..]),
            ];
            let results: Vec<_> = forms.iter().map(|f| normalize(f).ok()).collect();
            for r in &results {
                prop_assert_eq!(r, &results[0]);
            }
            if let Some(phone) = &results[0] {
                prop_assert_eq!(phone.as_str(), format!("62{national}"));
            }
        }

        /// Letters anywhere make a number implausible.
        #[test]
        fn letters_are_refused(national in "8[1-9][0-9]{6,9}", at in 0usize..8, letter in "[a-zA-Z]") {
            let mut raw = format!("0{national}");
            raw.insert_str(at.min(raw.len()), &letter);
            prop_assert!(normalize(&raw).is_err());
        }

        /// Arbitrary input never panics.
        #[test]
        fn never_panics(raw in ".{0,40}") {
            let _ = normalize(&raw);
        }
    }
}
