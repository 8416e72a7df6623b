//! The one error type of the letter module. Messages are internal (English) and never
//! carry a secret: a field is named, its value is not.

/// Why a credentials letter could not be made, encrypted or packed.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    /// A value the letter cannot do without is empty.
    #[error("the letter's {field} is empty")]
    EmptyField { field: &'static str },

    /// A value has a character the embedded fonts cannot draw, or a control character.
    /// The character itself is not named: the field may be the password.
    #[error("the letter's {field} contains a character the embedded font cannot draw")]
    UnsupportedCharacter { field: &'static str },

    /// A value is too long to be printed on the page without breaking it.
    #[error("the letter's {field} does not fit on the page")]
    DoesNotFit { field: &'static str },

    /// An embedded font could not be read or subset (a build defect, not bad input).
    #[error("the embedded font {font} cannot be used: {reason}")]
    Font { font: &'static str, reason: String },

    /// A cipher password shorter than the minimum was given to encrypt a letter.
    #[error("the cipher password is shorter than {min} characters")]
    CipherPasswordTooShort { min: usize },

    /// A cipher password longer than a PDF or ZIP reader accepts (127 bytes in UTF-8).
    #[error("the cipher password is longer than {max} bytes")]
    CipherPasswordTooLong { max: usize },

    /// The name of the file inside the ZIP is empty or holds a path.
    #[error("the file name inside the ZIP must be a plain, non-empty name")]
    InvalidFileName,

    /// The PDF could not be written, read back or encrypted.
    #[error("the PDF could not be processed")]
    Pdf(#[from] lopdf::Error),

    /// The ZIP archive could not be written.
    #[error("the encrypted ZIP could not be written")]
    Zip(#[from] zip::result::ZipError),

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}
