//! The fonts a letter is drawn with (DejaVu, embedded at build time) and how a font is
//! written into the PDF: as a Type 0 font over a subset of the TrueType font (CIDFontType2,
//! Identity-H, two bytes per glyph) with a ToUnicode map, so that every Polish letter is
//! drawn and text extraction gives back exactly the characters that were written.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, dictionary};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use crate::LetterError;

/// A TrueType font shipped in `assets/fonts/` (licence: `assets/fonts/LICENSE-DejaVu.txt`).
pub(super) struct EmbeddedFont {
    /// PostScript name.
    name: &'static str,
    /// Six capital letters naming the subset, as the PDF specification asks of a subset.
    subset_tag: &'static str,
    data: &'static [u8],
    /// A rough stem width for the font descriptor (readers use it only to synthesise).
    stem_v: i64,
}

pub(super) static DEJAVU_SANS: EmbeddedFont = EmbeddedFont {
    name: "DejaVuSans",
    subset_tag: "KLZREG",
    data: include_bytes!("../../../assets/fonts/DejaVuSans.ttf"),
    stem_v: 80,
};

pub(super) static DEJAVU_SANS_BOLD: EmbeddedFont = EmbeddedFont {
    name: "DejaVuSans-Bold",
    subset_tag: "KLZBLD",
    data: include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf"),
    stem_v: 140,
};

pub(super) static DEJAVU_SANS_MONO: EmbeddedFont = EmbeddedFont {
    name: "DejaVuSansMono",
    subset_tag: "KLZMON",
    data: include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf"),
    stem_v: 80,
};

/// One font as used on a page: which glyphs were drawn, under which new glyph ids, for
/// which characters.
pub(super) struct FontUse {
    font: &'static EmbeddedFont,
    face: Face<'static>,
    remapper: GlyphRemapper,
    /// New glyph id → the character it stands for (for ToUnicode).
    characters: BTreeMap<u16, char>,
}

impl FontUse {
    pub(super) fn load(font: &'static EmbeddedFont) -> Result<Self, LetterError> {
        let face = Face::parse(font.data, 0).map_err(|e| LetterError::Font {
            font: font.name,
            reason: e.to_string(),
        })?;
        Ok(Self {
            font,
            face,
            remapper: GlyphRemapper::new(),
            characters: BTreeMap::new(),
        })
    }

    fn glyph(&self, c: char) -> Option<GlyphId> {
        if c.is_control() {
            return None;
        }
        self.face.glyph_index(c).filter(|g| g.0 != 0)
    }

    /// Advance width of a glyph in thousandths of the font size (PDF glyph space).
    fn advance(&self, glyph: GlyphId) -> i64 {
        let advance = i64::from(self.face.glyph_hor_advance(glyph).unwrap_or(0));
        self.scale(advance)
    }

    fn scale(&self, units: i64) -> i64 {
        let per_em = i64::from(self.face.units_per_em());
        (units * 1000 + per_em / 2).div_euclid(per_em)
    }

    /// Width of `text` at `size` points, or `None` when a character has no glyph.
    pub(super) fn width(&self, text: &str, size: f32) -> Option<f32> {
        let mut total = 0i64;
        for c in text.chars() {
            total += self.advance(self.glyph(c)?);
        }
        // Widths are small integers (thousandths of an em times a few hundred glyphs).
        Some(total as f32 * size / 1000.0)
    }

