//! ChatMe phone numbers, normalised to E.164 and judged against the numbering plan
//! (`phonenumber`): a number written without a country code is Indonesian (`0812…`, or
//! `62812…` with the code but no `+`), a number of any other country is written with its
//! `+` code (`+1 650 253 0000`). `0812…`, `62812…` and `+62 812-…` name the same account;
//! anything that is not a valid number is refused. Stored as the platform's phone
//! identifier: the E.164 digits without the `+`.

use platform::{i18n::Msg, identity::Phone};

/// The Indonesian mobile form the OpenAPI schemas document for a phone (`0812…`): the
/// numbering plan's mobile ranges (`8[1-35-9]`, 9 to 11 national digits here), every number
/// of which [`normalize`] accepts (tested below). The handlers accept more (`62…`, `+…`).
pub const MOBILE_PATTERN: &str = "^08[1-35-9][0-9]{7,9}$";

/// The refusal for anything that is not a valid phone number.
pub fn invalid() -> Msg {
    Msg::new(
        "Nomor HP tidak valid (contoh: 081234567890, atau +kode negara)",
        "Invalid phone number (e.g. 081234567890, or + country code)",
    )
}

/// `raw` as the platform's phone identifier, when it is a valid number.
pub fn normalize(raw: &str) -> Result<Phone, Msg> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 32 || !written_like_a_number(trimmed) {
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
    if !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    Phone::from_e164_digits(e164.trim_start_matches('+')).map_err(|_| invalid())
}

/// Digits with the usual separators (space, `-`, `.`, `(`, `)`) and at most a leading `+`.
/// `phonenumber` would read letters as a keypad vanity number (`0812-abc…` → `0812-222…`);
/// a typed phone number with letters is a typo, not a vanity number.
fn written_like_a_number(raw: &str) -> bool {
    let body = raw.strip_prefix('+').unwrap_or(raw);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    (8..=16).contains(&digits)
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
}

/// The E.164 form of a stored phone identifier: `+62812…`.
pub fn e164(phone: &str) -> String {
    format!("+{phone}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every number [`MOBILE_PATTERN`] admits: each allowed third digit, each length, and
    /// tails of all zeros, all nines and a spread of others.
    fn mobile_pattern_numbers() -> Vec<String> {
        let mut numbers = Vec::new();
        let mut state: u64 = 20_261_206;
        for third in ['1', '2', '3', '5', '6', '7', '8', '9'] {
            for len in 7..=9 {
                numbers.push(format!("08{third}{}", "0".repeat(len)));
                numbers.push(format!("08{third}{}", "9".repeat(len)));
                for _ in 0..50 {
                    let tail: String = (0..len)
                        .map(|_| {
                            state = state
                                .wrapping_mul(6_364_136_223_846_793_005)
                                .wrapping_add(1);
                            char::from(b'0' + ((state >> 33) % 10) as u8)
                        })
                        .collect();
                    numbers.push(format!("08{third}{tail}"));
                }
            }
        }
        numbers
    }

    #[test]
    fn every_number_the_schema_pattern_admits_is_accepted() {
        assert_eq!(
            MOBILE_PATTERN, "^08[1-35-9][0-9]{7,9}$",
            "update the generator too"
        );
        for number in mobile_pattern_numbers() {
            assert!(
                normalize(&number).is_ok(),
                "{number} matches the schema but is refused"
            );
        }
    }

    #[test]
    fn numbers_outside_the_mobile_ranges_are_refused() {
        for number in [
            "0",
            "0000000000000000000000000000000",
            "08123",
            "0812-abc-4567",
        ] {
            assert!(normalize(number).is_err(), "{number} was accepted");
        }
    }
}
