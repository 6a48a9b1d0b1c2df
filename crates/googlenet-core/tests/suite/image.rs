//! Digits from PNG and JPEG files: real MNIST test digits written out as
//! images, in both polarities, at other sizes and in colour, come back as
//! (nearly) the MNIST digit; images without a digit (blank, a speck,
//! scattered specks, faint shading) say so; damaged and hostile files fail
//! cleanly.

use std::io::Cursor;

use crate::common::{mnist, temp_dir};
use googlenet_core::data::Split;
use googlenet_core::image::{digit_from_image_bytes, read_digit_image, Digit, ImageError, NoDigit, SIDE};
use googlenet_core::Error;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};

const DIGITS: usize = 20;

fn mnist_digits() -> Vec<GrayImage> {
    let data = mnist(Split::Test, DIGITS);
    (0..DIGITS).map(|i| GrayImage::from_raw(28, 28, data.image(i).to_vec()).unwrap()).collect()
}

fn encode(image: impl Into<DynamicImage>, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.into().write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

fn png(image: impl Into<DynamicImage>) -> Vec<u8> {
    encode(image, ImageFormat::Png)
}

/// The digit in `bytes`, which must decode and hold one.
fn fit(bytes: &[u8]) -> Digit {
    let digit = digit_from_image_bytes(bytes).expect("a decodable image");
    assert_eq!(digit.no_digit, None, "a digit was expected");
    digit
}

/// Why the image in `bytes` holds no digit; nothing may be fitted.
fn no_digit(bytes: &[u8]) -> NoDigit {
    let digit = digit_from_image_bytes(bytes).expect("a decodable image");
    assert!(digit.pixels.iter().all(|&v| v == 0.0), "pixels were fitted for {:?}", digit.no_digit);
    digit.no_digit.expect("no digit was expected")
}

/// A fixed-seed xorshift generator, for noise that is the same on every run.
fn random(mut state: u32) -> impl FnMut() -> u32 {
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}

/// `image`'s ink (0..255, light on dark) as a photo of pencil on gray paper:
/// paper 200, full ink 60, and sensor noise of ±8 levels.
fn on_paper(image: &GrayImage) -> GrayImage {
    let mut noise = random(12345);
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        let ink = image.get_pixel(x, y).0[0] as i32;
        Luma([(200 - ink * 140 / 255 + (noise() % 17) as i32 - 8) as u8])
    })
}

/// Light strokes about 1 pixel wide through `points`, on a black `w × h` canvas.
fn strokes(w: u32, h: u32, points: &[(f32, f32)]) -> GrayImage {
    let distance = |(px, py): (f32, f32), (ax, ay): (f32, f32), (bx, by): (f32, f32)| {
        let (dx, dy) = (bx - ax, by - ay);
        let t = (((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
        (px - ax - t * dx).hypot(py - ay - t * dy)
    };
    GrayImage::from_fn(w, h, |x, y| {
        let near = points.windows(2).any(|s| distance((x as f32, y as f32), s[0], s[1]) <= 0.5);
        Luma([if near { 255 } else { 0 }])
    })
}

/// Mean |a − b| over the 784 pixels (`original` in bytes), at the best of
/// the shifts by at most one pixel: like MNIST, the fit centres by whole
/// pixels, and a centre of mass near a half pixel may round either way.
fn mean_abs_diff(digit: &Digit, original: &GrayImage) -> f32 {
    let side = SIDE as i64;
    let at = |x: i64, y: i64| if (0..side).contains(&x) && (0..side).contains(&y) { digit.pixels[(y * side + x) as usize] } else { 0.0 };
    let shifts = (-1..=1).flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)));
    shifts
        .map(|(dx, dy)| {
            let sum: f32 =
                original.enumerate_pixels().map(|(x, y, p)| (at(x as i64 + dx, y as i64 + dy) - p.0[0] as f32 / 255.0).abs()).sum();
            sum / (SIDE * SIDE) as f32
        })
        .fold(f32::MAX, f32::min)
}

fn inverted(image: &GrayImage) -> GrayImage {
    GrayImage::from_fn(image.width(), image.height(), |x, y| Luma([255 - image.get_pixel(x, y).0[0]]))
}

