//! Why a payment-QR payload could not be built: one error type for every standard, with
//! stable codes (the engine maps them all to `payload_invalid`) and plain sentences.

/// Why a payment payload could not be built (or parsed).
///
/// Messages are plain sentences meant for a shop owner; [`PayloadError::code`] is a stable
/// identifier for programs (translations, tests, UI field highlighting).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// A required field is empty.
    #[error("The {field} is missing.")]
    Missing { field: &'static str },

    /// A field is longer than its standard allows (counted in characters).
    #[error("The {field} can be {max} characters at most; it has {actual}.")]
    TooLong {
        field: &'static str,
        max: usize,
        actual: usize,
    },

    /// A field holds a line break, tab or other control character.
    #[error(
        "The {field} contains a line break or another control character, which a payment code cannot carry."
    )]
    ControlCharacter { field: &'static str },

    /// A character cannot be written in the chosen character set (EPC character set 2).
    #[error("The {field} contains “{character}”, which {charset} cannot represent.")]
    NotInCharacterSet {
        field: &'static str,
        character: char,
        charset: &'static str,
    },

    /// A character is outside the characters the standard allows in this field.
    #[error("The {field} contains “{character}”; {allowed}.")]
    CharacterNotAllowed {
        field: &'static str,
        character: char,
        allowed: &'static str,
    },

    /// A short coded field (MCC, country, purpose code, …) does not have its required shape.
    #[error("The {field} must be {expected}; “{value}” is not.")]
    BadFormat {
        field: &'static str,
        expected: &'static str,
        value: String,
    },

    /// The IBAN is not two letters, two digits and then letters and digits.
    #[error(
        "“{iban}” is not an IBAN: an IBAN starts with a two-letter country code and two check digits, followed by letters and digits only."
    )]
    IbanFormat { iban: String },

    /// The IBAN's country does not issue IBANs (not in the ISO 13616 registry).
    #[error(
        "The IBAN {iban} starts with “{country}”, which is not a country in the IBAN registry."
    )]
    IbanUnknownCountry { iban: String, country: String },

    /// The IBAN has the wrong length for its country.
    #[error("An IBAN from {country} has {expected} characters; {iban} has {actual}.")]
    IbanLength {
        iban: String,
        country: String,
        expected: usize,
        actual: usize,
    },

    /// Letters and digits are not where the country's account format puts them.
    #[error(
        "The IBAN {iban} does not follow the account number format of {country} (letters and digits in the wrong places)."
    )]
    IbanStructure { iban: String, country: String },

    /// The mod-97 check (ISO 7064) fails.
    #[error("The IBAN {iban} has a wrong check digit.")]
    IbanChecksum { iban: String },

    /// The BIC is not 8 or 11 characters of the form bank(4 letters), country(2 letters),
    /// location(2), optional branch(3).
    #[error(
        "“{bic}” is not a BIC: a BIC has 8 or 11 characters (4-letter bank code, 2-letter country code, 2-character location, optional 3-character branch)."
    )]
    BicInvalid { bic: String },

    /// The BIC was left out where the standard requires it.
    #[error("The BIC of the beneficiary's bank is required here: {reason}.")]
    BicRequired { reason: &'static str },

    /// A structured creditor reference that is not ISO 11649 ("RF" + 2 check digits + up
    /// to 21 letters and digits).
    #[error(
        "“{reference}” is not an ISO 11649 creditor reference: it starts with RF and two check digits, followed by 1 to 21 letters and digits."
    )]
    CreditorReferenceInvalid { reference: String },

    /// The ISO 11649 creditor reference fails its mod-97 check.
    #[error("The creditor reference {reference} has a wrong check digit.")]
    CreditorReferenceChecksum { reference: String },

    /// Amount zero or below.
    #[error("The amount must be more than zero; it is {amount}.")]
    AmountNotPositive { amount: String },

    /// Amount over the standard's maximum.
    #[error("The amount can be {max} at most; it is {amount}.")]
    AmountTooLarge { max: String, amount: String },

    /// Currency code not in ISO 4217 (as far as this crate knows it).
    #[error("“{code}” is not an ISO 4217 currency code known here.")]
    UnknownCurrency { code: String },

    /// The whole payload is over the standard's size limit.
    #[error("The {standard} payload can be {max} {unit} at most; this one has {actual}.")]
    PayloadTooLong {
        standard: &'static str,
        max: usize,
        actual: usize,
        unit: &'static str,
    },

    /// EMVCo: no merchant account information data object.
    #[error(
        "A merchant-presented QR code needs at least one merchant account (data objects 02 to 51)."
    )]
    NoMerchantAccount,

    /// EMVCo: an ID outside the range its kind of data object may use.
    #[error("The {what} uses IDs {range}; {id:02} is outside that range.")]
    IdOutOfRange {
        what: &'static str,
        range: &'static str,
        id: u8,
    },

    /// EMVCo: the same ID twice at one level.
    #[error("The ID {id:02} appears twice in the {what}.")]
    DuplicateId { what: &'static str, id: u8 },

    /// Pix: the key is none of CPF, CNPJ, e-mail, +55 phone number or random key (EVP).
    #[error(
        "“{key}” is not a Pix key: use a CPF (11 digits), a CNPJ (14 characters), an e-mail address, a phone number starting with +55, or a random key (EVP)."
    )]
    PixKeyUnrecognized { key: String },

    /// Pix: CPF whose check digits are wrong.
    #[error("The CPF {cpf} has wrong check digits.")]
    CpfCheckDigits { cpf: String },

    /// Pix: CNPJ whose check digits are wrong.
    #[error("The CNPJ {cnpj} has wrong check digits.")]
    CnpjCheckDigits { cnpj: String },

    /// Pix: e-mail key that is not a plain address (or is longer than 77 characters).
    #[error("“{key}” is not an e-mail address that can be a Pix key (at most 77 characters).")]
    PixEmailInvalid { key: String },

    /// Pix: phone key that is not +55, area code and an 8- or 9-digit number.
    #[error(
        "“{key}” is not a Brazilian phone number for a Pix key: write it as +55, the 2-digit area code and the 8- or 9-digit number."
    )]
    PixPhoneInvalid { key: String },

    /// Pix: the transaction id (txid, data object 62-05) is not 1–25 letters and digits.
    #[error(
        "The Pix transaction id can hold only letters and digits, 25 at most (or be “***” for none); “{txid}” does not fit."
    )]
    PixTxidInvalid { txid: String },

    /// UPI: the virtual payment address is not `handle@psp`.
    #[error(
        "“{vpa}” is not a UPI address: it looks like name@bank, with letters, digits, dots, hyphens or underscores before the @ and letters or digits after it."
    )]
    UpiVpaInvalid { vpa: String },

    /// A payload given to a parser is not well-formed.
    #[error("This is not a valid {standard} payload: {detail}.")]
    Malformed {
        standard: &'static str,
        detail: String,
    },

    /// EMVCo: the CRC in data object 63 does not match the payload.
    #[error("The payload's checksum says {stated}, but its content gives {computed}.")]
    CrcMismatch { stated: String, computed: String },
}

