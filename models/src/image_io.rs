//! Decoding untrusted image bytes: format sniffing, a pixel budget checked from the header,
//! refusal of truncated or corrupt data, EXIF orientation, and conversion of every colour
//! type to 8-bit RGB.
//!
//! The `image` crate decodes JPEGs leniently, as browsers do: missing or garbled scan data
//! becomes grey blocks, and a face cut in half can still be matched. Here a JPEG must end with
//! its end-of-image marker and decode without error in strict mode, or it is refused.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::ModelError;

/// Bounds on what `decode_image` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest width × height accepted, checked from the header before any pixel is decoded.
    pub max_pixels: u64,
    /// Smallest width and height accepted.
    pub min_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_pixels: 50_000_000,
            min_side: 8,
        }
    }
}

/// Decodes JPEG or PNG bytes into an upright RGB image.
///
/// Grayscale, CMYK, 16-bit and alpha images become RGB (alpha is composited on white);
/// the EXIF orientation is applied. Images over the pixel budget are refused from their
/// header, so memory stays bounded whatever the bytes claim.
pub fn decode_image(bytes: &[u8], limits: &ImageLimits) -> Result<RgbImage, ModelError> {
    if bytes.is_empty() {
        return Err(ModelError::BadImage("empty input".into()));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ModelError::BadImage(e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(ModelError::BadImage(
            "unknown image format (JPEG or PNG expected)".into(),
        ));
    };
    let jpeg = format == ImageFormat::Jpeg;
    if jpeg {
        jpeg_end(bytes).map_err(|reason| ModelError::BadImage(reason.into()))?;
    }
    let mut decoder_limits = Limits::default();
    // 8 bytes a pixel covers 16-bit RGBA, the widest colour type decoded here, plus slack.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(1 << 20));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(map_image_error)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ModelError::TooLarge {
            width,
            height,
            pixels,
            budget: limits.max_pixels,
        });
    }
    if width < limits.min_side || height < limits.min_side {
        return Err(ModelError::TooSmall { width, height });
    }
    if jpeg {
        // After the budget check: the strict pass decodes every pixel once more.
        strict_jpeg_decode(bytes)?;
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    if let Some(o) = orientation {
        image.apply_orientation(o);
    }
    Ok(to_rgb_on_white(image))
}

/// Refuses a JPEG whose data does not decode cleanly: the decoder inside `image` runs
/// leniently and would fill what it cannot read with grey.
fn strict_jpeg_decode(bytes: &[u8]) -> Result<(), ModelError> {
    let options = zune_core::options::DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(bytes), options)
        .decode()
        .map(drop)
        .map_err(|e| ModelError::BadImage(format!("corrupt JPEG data: {e}")))
}

/// Where the end-of-image marker of the JPEG `bytes` ends, following the segment lengths
/// and the entropy-coded scans from the start-of-image marker; otherwise why the structure
/// is broken. Bytes after the marker (some cameras pad) are ignored.
fn jpeg_end(bytes: &[u8]) -> Result<usize, &'static str> {
    const EOI: u8 = 0xD9;
    const SOS: u8 = 0xDA;
    const TRUNCATED: &str = "truncated JPEG: the data stops before the end-of-image marker";
    let standalone = |marker: u8| marker == 0x01 || (0xD0..=0xD7).contains(&marker);
    // The next 0xFF at or after `at`, or the end of the data.
    let next_ff = |at: usize| -> Result<usize, &'static str> {
        let rest = bytes.get(at..).ok_or(TRUNCATED)?;
        Ok(at + rest.iter().position(|&b| b == 0xFF).ok_or(TRUNCATED)?)
    };
    let byte = |at: usize| bytes.get(at).copied().ok_or(TRUNCATED);
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err("corrupt JPEG: no start-of-image marker");
    }
    let mut at = 2;
    loop {
        // Tolerate junk and fill bytes before a marker, as decoders do.
        at = next_ff(at)?;
        while byte(at + 1)? == 0xFF {
            at += 1;
        }
        let marker = byte(at + 1)?;
        at += 2;
        if marker == EOI {
            return Ok(at);
        }
        if marker == 0x00 || standalone(marker) {
            continue;
        }
        let length = usize::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?]));
        if length < 2 {
            return Err("corrupt JPEG: a segment shorter than its own length field");
        }
        at += length;
        if at > bytes.len() {
            return Err(TRUNCATED);
        }
        if marker == SOS {
            // Scan data runs to the next marker that is neither a stuffed 0xFF00, a fill
            // byte nor a restart marker.
            loop {
                at = next_ff(at)?;
                match byte(at + 1)? {
                    0x00 => at += 2,
                    next if standalone(next) => at += 2,
                    0xFF => at += 1,
                    _ => break,
                }
            }
        }
    }
}