    /// `text` as the two-byte codes of a Type 0 font with Identity-H: the new glyph ids of
    /// the subset. `None` when a character has no glyph.
    pub(super) fn encode(&mut self, text: &str) -> Option<Vec<u8>> {
        let mut codes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = self.glyph(c)?;
            let new = self.remapper.remap(glyph.0);
            self.characters.entry(new).or_insert(c);
            codes.extend_from_slice(&new.to_be_bytes());
        }
        Some(codes)
    }

    /// Writes the font (subset, descriptor, CID font, ToUnicode, Type 0 font) into `doc`
    /// and returns the Type 0 font's id.
    pub(super) fn write(self, doc: &mut Document) -> Result<ObjectId, LetterError> {
        let font = self.font;
        let subset =
            subsetter::subset(font.data, 0, &self.remapper).map_err(|e| LetterError::Font {
                font: font.name,
                reason: e.to_string(),
            })?;
        let base_font = format!("{}+{}", font.subset_tag, font.name);

        let mut file = Stream::new(dictionary! { "Length1" => subset.len() as i64 }, subset);
        file.compress()?;
        let file_id = doc.add_object(file);

        let bbox = self.face.global_bounding_box();
        let flags = if self.face.is_monospaced() {
            1 | 32
        } else {
            32
        };
        let descriptor_id = doc.add_object(dictionary! {
            "Type" => "FontDescriptor",
            "FontName" => Object::Name(base_font.clone().into_bytes()),
            "Flags" => flags,
            "FontBBox" => vec![
                self.scale(bbox.x_min.into()).into(),
                self.scale(bbox.y_min.into()).into(),
                self.scale(bbox.x_max.into()).into(),
                self.scale(bbox.y_max.into()).into(),
            ],
            "ItalicAngle" => 0,
            "Ascent" => self.scale(self.face.ascender().into()),
            "Descent" => self.scale(self.face.descender().into()),
            "CapHeight" => self.scale(self.face.capital_height().unwrap_or(self.face.ascender()).into()),
            "StemV" => font.stem_v,
            "FontFile2" => file_id,
        });

        // New glyph ids run from 0 without gaps: one run of widths covers them all.
        let widths: Vec<Object> = self
            .remapper
            .remapped_gids()
            .map(|old| Object::Integer(self.advance(GlyphId(old))))
            .collect();
        let cid_font_id = doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "CIDFontType2",
            "BaseFont" => Object::Name(base_font.clone().into_bytes()),
            "CIDSystemInfo" => dictionary! {
                "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("Identity"),
                "Supplement" => 0,
            },
            "FontDescriptor" => descriptor_id,
            "DW" => 1000,
            "W" => vec![0.into(), Object::Array(widths)],
            "CIDToGIDMap" => "Identity",
        });

        let mut to_unicode = Stream::new(
            Dictionary::new(),
            to_unicode_cmap(&self.characters).into_bytes(),
        );
        to_unicode.compress()?;
        let to_unicode_id = doc.add_object(to_unicode);

        Ok(doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => Object::Name(base_font.into_bytes()),
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![cid_font_id.into()],
            "ToUnicode" => to_unicode_id,
        }))
    }
}

/// A ToUnicode CMap mapping each two-byte code to its character (UTF-16BE, so characters
/// outside the BMP work too).
fn to_unicode_cmap(characters: &BTreeMap<u16, char>) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &char)> = characters.iter().collect();
    // A bfchar section may hold at most 100 entries.
    for chunk in entries.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
        for (code, c) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{code:04X}> <{hex}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

/// A PDF hex string: how two-byte codes are best written in a content stream.
pub(super) fn hex_string(codes: Vec<u8>) -> Object {
    Object::String(codes, StringFormat::Hexadecimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_polish_letter_has_a_glyph_in_each_font() {
        for font in [&DEJAVU_SANS, &DEJAVU_SANS_BOLD, &DEJAVU_SANS_MONO] {
            let used = FontUse::load(font).unwrap();
            assert!(
                used.width("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ#-_ .:/", 10.0).is_some(),
                "{}",
                font.name
            );
        }
    }

    #[test]
    fn a_control_character_has_no_glyph() {
        let used = FontUse::load(&DEJAVU_SANS).unwrap();
        assert!(used.width("a\u{7}b", 10.0).is_none());
    }

    #[test]
    fn the_to_unicode_map_names_each_code_once() {
        let mut used = FontUse::load(&DEJAVU_SANS).unwrap();
        let codes = used.encode("Żak ż").unwrap();
        assert_eq!(codes.len(), 10);
        let cmap = to_unicode_cmap(&used.characters);
        assert!(cmap.contains("<017B>"), "{cmap}");
        assert!(cmap.contains("<017C>"), "{cmap}");
        assert!(cmap.contains("5 beginbfchar"), "{cmap}");
    }
}