impl PayloadError {
    /// A stable, machine-readable identifier of the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "missing",
            Self::TooLong { .. } => "too_long",
            Self::ControlCharacter { .. } => "control_character",
            Self::NotInCharacterSet { .. } => "not_in_character_set",
            Self::CharacterNotAllowed { .. } => "character_not_allowed",
            Self::BadFormat { .. } => "bad_format",
            Self::IbanFormat { .. } => "iban_format",
            Self::IbanUnknownCountry { .. } => "iban_unknown_country",
            Self::IbanLength { .. } => "iban_length",
            Self::IbanStructure { .. } => "iban_structure",
            Self::IbanChecksum { .. } => "iban_checksum",
            Self::BicInvalid { .. } => "bic_invalid",
            Self::BicRequired { .. } => "bic_required",
            Self::CreditorReferenceInvalid { .. } => "creditor_reference_invalid",
            Self::CreditorReferenceChecksum { .. } => "creditor_reference_checksum",
            Self::AmountNotPositive { .. } => "amount_not_positive",
            Self::AmountTooLarge { .. } => "amount_too_large",
            Self::UnknownCurrency { .. } => "unknown_currency",
            Self::PayloadTooLong { .. } => "payload_too_long",
            Self::NoMerchantAccount => "no_merchant_account",
            Self::IdOutOfRange { .. } => "id_out_of_range",
            Self::DuplicateId { .. } => "duplicate_id",
            Self::PixKeyUnrecognized { .. } => "pix_key_unrecognized",
            Self::CpfCheckDigits { .. } => "cpf_check_digits",
            Self::CnpjCheckDigits { .. } => "cnpj_check_digits",
            Self::PixEmailInvalid { .. } => "pix_email_invalid",
            Self::PixPhoneInvalid { .. } => "pix_phone_invalid",
            Self::PixTxidInvalid { .. } => "pix_txid_invalid",
            Self::UpiVpaInvalid { .. } => "upi_vpa_invalid",
            Self::Malformed { .. } => "malformed",
            Self::CrcMismatch { .. } => "crc_mismatch",
        }
    }

    /// The name of the field the error is about, where there is one (as used in the message).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Missing { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacter { field }
            | Self::NotInCharacterSet { field, .. }
            | Self::CharacterNotAllowed { field, .. }
            | Self::BadFormat { field, .. } => Some(field),
            Self::IbanFormat { .. }
            | Self::IbanUnknownCountry { .. }
            | Self::IbanLength { .. }
            | Self::IbanStructure { .. }
            | Self::IbanChecksum { .. } => Some("IBAN"),
            Self::BicInvalid { .. } | Self::BicRequired { .. } => Some("BIC"),
            Self::CreditorReferenceInvalid { .. } | Self::CreditorReferenceChecksum { .. } => {
                Some("creditor reference")
            }
            Self::AmountNotPositive { .. } | Self::AmountTooLarge { .. } => Some("amount"),
            Self::UnknownCurrency { .. } => Some("currency"),
            Self::PixKeyUnrecognized { .. }
            | Self::CpfCheckDigits { .. }
            | Self::CnpjCheckDigits { .. }
            | Self::PixEmailInvalid { .. }
            | Self::PixPhoneInvalid { .. } => Some("Pix key"),
            Self::PixTxidInvalid { .. } => Some("transaction id"),
            Self::UpiVpaInvalid { .. } => Some("UPI address"),
            Self::PayloadTooLong { .. }
            | Self::NoMerchantAccount
            | Self::IdOutOfRange { .. }
            | Self::DuplicateId { .. }
            | Self::Malformed { .. }
            | Self::CrcMismatch { .. } => None,
        }
    }
}