fn map_image_error(e: image::ImageError) -> ModelError {
    match e {
        image::ImageError::Limits(l) => {
            ModelError::BadImage(format!("over the decoder memory limit: {l}"))
        }
        other => ModelError::BadImage(other.to_string()),
    }
}

fn to_rgb_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(src[3]);
        for c in 0..3 {
            let v = (u16::from(src[c]) * a + 255 * (255 - a) + 127) / 255;
            dst[c] = v.min(255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read(rel: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn refused(bytes: &[u8]) -> String {
        match decode_image(bytes, &ImageLimits::default()) {
            Err(ModelError::BadImage(reason)) => reason,
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(image) => panic!("decoded as {}x{}", image.width(), image.height()),
        }
    }

    #[test]
    fn whole_photos_decode() {
        for rel in [
            "people/obama/obama.jpg",
            "people/obama/obama2.jpg",
            "people/obama/obama3.jpg",
            "people/biden/biden.jpg",
            "strangers/group_t1.jpg",
            "nonfaces/chelsea_cat.jpg",
            "bad/obama2_cmyk.jpg",
            "bad/obama2_grey.jpg",
            "bad/obama2_exif_rotated.jpg",
            "bad/obama2_alpha.png",
        ] {
            let bytes = read(rel);
            assert!(
                decode_image(&bytes, &ImageLimits::default()).is_ok(),
                "{rel}"
            );
            // Padding after the end-of-image marker, as some cameras send, is no damage.
            let mut padded = bytes.clone();
            padded.extend_from_slice(&[0; 64]);
            assert!(
                decode_image(&padded, &ImageLimits::default()).is_ok(),
                "{rel} padded"
            );
        }
    }

    #[test]
    fn truncated_jpegs_are_refused_wherever_they_stop() {
        for rel in ["people/obama/obama.jpg", "people/biden/biden.jpg"] {
            let photo = read(rel);
            // In the headers, early and late in the scan, and one byte short of the end.
            for end in [
                400,
                photo.len() / 10,
                photo.len() / 2,
                photo.len() * 9 / 10,
                photo.len() - 1,
            ] {
                let reason = refused(&photo[..end]);
                assert!(reason.contains("truncated"), "{rel} cut at {end}: {reason}");
            }
        }
        assert!(refused(&read("bad/truncated.jpg")).contains("truncated"));
    }

    #[test]
    fn a_jpeg_with_garbled_scan_data_is_refused() {
        let photo = read("people/obama/obama2.jpg");
        // A burst of noise in the middle of the entropy-coded data, as a bad USB transfer
        // leaves it; the file still ends properly.
        let mut garbled = photo.clone();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let middle = photo.len() / 2;
        for byte in &mut garbled[middle..middle + 256] {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *byte = (seed >> 24) as u8;
        }
        let reason = refused(&garbled);
        assert!(reason.contains("corrupt JPEG"), "{reason}");
        // A zeroed segment length in the headers.
        let mut header = photo;
        let dqt = header
            .windows(2)
            .position(|w| w == [0xFF, 0xDB])
            .expect("a quantisation table");
        header[dqt + 2..dqt + 4].copy_from_slice(&[0, 0]);
        assert!(refused(&header).contains("corrupt JPEG"));
    }

    #[test]
    fn the_end_is_found_after_several_scans() {
        // SOI, APP0, SOS with stuffed bytes and a restart marker, DHT between scans, a second
        // SOS, EOI: the shape of a progressive JPEG.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, // SOI, APP0
            0xFF, 0xDA, 0x00, 0x03, 0x01, // SOS
            0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, // scan data
            0xFF, 0xC4, 0x00, 0x03, 0x00, // DHT
            0xFF, 0xDA, 0x00, 0x03, 0x01, 0x78, // SOS, scan data
            0xFF, 0xD9, // EOI
        ];
        assert_eq!(jpeg_end(&jpeg), Ok(jpeg.len()));
        for end in 2..jpeg.len() {
            assert!(
                jpeg_end(&jpeg[..end]).is_err_and(|reason| reason.starts_with("truncated")),
                "cut at {end}"
            );
        }
    }
}
