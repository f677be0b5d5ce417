//! What the image fuzz target does with its input: `models::decode_image` with a pixel
//! budget, as the cloud decodes an uploaded face photo and the door its camera frames.
//! Shared by `fuzz/fuzz_targets/` and `models/tests/fuzz_regressions.rs`.

use models::{decode_image, ImageLimits};

/// The budget under test: small enough that libFuzzer's memory limit catches any
/// allocation the header check should have refused.
pub const LIMITS: ImageLimits = ImageLimits {
    max_pixels: 4_000_000,
    min_side: 8,
};

pub fn image_decode(data: &[u8]) {
    if let Ok(image) = decode_image(data, &LIMITS) {
        let pixels = u64::from(image.width()) * u64::from(image.height());
        assert!(pixels <= LIMITS.max_pixels, "decoded past the budget");
        assert!(image.width() >= LIMITS.min_side && image.height() >= LIMITS.min_side);
    }
}