/// `image` enlarged `factor` times (each pixel a block) on a wider canvas, digit off-centre.
fn upscaled_off_centre(image: &GrayImage, factor: u32) -> GrayImage {
    let (w, h) = (28 * factor + 50, 28 * factor + 10);
    GrayImage::from_fn(w, h, |x, y| match (x.checked_sub(40), y.checked_sub(3)) {
        (Some(x), Some(y)) if x < 28 * factor && y < 28 * factor => *image.get_pixel(x / factor, y / factor),
        _ => Luma([0]),
    })
}

#[test]
fn an_mnist_digit_round_trips_through_png() {
    for (i, original) in mnist_digits().iter().enumerate() {
        let digit = fit(&png(original.clone()));
        assert_eq!((digit.pixels.len(), digit.inverted, digit.source_width, digit.source_height), (SIDE * SIDE, false, 28, 28));
        let diff = mean_abs_diff(&digit, original);
        assert!(diff < 0.005, "digit {i}: mean difference {diff}");
        assert!(digit.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

#[test]
fn dark_on_light_is_inverted_to_the_same_digit() {
    for original in mnist_digits() {
        let light = fit(&png(original.clone()));
        let dark = fit(&png(inverted(&original)));
        assert!(dark.inverted);
        let diff = light.pixels.iter().zip(&dark.pixels).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-6, "largest difference {diff}");
    }
}

#[test]
fn a_larger_off_centre_image_gives_nearly_the_same_digit() {
    for (i, original) in mnist_digits().iter().enumerate() {
        let digit = fit(&png(upscaled_off_centre(original, 3)));
        assert_eq!((digit.source_width, digit.source_height), (134, 94));
        let diff = mean_abs_diff(&digit, original);
        assert!(diff < 0.01, "digit {i}: mean difference {diff}");
    }
}

#[test]
fn jpeg_works() {
    for (i, original) in mnist_digits().iter().enumerate() {
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&upscaled_off_centre(original, 2)).unwrap();
        let diff = mean_abs_diff(&fit(&bytes), original);
        assert!(diff < 0.04, "digit {i}: mean difference {diff}");
    }
}

#[test]
fn rgb_and_rgba_read_as_gray_with_transparency_as_white_paper() {
    for (i, original) in mnist_digits().iter().enumerate() {
        // Blue ink on white paper.
        let rgb = RgbImage::from_fn(28, 28, |x, y| {
            let ink = original.get_pixel(x, y).0[0];
            Rgb([255 - ink, 255 - ink, 255])
        });
        let from_rgb = fit(&png(rgb));
        assert!(from_rgb.inverted);
        // Blue ink is 7 % lighter than black in luma: the same digit, a little fainter.
        let diff = mean_abs_diff(&from_rgb, original);
        assert!(diff < 0.03, "digit {i}, RGB: mean difference {diff}");
        // Black ink on a transparent background: transparency is white paper.
        let rgba = RgbaImage::from_fn(28, 28, |x, y| Rgba([0, 0, 0, original.get_pixel(x, y).0[0]]));
        let from_rgba = fit(&png(rgba));
        assert!(from_rgba.inverted);
        let diff = mean_abs_diff(&from_rgba, original);
        assert!(diff < 0.005, "digit {i}, RGBA: mean difference {diff}");
    }
}

#[test]
fn every_mnist_test_digit_is_found() {
    let data = mnist(Split::Test, 10_000);
    for i in 0..data.len() {
        let image = GrayImage::from_raw(28, 28, data.image(i).to_vec()).unwrap();
        assert_eq!(digit_from_image_bytes(&png(image)).unwrap().no_digit, None, "test digit {i}");
    }
}

#[test]
fn enlarged_small_photographed_and_thin_digits_are_found() {
    for original in mnist_digits() {
        // Ten times enlarged, 330×290.
        fit(&png(upscaled_off_centre(&original, 10)));
        // At MNIST's size in a corner of a 1000×800 canvas: a 20-pixel digit, 2 % of the width.
        let small = GrayImage::from_fn(1000, 800, |x, y| match (x.checked_sub(950), y.checked_sub(750)) {
            (Some(x), Some(y)) if x < 28 && y < 28 => *original.get_pixel(x, y),
            _ => Luma([0]),
        });
        fit(&png(small));
        // Pencil on gray paper with sensor noise, as a photo and as a JPEG of it.
        let photo = on_paper(&upscaled_off_centre(&original, 4));
        assert!(fit(&png(photo.clone())).inverted);
        fit(&encode(photo, ImageFormat::Jpeg));
    }
    // A 7 drawn with 1-pixel strokes on 300×300, in both polarities.
    let seven = strokes(300, 300, &[(60.0, 60.0), (240.0, 60.0), (120.0, 260.0)]);
    fit(&png(seven.clone()));
    assert!(fit(&png(inverted(&seven))).inverted);
}

#[test]
fn flat_images_hold_no_digit() {
    for gray in [0u8, 128, 200, 255] {
        assert_eq!(no_digit(&png(GrayImage::from_pixel(40, 30, Luma([gray])))), NoDigit::Blank, "gray {gray}");
    }
    assert_eq!(no_digit(&png(GrayImage::from_pixel(1, 1, Luma([255])))), NoDigit::Blank);
    // Blank gray paper, photographed with sensor noise.
    assert_eq!(no_digit(&png(on_paper(&GrayImage::new(200, 150)))), NoDigit::Blank);
}

#[test]
fn a_lone_pixel_or_a_speck_is_too_small_for_a_digit() {
    let lone = NoDigit::TooSmall { width: 1, height: 1, min_side: 5 };
    for side in [28, 280] {
        let lit = GrayImage::from_fn(side, side, |x, y| Luma([if (x, y) == (side / 2, side / 3) { 255 } else { 0 }]));
        assert_eq!(no_digit(&png(lit.clone())), lone, "{side}×{side}");
        assert_eq!(no_digit(&png(inverted(&lit))), lone, "{side}×{side}, inverted");
        assert_eq!(no_digit(&encode(lit, ImageFormat::Jpeg)), lone, "{side}×{side}, JPEG");
    }
    let blot = GrayImage::from_fn(50, 50, |x, y| Luma([if (20..23).contains(&x) && (30..34).contains(&y) { 255 } else { 0 }]));
    assert_eq!(no_digit(&png(blot)), NoDigit::TooSmall { width: 3, height: 4, min_side: 5 });
    // A 12×12 speck on a 2000×1500 scan: a digit there spans at least 20 pixels (1 %).
    let speck = GrayImage::from_fn(2000, 1500, |x, y| Luma([if (900..912).contains(&x) && (700..712).contains(&y) { 0 } else { 255 }]));
    assert_eq!(no_digit(&png(speck)), NoDigit::TooSmall { width: 12, height: 12, min_side: 20 });
}

#[test]
fn scattered_specks_are_not_a_digit() {
    let mut next = random(7);
    let specks: Vec<(u32, u32)> = (0..8).map(|_| (next() % 100, next() % 100)).collect();
    let image = GrayImage::from_fn(100, 100, |x, y| Luma([if specks.contains(&(x, y)) { 255 } else { 0 }]));
    assert!(matches!(no_digit(&png(image.clone())), NoDigit::Scattered { ink, .. } if ink == 8.0));
    assert!(matches!(no_digit(&png(inverted(&image))), NoDigit::Scattered { ink, .. } if ink == 8.0));
    // JPEG's ringing around each speck does not add up to strokes.
    assert!(matches!(no_digit(&encode(image, ImageFormat::Jpeg)), NoDigit::Scattered { .. }));
}

#[test]
fn a_faint_gradient_is_shading_not_a_digit() {
    // Uneven light across gray paper (40 of 255 levels), and across a dark background.
    for (from, to) in [(100u32, 140u32), (0, 60)] {
        let ramp = GrayImage::from_fn(120, 90, |x, _| Luma([(from + (to - from) * x / 119) as u8]));
        assert!(matches!(no_digit(&png(ramp.clone())), NoDigit::Faint { contrast } if contrast < 0.2), "{from}..{to}");
        assert!(matches!(no_digit(&png(inverted(&ramp))), NoDigit::Faint { .. }), "{from}..{to}, inverted");
    }
}

#[test]
fn the_reasons_say_what_was_found() {
    assert_eq!(NoDigit::Blank.to_string(), "the image is blank: nothing stands out from its background");
    let small = NoDigit::TooSmall { width: 1, height: 1, min_side: 5 };
    assert_eq!(small.to_string(), "the marks are only 1×1 pixels, too small for a digit (at least 5 on the larger side)");
    let faint = NoDigit::Faint { contrast: 0.123 };
    assert_eq!(faint.to_string(), "only faint shading: the marks average 12% contrast with the background, a digit needs 20%");
    let scattered = NoDigit::Scattered { ink: 8.0, width: 93, height: 87 };
    assert_eq!(scattered.to_string(), "only scattered specks: ink worth 8.0 pixels spread over 93×87, too little for strokes across it");
}

#[test]
fn a_thin_stroke_keeps_its_aspect_ratio_and_is_centred() {
    // A vertical bar 4 wide and 40 tall on 100×100: 2×20 after scaling.
    let image = GrayImage::from_fn(100, 100, |x, y| Luma([if (10..14).contains(&x) && (50..90).contains(&y) { 255 } else { 0 }]));
    let digit = fit(&png(image));
    let columns: Vec<usize> = (0..SIDE).filter(|&x| (0..SIDE).any(|y| digit.pixels[y * SIDE + x] > 0.5)).collect();
    let rows: Vec<usize> = (0..SIDE).filter(|&y| (0..SIDE).any(|x| digit.pixels[y * SIDE + x] > 0.5)).collect();
    // Centres of mass 0.5 and 9.5 in the patch move to 14 (rounded): columns 14–15, rows 5–24.
    assert_eq!(columns, vec![14, 15]);
    assert_eq!(rows, (5..25).collect::<Vec<_>>());
}

#[test]
fn garbage_and_other_formats_fail_with_an_error() {
    assert_eq!(digit_from_image_bytes(b"").unwrap_err(), ImageError::UnknownFormat);
    assert_eq!(digit_from_image_bytes(b"definitely not an image").unwrap_err(), ImageError::UnknownFormat);
    assert_eq!(digit_from_image_bytes(b"GIF89a\x01\x00\x01\x00").unwrap_err(), ImageError::UnsupportedFormat("GIF".into()));
}

#[test]
fn damaged_files_fail_without_panicking() {
    let bytes = png(mnist_digits()[0].clone());
    for len in [8, 20, 33, 40, bytes.len() / 2, bytes.len() - 13] {
        assert!(matches!(digit_from_image_bytes(&bytes[..len]), Err(ImageError::Damaged(_))), "first {len} bytes");
    }
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    assert!(digit_from_image_bytes(&flipped).is_err());
    let mut jpeg = Vec::new();
    JpegEncoder::new(&mut jpeg).encode_image(&mnist_digits()[0]).unwrap();
    jpeg.truncate(jpeg.len() / 3);
    // A cut-off JPEG may decode partially (zune-jpeg fills the rest); it must not panic.
    let _ = digit_from_image_bytes(&jpeg);
}

/// A PNG whose header claims `width × height`, with a valid CRC but no pixel data.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(&ihdr);
    bytes.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    bytes
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn a_header_claiming_a_huge_size_fails_before_allocating() {
    assert_eq!(digit_from_image_bytes(&png_header_only(100_000, 100_000)).unwrap_err(), ImageError::TooLarge);
    assert_eq!(digit_from_image_bytes(&png_header_only(8193, 1)).unwrap_err(), ImageError::TooLarge);
    // Within the limits but without pixel data: damaged, not a huge read.
    assert!(matches!(digit_from_image_bytes(&png_header_only(4000, 4000)), Err(ImageError::Damaged(_))));
    // A real JPEG whose frame header (SOF0) is patched to claim 60000×60000.
    let mut jpeg = Vec::new();
    JpegEncoder::new(&mut jpeg).encode_image(&mnist_digits()[0]).unwrap();
    let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).expect("a baseline JPEG");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xea, 0x60, 0xea, 0x60]);
    assert_eq!(digit_from_image_bytes(&jpeg).unwrap_err(), ImageError::TooLarge);
}

#[test]
fn files_are_read_and_errors_name_them() {
    let dir = temp_dir("image");
    let good = dir.join("seven.png");
    std::fs::write(&good, png(mnist_digits()[0].clone())).unwrap();
    assert_eq!(read_digit_image(&good).unwrap(), fit(&png(mnist_digits()[0].clone())));

    let bad = dir.join("notes.png");
    std::fs::write(&bad, "just text").unwrap();
    match read_digit_image(&bad) {
        Err(e @ Error::Data { .. }) => assert_eq!(e.to_string(), format!("{}: not a PNG or JPEG image", bad.display())),
        other => panic!("expected a data error, got {other:?}"),
    }
    let missing = dir.join("missing.png");
    match read_digit_image(&missing) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().starts_with(&format!("{}: ", missing.display())), "{e}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    // A folder is not a regular file: refused as data, naming it.
    assert!(matches!(read_digit_image(&dir), Err(Error::Data { path, .. }) if path == dir));
}
