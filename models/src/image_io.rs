//! Decoding untrusted image bytes: format sniffing, a pixel budget checked from the header,
//! EXIF orientation, and conversion of every colour type to 8-bit RGB.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

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
    if reader.format().is_none() {
        return Err(ModelError::BadImage(
            "unknown image format (JPEG or PNG expected)".into(),
        ));
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
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    if let Some(o) = orientation {
        image.apply_orientation(o);
    }
    Ok(to_rgb_on_white(image))
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
